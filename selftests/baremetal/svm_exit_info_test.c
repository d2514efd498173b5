// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_exit_info_test: what the emulated CPU writes into the VMCB at #VMEXIT,
 * checked on bare metal (no L1 kernel) so that the hypervisor's own state
 * can be chosen freely: paging off or on, EFER.NXE clear, CR4.SMEP set.
 *
 *   1. a VMMCALL intercept stores EXITCODE 0x81 (control case)
 *   2. a VMCB without the VMRUN intercept fails VMRUN with VMEXIT_INVALID,
 *      the 64-bit -1 in EXITCODE ("VMRUN", consistency checks)
 *   3. as 2, for ASID 0
 *   4. with nested paging, a VMMCALL still exits with 0x81 (control case)
 *   5. a reserved bit in a nested PML4E gives #NPF with EXITINFO1 P|RSVD|US
 *      and bit 32 (fault on the final guest-physical address), EXITINFO2
 *      the address ("Nested Page Fault", its error code is as for #PF, and
 *      nested accesses are user accesses)
 *   6. as 5, for a nested PDPTE
 *   7. a not-present nested PDE, host with CR4.SMEP and EFER.NXE clear: the
 *      fetch sets I/D in EXITINFO1, which is defined when NX or SMEP is on
 *   8. as 7 with SMEP off: I/D stays clear
 *
 * The guest runs in 32-bit protected mode with paging off, so its first
 * instruction fetch is the first access that nested paging translates.
 */
#include "svm.h"

#define PTE_RSVD51		(1ull << 51)	/* above MAXPHYADDR */

#define PF_P			(1ull << 0)
#define PF_US			(1ull << 2)
#define PF_RSVD			(1ull << 3)
#define PF_ID			(1ull << 4)
#define NPF_FINAL_GPA		(1ull << 32)

#define CR4_SMEP		(1ull << 20)

static uint64_t npt_pml4[512] __aligned(4096);
static uint64_t npt_pdpt[512] __aligned(4096);
static uint64_t npt_pd[512] __aligned(4096);

extern const char guest_vmmcall[];

/* The guest: 32-bit code, paging off. */
asm(".pushsection .text\n"
    ".code32\n"
    "guest_vmmcall:\n"
    "	vmmcall\n"
    "	hlt\n"
    ".code64\n"
    ".popsection");

/* Nested tables identity-mapping the first GiB with 2 MiB user pages. */
static void npt_init(void)
{
	int i;

	memset(npt_pml4, 0, sizeof(npt_pml4));
	memset(npt_pdpt, 0, sizeof(npt_pdpt));
	npt_pml4[0] = (uint64_t)npt_pdpt | PTE_P | PTE_RW | PTE_US;
	npt_pdpt[0] = (uint64_t)npt_pd | PTE_P | PTE_RW | PTE_US;
	for (i = 0; i < 512; i++)
		npt_pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_RW | PTE_US |
			    PTE_PS;
}

static void check_exit(const char *what, uint64_t want_code,
		       uint64_t want_info1, uint64_t want_info2)
{
	uint64_t code = svm_run();
	uint64_t info1 = vmcb_r64(VMCB_EXITINFO1);
	uint64_t info2 = vmcb_r64(VMCB_EXITINFO2);
	bool ok = code == want_code;

	if (want_code == SVM_EXIT_NPF)
		ok = ok && info1 == want_info1 && info2 == want_info2;
	tap_result(ok, "%s: EXITCODE 0x%lx EXITINFO1 0x%lx EXITINFO2 0x%lx "
		   "(want 0x%lx 0x%lx 0x%lx)", what, code, info1, info2,
		   want_code, want_info1, want_info2);
}

static void set_smep(bool on)
{
	uint64_t cr4;

	asm volatile("mov %%cr4, %0" : "=r" (cr4));
	cr4 = on ? cr4 | CR4_SMEP : cr4 & ~CR4_SMEP;
	asm volatile("mov %0, %%cr4" : : "r" (cr4));
}

int main(void)
{
	uint64_t gpa = (uint64_t)guest_vmmcall;
	uint64_t fetch_fault = PF_US | NPF_FINAL_GPA;
	uint32_t a, b, c, d;

	svm_require(SVM_FEAT_NPT);
	cpuid(7, 0, &a, &b, &c, &d);
	if (!(b & (1u << 7)))
		tap_skip_all("no SMEP");

	tap_plan(8);
	svm_enable();

	vmcb_init(guest_vmmcall, 0);
	check_exit("VMMCALL", SVM_EXIT_VMMCALL, 0, 0);

	vmcb_init(guest_vmmcall, 0);
	vmcb_w32(VMCB_INTERCEPT_MISC2, MISC2_VMMCALL);
	check_exit("no VMRUN intercept", SVM_EXIT_INVALID, 0, 0);

	vmcb_init(guest_vmmcall, 0);
	vmcb_w32(VMCB_ASID, 0);
	check_exit("ASID 0", SVM_EXIT_INVALID, 0, 0);

	npt_init();
	vmcb_init(guest_vmmcall, (uint64_t)npt_pml4);
	check_exit("VMMCALL under nested paging", SVM_EXIT_VMMCALL, 0, 0);

	npt_init();
	npt_pml4[0] |= PTE_RSVD51;
	vmcb_init(guest_vmmcall, (uint64_t)npt_pml4);
	check_exit("reserved bit in a nested PML4E", SVM_EXIT_NPF,
		   PF_P | PF_RSVD | fetch_fault, gpa);

	npt_init();
	npt_pdpt[0] |= PTE_RSVD51;
	vmcb_init(guest_vmmcall, (uint64_t)npt_pml4);
	check_exit("reserved bit in a nested PDPTE", SVM_EXIT_NPF,
		   PF_P | PF_RSVD | fetch_fault, gpa);

	npt_init();
	npt_pd[gpa >> 21] = 0;
	set_smep(true);
	vmcb_init(guest_vmmcall, (uint64_t)npt_pml4);
	check_exit("not-present nested PDE, host SMEP", SVM_EXIT_NPF,
		   fetch_fault | PF_ID, gpa);

	set_smep(false);
	vmcb_init(guest_vmmcall, (uint64_t)npt_pml4);
	check_exit("not-present nested PDE, no host SMEP or NX", SVM_EXIT_NPF,
		   fetch_fault, gpa);

	return tap_exit_status();
}
