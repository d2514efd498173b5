// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_vmload_vmsave_test: a guest's VMLOAD and VMSAVE exit when, and only
 * when, their intercept bits say so (bits 2 and 3 of the second
 * miscellaneous intercept vector, VMCB 0x10; exit codes 0x82, 0x83).  AMD
 * APM vol. 2, "Instruction Intercepts": an instruction whose intercept
 * bit is clear executes in the guest.  Without virtual VMLOAD/VMSAVE
 * (VMCB 0xb8 bit 1, which needs nested paging and 64-bit mode) rAX is then
 * a system-physical address, with or without nested paging: this is why a
 * hypervisor must intercept them (KVM, CVE-2021-3656: an L2 running them
 * unintercepted "read/write portions of the host physical memory").
 *
 *   1. VMLOAD intercepted, no nested paging: exit 0x82 (control case)
 *   2. VMSAVE intercepted, no nested paging: exit 0x83 (control case)
 *   3. VMLOAD not intercepted, no nested paging: the guest loads
 *      KernelGsBase from the page at rAX and exits on its VMMCALL; the
 *      host sees the value (#VMEXIT does not reload VMLOAD state)
 *   4. VMSAVE not intercepted, no nested paging: the guest stores
 *      KernelGsBase into the page at rAX and exits on its VMMCALL
 *   5. as 4, under (identity) nested paging in 32-bit mode
 *
 * The guest is 32-bit code with paging off.  QEMU 7.2 exits on a guest's
 * VMLOAD or VMSAVE whenever nested paging is off or the guest is not in
 * 64-bit mode, whatever the intercept bits say: cases 3-5 fail there.
 */
#include "svm.h"

#define SVM_EXIT_VMLOAD		0x082
#define SVM_EXIT_VMSAVE		0x083
#define MISC2_VMLOAD		(1u << 2)
#define MISC2_VMSAVE		(1u << 3)
#define VMCB_KERNEL_GS_BASE	0x620
#define MSR_KERNEL_GS_BASE	0xc0000102

static uint8_t page[4096] __aligned(4096);
static uint64_t npt_pml4[512] __aligned(4096);
static uint64_t npt_pdpt[512] __aligned(4096);
static uint64_t npt_pd[512] __aligned(4096);

extern const char guest_vmload[], guest_vmsave[];

/* 32-bit guest snippets; EAX comes from VMCB_RAX. */
asm(".pushsection .text\n"
    ".code32\n"
    "guest_vmload:	vmload %eax\n"
    "		vmmcall\n"
    "guest_vmsave:	vmsave %eax\n"
    "		vmmcall\n"
    ".code64\n"
    ".popsection");

static void npt_init(void)
{
	const uint64_t tbl = PTE_P | PTE_RW | PTE_US;
	int i;

	npt_pml4[0] = (uint64_t)npt_pdpt | tbl;
	npt_pdpt[0] = (uint64_t)npt_pd | tbl;
	for (i = 0; i < 512; i++)
		npt_pd[i] = ((uint64_t)i << 21) | tbl | PTE_PS;
}

static uint64_t page_r64(unsigned int off)
{
	return *(volatile uint64_t *)(page + off);
}

/* Run the guest at @rip on the page, intercepting @misc2 (besides VMRUN
 * and VMMCALL), nested paging from @ncr3 unless 0. */
static uint64_t run(const void *rip, uint32_t misc2, uint64_t ncr3)
{
	vmcb_init(rip, ncr3);
	vmcb_w32(VMCB_INTERCEPT_MISC2, MISC2_VMRUN | MISC2_VMMCALL | misc2);
	vmcb_w64(VMCB_RAX, (uint64_t)page);
	return svm_run();
}

int main(void)
{
	const uint64_t kgs_host = 0xffff888012345000ull;
	const uint64_t kgs_page = 0xffff8880abcde000ull;
	uint64_t code, v;

	svm_require(SVM_FEAT_NPT);
	tap_plan(5);
	svm_enable();

	code = run(guest_vmload, MISC2_VMLOAD, 0);
	tap_result(code == SVM_EXIT_VMLOAD,
		   "VMLOAD intercepted: EXITCODE 0x%lx (want 0x82)", code);

	code = run(guest_vmsave, MISC2_VMSAVE, 0);
	tap_result(code == SVM_EXIT_VMSAVE,
		   "VMSAVE intercepted: EXITCODE 0x%lx (want 0x83)", code);

	/* The page holds the host's VMSAVE state but for KernelGsBase. */
	asm volatile("vmsave %%rax" : : "a" ((uint64_t)page) : "memory");
	*(volatile uint64_t *)(page + VMCB_KERNEL_GS_BASE) = kgs_page;
	wrmsr(MSR_KERNEL_GS_BASE, kgs_host);
	code = run(guest_vmload, 0, 0);
	v = rdmsr(MSR_KERNEL_GS_BASE);
	tap_result(code == SVM_EXIT_VMMCALL && v == kgs_page,
		   "VMLOAD not intercepted: EXITCODE 0x%lx, KernelGsBase 0x%lx "
		   "(want 0x81, 0x%lx)", code, v, kgs_page);

	memset(page, 0, sizeof(page));
	wrmsr(MSR_KERNEL_GS_BASE, kgs_host);
	code = run(guest_vmsave, 0, 0);
	v = page_r64(VMCB_KERNEL_GS_BASE);
	tap_result(code == SVM_EXIT_VMMCALL && v == kgs_host,
		   "VMSAVE not intercepted: EXITCODE 0x%lx, saved KernelGsBase "
		   "0x%lx (want 0x81, 0x%lx)", code, v, kgs_host);

	npt_init();
	memset(page, 0, sizeof(page));
	code = run(guest_vmsave, 0, (uint64_t)npt_pml4);
	v = page_r64(VMCB_KERNEL_GS_BASE);
	tap_result(code == SVM_EXIT_VMMCALL && v == kgs_host,
		   "VMSAVE not intercepted, nested paging, 32-bit guest: "
		   "EXITCODE 0x%lx, saved KernelGsBase 0x%lx (want 0x81, 0x%lx)",
		   code, v, kgs_host);

	return tap_exit_status();
}
