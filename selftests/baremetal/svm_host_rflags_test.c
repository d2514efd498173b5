// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_host_rflags_test: the host's RFLAGS.TF and RFLAGS.RF across VMRUN.
 * VMRUN is one instruction of the host that completes at the #VMEXIT: a
 * host with TF set gets its single-step #DB after the #VMEXIT, on the
 * instruction that follows VMRUN, and the guest is not single-stepped;
 * RF suppresses an instruction breakpoint on VMRUN and, as for any
 * instruction, the completion of VMRUN clears it (AMD APM vol. 2, "VMRUN",
 * "#VMEXIT"; the kvm-unit-tests svm test host_rflags checks the same).
 *
 *   1. TF set by the POPF just before VMRUN: one #DB, DR6.BS, at the
 *      instruction after VMRUN; the guest ran to its VMMCALL
 *   2. as 1 for a VMRUN that fails with VMEXIT_INVALID (ASID 0)
 *   3. RF set (by IRET) on VMRUN, a DR0 breakpoint on the instruction after
 *      VMRUN: the breakpoint fires there (DR6.B0), RF was cleared
 *   4. as 3 with a DR1 breakpoint on VMRUN as well: RF suppresses that one,
 *      only DR0's fires
 *
 * The host's #DB handler records RIP and DR6, clears TF and sets RF in
 * the interrupted RFLAGS and returns.  The guest is 32-bit code with
 * paging off and no IDT: a #DB in it would end in a shutdown.
 */
#include "svm.h"

#define DR6_B0			(1ull << 0)
#define DR6_B1			(1ull << 1)
#define DR6_BS			(1ull << 14)
#define DR6_INIT		0xffff0ff0ull

volatile uint64_t db_rip, db_dr6;
volatile uint32_t db_count;

extern const char host_db[], guest_vmmcall[];
extern const char vmrun_tf[], vmrun_tf_next[];
extern const char vmrun_rf[], vmrun_rf_next[];

asm(".pushsection .text\n"
    "host_db:\n"
    "	pushq %rax\n"
    "	movq 8(%rsp), %rax\n"
    "	movq %rax, db_rip(%rip)\n"
    "	movq %dr6, %rax\n"
    "	movq %rax, db_dr6(%rip)\n"
    "	incl db_count(%rip)\n"
    "	andq $~0x100, 24(%rsp)\n"	/* TF */
    "	orq $0x10000, 24(%rsp)\n"	/* RF: a breakpoint fires once */
    "	popq %rax\n"
    "	iretq\n"
    ".code32\n"
    "guest_vmmcall:\n"
    "	vmmcall\n"
    "	hlt\n"
    ".code64\n"
    ".popsection");

static void debug_reset(void)
{
	asm volatile("mov %0, %%dr7" : : "r" (0x400ull));
	asm volatile("mov %0, %%dr6" : : "r" (DR6_INIT));
	db_rip = 0;
	db_dr6 = 0;
	db_count = 0;
}

/* VMRUN with TF set by the POPF just before it. */
static __attribute__((noinline)) uint64_t svm_run_tf(void)
{
	asm volatile("clgi\n\t"
		     "pushfq\n\t"
		     "orq $0x100, (%%rsp)\n\t"
		     "popfq\n\t"
		     "vmrun_tf:\n\t"
		     "vmrun\n\t"
		     "vmrun_tf_next:\n\t"
		     "nop\n\t"
		     "nop\n\t"
		     "stgi"
		     : : "a" ((uint64_t)vmcb)
		     : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
		       "r11", "r12", "r13", "r14", "r15", "memory", "cc");
	return vmcb_r64(VMCB_EXITCODE);
}

/* VMRUN with RF set by the IRETQ that jumps to it. */
static __attribute__((noinline)) uint64_t svm_run_rf(void)
{
	asm volatile("clgi\n\t"
		     "movq %%rsp, %%rcx\n\t"
		     "pushq $0x10\n\t"
		     "pushq %%rcx\n\t"
		     "pushfq\n\t"
		     "orq $0x10000, (%%rsp)\n\t"
		     "pushq $0x08\n\t"
		     "leaq vmrun_rf(%%rip), %%rcx\n\t"
		     "pushq %%rcx\n\t"
		     "iretq\n\t"
		     "vmrun_rf:\n\t"
		     "vmrun\n\t"
		     "vmrun_rf_next:\n\t"
		     "nop\n\t"
		     "nop\n\t"
		     "stgi"
		     : : "a" ((uint64_t)vmcb)
		     : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
		       "r11", "r12", "r13", "r14", "r15", "memory", "cc");
	return vmcb_r64(VMCB_EXITCODE);
}

static void check_db(const char *what, uint64_t code, uint64_t want_code,
		     const char *want_rip, uint64_t want_dr6)
{
	uint64_t dr6_bits = db_dr6 & (DR6_B0 | DR6_B1 | DR6_BS);

	tap_result(code == want_code && db_count == 1 &&
		   db_rip == (uint64_t)want_rip && dr6_bits == want_dr6,
		   "%s: EXITCODE 0x%lx, %u #DB, at 0x%lx, DR6 B0/B1/BS 0x%lx "
		   "(want 0x%lx, 1 at 0x%lx, 0x%lx)", what, code, db_count,
		   db_rip, dr6_bits, want_code, (uint64_t)want_rip, want_dr6);
}

int main(void)
{
	uint64_t code;

	svm_require(0);
	tap_plan(4);
	svm_enable();
	bm_load_db_idt(host_db);

	debug_reset();
	vmcb_init(guest_vmmcall, 0);
	code = svm_run_tf();
	check_db("TF across VMRUN", code, SVM_EXIT_VMMCALL, vmrun_tf_next,
		 DR6_BS);

	debug_reset();
	vmcb_init(guest_vmmcall, 0);
	vmcb_w32(VMCB_ASID, 0);
	code = svm_run_tf();
	check_db("TF across a failing VMRUN", code, SVM_EXIT_INVALID,
		 vmrun_tf_next, DR6_BS);

	debug_reset();
	vmcb_init(guest_vmmcall, 0);
	asm volatile("mov %0, %%dr0" : : "r" ((uint64_t)vmrun_rf_next));
	asm volatile("mov %0, %%dr7" : : "r" (0x401ull));
	code = svm_run_rf();
	check_db("RF on VMRUN, breakpoint after it", code, SVM_EXIT_VMMCALL,
		 vmrun_rf_next, DR6_B0);

	debug_reset();
	vmcb_init(guest_vmmcall, 0);
	asm volatile("mov %0, %%dr0" : : "r" ((uint64_t)vmrun_rf_next));
	asm volatile("mov %0, %%dr1" : : "r" ((uint64_t)vmrun_rf));
	asm volatile("mov %0, %%dr7" : : "r" (0x405ull));
	code = svm_run_rf();
	check_db("RF on VMRUN, breakpoints on and after it", code,
		 SVM_EXIT_VMMCALL, vmrun_rf_next, DR6_B0);

	debug_reset();
	return tap_exit_status();
}
