// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_dr7_gd_test: DR7.GD, general detect.  With GD set, a MOV to or from
 * a debug register raises #DB, a fault (RIP of the MOV), with DR6.BD;
 * the processor clears GD when it enters the #DB handler (AMD APM vol. 2,
 * "Debug-Control Register (DR7)", "Debug-Status Register (DR6)").  In an
 * SVM guest the #DB comes before the intercept of the DR access: with the
 * #DB intercepted, the exit is #DB, not the DR intercept, and DR6 in the
 * VMCB has BD ("Exception Intercepts"; KVM's debug_regs selftest, DR7.GD
 * part, relies on it).
 *
 *   1. host, MOV from DR0 with GD: one #DB at the MOV, DR6.BD set, GD
 *      clear in the handler; the MOV then runs
 *   2. host, MOV to DR1 with GD: the same
 *   3. guest with GD, the #DB intercept and the DR0 read intercept, MOV
 *      from DR0: #VMEXIT 0x41 at the MOV with DR6.BD in the VMCB
 *   4. as 3 without GD: the DR0 read intercept, 0x20 (control case)
 *
 * The guest is 32-bit code with paging off.
 */
#include "svm.h"

#define SVM_EXIT_DB		(SVM_EXIT_EXCP_BASE + 1)
#define DR6_BD			(1ull << 13)
#define DR6_INIT		0xffff0ff0ull
#define DR7_GD			(1ull << 13)

volatile uint64_t db_rip, db_dr6, db_dr7;
volatile uint32_t db_count;

extern const char host_db[], host_mov_from[], host_mov_to[];
extern const char guest_mov_dr0[];

asm(".pushsection .text\n"
    "host_db:\n"
    "	pushq %rax\n"
    "	movq 8(%rsp), %rax\n"
    "	movq %rax, db_rip(%rip)\n"
    "	movq %dr6, %rax\n"
    "	movq %rax, db_dr6(%rip)\n"
    "	movq %dr7, %rax\n"
    "	movq %rax, db_dr7(%rip)\n"
    "	incl db_count(%rip)\n"
    "	popq %rax\n"
    "	iretq\n"
    ".code32\n"
    "guest_mov_dr0:\n"
    "	movl %dr0, %eax\n"
    "	vmmcall\n"
    ".code64\n"
    ".popsection");

static void debug_reset(uint64_t dr7)
{
	db_count = 0;
	db_rip = db_dr6 = db_dr7 = 0;
	asm volatile("mov %0, %%dr6" : : "r" (DR6_INIT));
	asm volatile("mov %0, %%dr7" : : "r" (dr7));
}

static __attribute__((noinline)) void host_gd_from(void)
{
	asm volatile("host_mov_from:\n\t"
		     "movq %%dr0, %%rax"
		     : : : "rax", "memory");
}

static __attribute__((noinline)) void host_gd_to(void)
{
	asm volatile("host_mov_to:\n\t"
		     "movq %%rax, %%dr1"
		     : : "a" (0ull) : "memory");
}

static void check_host(const char *what, const char *want)
{
	tap_result(db_count == 1 && db_rip == (uint64_t)want &&
		   (db_dr6 & DR6_BD) && !(db_dr7 & DR7_GD),
		   "%s: %u #DB, at 0x%lx, DR6 0x%lx, DR7 0x%lx in the handler "
		   "(want 1 at 0x%lx, BD set, GD clear)", what, db_count,
		   db_rip, db_dr6, db_dr7, (uint64_t)want);
}

static void check_guest(const char *what, uint64_t want_code, bool want_bd)
{
	uint64_t code = svm_run();
	uint64_t bd = vmcb_r64(VMCB_DR6) & DR6_BD;

	tap_result(code == want_code &&
		   vmcb_r64(VMCB_RIP) == (uint64_t)guest_mov_dr0 &&
		   !!bd == want_bd && !db_count,
		   "%s: EXITCODE 0x%lx RIP 0x%lx DR6 0x%lx, %u #DB in the host "
		   "(want 0x%lx 0x%lx BD %s, 0)", what, code, vmcb_r64(VMCB_RIP),
		   vmcb_r64(VMCB_DR6), db_count, want_code,
		   (uint64_t)guest_mov_dr0, want_bd ? "set" : "clear");
}

/* A guest reading DR0, with the #DB and DR0-read intercepts. */
static void guest_init(uint64_t dr7)
{
	vmcb_init(guest_mov_dr0, 0);
	vmcb_w32(VMCB_INTERCEPT_EXC, 1u << 1);
	vmcb_w32(VMCB_INTERCEPT_DR, 1u << 0);
	vmcb_w64(VMCB_DR7, dr7);
	vmcb_w64(VMCB_DR6, DR6_INIT);
}

int main(void)
{
	svm_require(0);
	tap_plan(4);
	svm_enable();
	bm_load_db_idt(host_db);

	debug_reset(0x400 | DR7_GD);
	host_gd_from();
	check_host("host, MOV from DR0 with GD", host_mov_from);

	debug_reset(0x400 | DR7_GD);
	host_gd_to();
	check_host("host, MOV to DR1 with GD", host_mov_to);

	debug_reset(0x400);
	guest_init(0x400 | DR7_GD);
	check_guest("guest with GD, #DB and DR0-read intercepts", SVM_EXIT_DB,
		    true);

	debug_reset(0x400);
	guest_init(0x400);
	check_guest("guest without GD, #DB and DR0-read intercepts",
		    SVM_EXIT_READ_DR0, false);

	return tap_exit_status();
}
