// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_decode_assist_test: with decode assists (CPUID 0x8000000a EDX bit 7),
 * a #VMEXIT tells the hypervisor what the intercepted instruction was about,
 * in EXITINFO1, so that it need not decode it (AMD APM vol. 2, "Decode
 * Assists"); KVM relies on it for MOV CRn/DRn and INVLPG as soon as the
 * CPUID bit is there.
 *
 *   1. CPUID announces decode assists
 *   2. MOV from CR0 to EBX: bit 63 (a MOV) and GPR 3
 *   3. MOV from ESI to CR4: bit 63 and GPR 6
 *   4. MOV from EBP to CR0: bit 63 and GPR 5
 *   5. LMSW, which also writes CR0 but is no MOV: bit 63 clear
 *   6. MOV from DR7 to EDX: GPR 2
 *   7. INVLPG 0x12345678: the linear address
 *   8. INT 0x42: the vector
 *
 * Stock QEMU 7.2 has no decode assists: every case but the LMSW one fails.
 */
#include "svm.h"

#define MOV_CR_VALID	(1ull << 63)

extern const char guest_read_cr0[], guest_write_cr4[], guest_write_cr0[];
extern const char guest_lmsw[], guest_read_dr7[], guest_invlpg[];
extern const char guest_int42[];

/* 32-bit guest snippets; each one exits on its first instruction. */
asm(".pushsection .text\n"
    ".code32\n"
    "guest_read_cr0:	mov %cr0, %ebx\n"
    "			vmmcall\n"
    "guest_write_cr4:	mov %esi, %cr4\n"
    "			vmmcall\n"
    "guest_write_cr0:	mov %ebp, %cr0\n"
    "			vmmcall\n"
    "guest_lmsw:		lmsw %ax\n"
    "			vmmcall\n"
    "guest_read_dr7:	mov %dr7, %edx\n"
    "			vmmcall\n"
    "guest_invlpg:		invlpg 0x12345678\n"
    "			vmmcall\n"
    "guest_int42:		int $0x42\n"
    "			vmmcall\n"
    ".code64\n"
    ".popsection");

/* Run the guest at @rip with the given intercepts; check the exit. */
static void check(const char *what, const void *rip, unsigned int off,
		  uint32_t intercept, uint64_t want_code, uint64_t want_info1)
{
	uint64_t code, info1;

	vmcb_init(rip, 0);
	vmcb_w32(off, *(volatile uint32_t *)(vmcb + off) | intercept);
	code = svm_run();
	info1 = vmcb_r64(VMCB_EXITINFO1);
	tap_result(code == want_code && info1 == want_info1,
		   "%s: EXITCODE 0x%lx EXITINFO1 0x%lx (want 0x%lx 0x%lx)",
		   what, code, info1, want_code, want_info1);
}

int main(void)
{
	uint32_t a, b, c, d;

	svm_require(0);
	tap_plan(8);
	svm_enable();

	cpuid(0x8000000a, 0, &a, &b, &c, &d);
	tap_result(d & SVM_FEAT_DECODEASSISTS,
		   "CPUID 0x8000000a EDX 0x%x has DecodeAssists (bit 7)", d);

	check("MOV CR0 -> EBX", guest_read_cr0, VMCB_INTERCEPT_CR, 1u << 0,
	      SVM_EXIT_READ_CR0, MOV_CR_VALID | 3);
	check("MOV ESI -> CR4", guest_write_cr4, VMCB_INTERCEPT_CR,
	      1u << (16 + 4), SVM_EXIT_WRITE_CR0 + 4, MOV_CR_VALID | 6);
	check("MOV EBP -> CR0", guest_write_cr0, VMCB_INTERCEPT_CR, 1u << 16,
	      SVM_EXIT_WRITE_CR0, MOV_CR_VALID | 5);
	check("LMSW AX", guest_lmsw, VMCB_INTERCEPT_CR, 1u << 16,
	      SVM_EXIT_WRITE_CR0, 0);
	check("MOV DR7 -> EDX", guest_read_dr7, VMCB_INTERCEPT_DR, 1u << 7,
	      SVM_EXIT_READ_DR0 + 7, 2);
	check("INVLPG 0x12345678", guest_invlpg, VMCB_INTERCEPT_MISC1,
	      MISC1_INVLPG, SVM_EXIT_INVLPG, 0x12345678);
	check("INT 0x42", guest_int42, VMCB_INTERCEPT_MISC1, MISC1_INTN,
	      SVM_EXIT_SWINT, 0x42);

	return tap_exit_status();
}
