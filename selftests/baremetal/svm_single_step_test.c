// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_single_step_test: single-stepping over STI and MOV SS, in the host
 * and in an SVM guest whose #DB the hypervisor intercepts, as KVM does
 * for KVM_GUESTDBG_SINGLESTEP (the upstream debug_regs selftest).  STI
 * holds interrupts for one instruction but not the single-step trap,
 * which comes right after it; MOV SS and POP SS hold the trap too, until
 * after the next instruction (AMD APM vol. 2, "Single-Step", "Interrupt
 * Shadows"; vol. 3 STI, MOV).  An intercepted #DB exits with RIP after
 * the stepped instruction, DR6.BS in the VMCB, and INTERRUPT_SHADOW set
 * when that RIP is inside the shadow ("Exception Intercepts"); no #DB
 * reaches the host.
 *
 *   1. host, TF set by POPF, then STI: #DB right after the STI
 *   2. host, TF set by POPF, then MOV SS: #DB after the instruction that
 *      follows MOV SS (control case)
 *   3. guest with TF and the #DB intercept, STI first: #VMEXIT 0x41 with
 *      RIP after the STI, DR6.BS, INTERRUPT_SHADOW 1
 *   4. resuming 3: the next #DB exit is after the next instruction, with
 *      INTERRUPT_SHADOW 0
 *   5. guest, MOV SS first: the #DB exit comes after the instruction that
 *      follows MOV SS (control case)
 *
 * The guest is 32-bit code with paging off.
 */
#include "svm.h"

#define SVM_EXIT_DB		(SVM_EXIT_EXCP_BASE + 1)
#define VMCB_INT_STATE		0x068
#define DR6_BS			(1ull << 14)
#define DR6_INIT		0xffff0ff0ull
#define RFLAGS_TF		(1ull << 8)

volatile uint64_t db_rip;
volatile uint32_t db_count;

extern const char host_db[];
extern const char host_sti[], host_movss[], host_movss_next[];
extern const char guest_sti[], guest_sti_1[], guest_sti_2[];
extern const char guest_movss[], guest_movss_1[], guest_movss_2[];

asm(".pushsection .text\n"
    "host_db:\n"
    "	pushq %rax\n"
    "	movq 8(%rsp), %rax\n"
    "	movq %rax, db_rip(%rip)\n"
    "	incl db_count(%rip)\n"
    "	andq $~0x100, 24(%rsp)\n"	/* TF: one step only */
    "	popq %rax\n"
    "	iretq\n"
    ".code32\n"
    "guest_sti:\n"
    "	sti\n"
    "guest_sti_1:\n"
    "	xorl %eax, %eax\n"
    "guest_sti_2:\n"
    "	vmmcall\n"
    "guest_movss:\n"
    "	movl %eax, %ss\n"
    "guest_movss_1:\n"
    "	xorl %eax, %eax\n"
    "guest_movss_2:\n"
    "	vmmcall\n"
    ".code64\n"
    ".popsection");

/* Host: POPF sets TF, so the STI after it is the first stepped insn. */
static __attribute__((noinline)) void host_step_sti(void)
{
	asm volatile("pushfq\n\t"
		     "orq $0x100, (%%rsp)\n\t"
		     "popfq\n\t"
		     "host_sti:\n\t"
		     "sti\n\t"
		     "nop\n\t"
		     "nop\n\t"
		     "cli"
		     : : : "memory", "cc");
}

static __attribute__((noinline)) void host_step_movss(void)
{
	asm volatile("movl %%ss, %%ecx\n\t"
		     "pushfq\n\t"
		     "orq $0x100, (%%rsp)\n\t"
		     "popfq\n\t"
		     "host_movss:\n\t"
		     "movl %%ecx, %%ss\n\t"
		     "nop\n\t"
		     "host_movss_next:\n\t"
		     "nop\n\t"
		     "nop"
		     : : : "rcx", "memory", "cc");
}

static void check_host(const char *what, const char *want)
{
	tap_result(db_count == 1 && db_rip == (uint64_t)want,
		   "%s: %u #DB, at 0x%lx (want 1 at 0x%lx)", what, db_count,
		   db_rip, (uint64_t)want);
}

static void check_guest(const char *what, uint64_t code, const char *want,
			uint32_t want_shadow)
{
	uint32_t shadow = *(volatile uint32_t *)(vmcb + VMCB_INT_STATE) & 1;
	uint64_t bs = vmcb_r64(VMCB_DR6) & DR6_BS;

	tap_result(code == SVM_EXIT_DB && vmcb_r64(VMCB_RIP) == (uint64_t)want &&
		   bs && shadow == want_shadow && !db_count,
		   "%s: EXITCODE 0x%lx RIP 0x%lx DR6.BS %u INTERRUPT_SHADOW %u, "
		   "%u #DB in the host (want 0x41 0x%lx 1 %u, 0)", what, code,
		   vmcb_r64(VMCB_RIP), bs ? 1 : 0, shadow, db_count,
		   (uint64_t)want, want_shadow);
}

/* A guest at @rip with TF set and the #DB intercept. */
static void guest_init(const char *rip)
{
	vmcb_init(rip, 0);
	vmcb_w32(VMCB_INTERCEPT_EXC, 1u << 1);
	vmcb_w64(VMCB_RFLAGS, 0x2 | RFLAGS_TF);
	vmcb_w64(VMCB_RAX, 0x10);
}

/* Resume after a #DB exit, as KVM does: DR6 back to its initial value. */
static uint64_t resume(void)
{
	vmcb_w64(VMCB_DR6, DR6_INIT);
	return svm_run();
}

int main(void)
{
	uint64_t code;

	svm_require(0);
	tap_plan(5);
	svm_enable();
	bm_load_db_idt(host_db);
	/* Mask the 8259s: the host steps over an STI. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);

	db_count = 0;
	host_step_sti();
	check_host("host, STI", host_sti + 1);

	db_count = 0;
	host_step_movss();
	check_host("host, MOV SS", host_movss_next);

	db_count = 0;
	guest_init(guest_sti);
	code = svm_run();
	check_guest("guest, STI", code, guest_sti_1, 1);
	code = resume();
	check_guest("guest, the instruction after STI", code, guest_sti_2, 0);

	db_count = 0;
	guest_init(guest_movss);
	code = svm_run();
	check_guest("guest, MOV SS", code, guest_movss_2, 0);

	return tap_exit_status();
}
