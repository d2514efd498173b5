// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_cr0_sel_write_test: the selective CR0 write intercept (bit 5 of the
 * first miscellaneous intercept vector, VMCB 0x0c; exit code 0x65).  AMD
 * APM vol. 2, "CR0 Selective Write Intercept" and Table 15-7: a MOV to CR0
 * exits only when it changes a bit other than CR0.TS and CR0.MP, CLTS never
 * does, and "the LMSW instruction treats the selective CR0-write intercept
 * as a non-selective intercept (i.e., it intercepts regardless of the value
 * being written)"; when the CR0 write intercept (0x10) is set as well, it
 * takes priority.  LMSW and CLTS give no decode-assist information, so
 * EXITINFO1 is 0 for them.
 *
 *   1. MOV to CR0 setting CD: exit 0x65 (control case)
 *   2. MOV to CR0 setting MP only: no exit (control case)
 *   3. LMSW setting MP only: exit 0x65, EXITINFO1 0
 *   4. LMSW writing the MSW that CR0 already has: exit 0x65, EXITINFO1 0
 *   5. LMSW setting EM: exit 0x65, EXITINFO1 0 (control case)
 *   6. CLTS with CR0.TS set: no exit (control case)
 *   7. LMSW with the CR0 write intercept set too: exit 0x10 (control case)
 *
 * The guest is 32-bit code with paging off and CR0 = PE|ET.  QEMU 7.2
 * exits on an LMSW only when it changes a bit other than TS and MP: cases
 * 3 and 4 fail there.
 */
#include "svm.h"

#define SVM_EXIT_CR0_SEL_WRITE	0x065
#define MISC1_CR0_SEL_WRITE	(1u << 5)

#define CR0_PE			(1u << 0)
#define CR0_MP			(1u << 1)
#define CR0_EM			(1u << 2)
#define CR0_TS			(1u << 3)
#define CR0_ET			(1u << 4)
#define CR0_CD			(1u << 30)

extern const char guest_mov_cr0[], guest_lmsw[], guest_clts[];

/* 32-bit guest snippets; EAX comes from VMCB_RAX. */
asm(".pushsection .text\n"
    ".code32\n"
    "guest_mov_cr0:	mov %eax, %cr0\n"
    "		vmmcall\n"
    "guest_lmsw:	lmsw %ax\n"
    "		vmmcall\n"
    "guest_clts:	clts\n"
    "		vmmcall\n"
    ".code64\n"
    ".popsection");

/*
 * Run the guest at @rip with CR0 @cr0, EAX @rax and the selective CR0
 * write intercept, plus the CR0 write intercept if @cr0_write.
 */
static void check(const char *what, const void *rip, uint64_t cr0,
		  uint64_t rax, bool cr0_write, uint64_t want_code)
{
	uint64_t code, info1;
	bool ok;

	vmcb_init(rip, 0);
	vmcb_w64(VMCB_CR0, cr0);
	vmcb_w64(VMCB_RAX, rax);
	vmcb_w32(VMCB_INTERCEPT_MISC1, MISC1_HLT | MISC1_SHUTDOWN |
		 MISC1_CR0_SEL_WRITE);
	if (cr0_write)
		vmcb_w32(VMCB_INTERCEPT_CR, 1u << 16);
	code = svm_run();
	info1 = vmcb_r64(VMCB_EXITINFO1);
	ok = code == want_code;
	/* EXITINFO1 of a MOV to CR0 is not checked: bit 63 and the GPR */
	if (rip != guest_mov_cr0 && want_code != SVM_EXIT_VMMCALL)
		ok = ok && info1 == 0;
	tap_result(ok, "%s: EXITCODE 0x%lx EXITINFO1 0x%lx (want 0x%lx%s)",
		   what, code, info1, want_code,
		   rip != guest_mov_cr0 && want_code != SVM_EXIT_VMMCALL ?
		   " 0x0" : "");
}

int main(void)
{
	const uint64_t cr0 = CR0_PE | CR0_ET;

	svm_require(0);
	tap_plan(7);
	svm_enable();

	check("MOV to CR0 setting CD", guest_mov_cr0, cr0, cr0 | CR0_CD,
	      false, SVM_EXIT_CR0_SEL_WRITE);
	check("MOV to CR0 setting MP only", guest_mov_cr0, cr0, cr0 | CR0_MP,
	      false, SVM_EXIT_VMMCALL);
	check("LMSW setting MP only", guest_lmsw, cr0, CR0_PE | CR0_MP,
	      false, SVM_EXIT_CR0_SEL_WRITE);
	check("LMSW of the current MSW", guest_lmsw, cr0, CR0_PE, false,
	      SVM_EXIT_CR0_SEL_WRITE);
	check("LMSW setting EM", guest_lmsw, cr0, CR0_PE | CR0_EM, false,
	      SVM_EXIT_CR0_SEL_WRITE);
	check("CLTS with CR0.TS set", guest_clts, cr0 | CR0_TS, 0, false,
	      SVM_EXIT_VMMCALL);
	check("LMSW, CR0 write intercept too", guest_lmsw, cr0,
	      CR0_PE | CR0_MP, true, SVM_EXIT_WRITE_CR0);

	return tap_exit_status();
}
