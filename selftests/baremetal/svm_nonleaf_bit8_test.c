// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_nonleaf_bit8_test: AMD CPUs reserve bit 8 of a PML4E (the G bit of
 * a leaf entry), in the guest's own walk and in the nested walk alike,
 * whatever EFER.NXE says; they ignore it in non-leaf PDPEs and PDEs (AMD
 * APM vol. 2, "Long-Mode Page Translation", the PML4E format: bits 8:7
 * MBZ; KVM's __reset_rsvds_bits_mask(), nonleaf_bit8_rsvd for AMD, only at
 * the PML4E and PML5E levels since "bit 8 of non-leaf PDPEs is not
 * reserved").  A reserved bit set in a present entry gives #PF, or #NPF in
 * the nested walk, with P and RSVD in the error code.
 *
 * The guest's own walk: a 64-bit guest with its own 4-level tables, #PF
 * intercepted, reads from 512 GiB, which its PML4E 1 maps to 0:
 *   1. PML4E 1 clean: the read succeeds (control case)
 *   2. bit 8 in PML4E 1: #PF intercept, EXITINFO1 P|RSVD, EXITINFO2 the
 *      address
 *   3. as 2, guest EFER.NXE set: the same (bit 8 does not depend on NX)
 *   4. bit 8 in the non-leaf PDPE under PML4E 1: ignored, no fault
 *   5. bit 8 in a non-leaf PDE under it (4 KiB page): ignored, no fault
 * The nested walk: a 32-bit guest with paging off, nested tables
 * identity-mapping 1 GiB; its first fetch is the first nested walk:
 *   6. bit 8 in the nested PML4E: #NPF, EXITINFO1 P|RSVD|US and bit 32
 *      (final guest-physical address), EXITINFO2 the address
 *   7. as 6, host EFER.NXE set: the same, with I/D for the fetch
 *   8. bit 8 in the nested non-leaf PDPE: ignored, the guest runs
 *   9. the 64-bit guest of case 1 under nested paging whose PML4E has
 *      bit 8: #NPF on the guest's page table (bit 33), EXITINFO2 the
 *      guest-physical address of the guest's PML4E
 *
 * Stock QEMU 7.2 ignores bit 8 everywhere: cases 2, 3, 6, 7 and 9 fail.
 */
#include "svm.h"

#define PF_P			(1ull << 0)
#define PF_US			(1ull << 2)
#define PF_RSVD			(1ull << 3)
#define PF_ID			(1ull << 4)
#define NPF_FINAL_GPA		(1ull << 32)
#define NPF_GUEST_PT		(1ull << 33)

#define EFER_NXE		(1ull << 11)
#define SVM_EXIT_PF		(SVM_EXIT_EXCP_BASE + 14)

#define HIGH_VA			(1ull << 39)	/* PML4E 1 */

/* The guest's tables: PML4E 0 identity-maps 1 GiB, PML4E 1 maps 0 too. */
static uint64_t g_pml4[512] __aligned(4096);
static uint64_t g_pdpt[512] __aligned(4096);
static uint64_t g_pdpt_hi[512] __aligned(4096);
static uint64_t g_pd[512] __aligned(4096);
static uint64_t g_pd_hi[512] __aligned(4096);
static uint64_t g_pt_hi[512] __aligned(4096);
/* The nested tables: identity-map 1 GiB with 2 MiB pages. */
static uint64_t npt_pml4[512] __aligned(4096);
static uint64_t npt_pdpt[512] __aligned(4096);
static uint64_t npt_pd[512] __aligned(4096);

extern const char guest_read_high[], guest_vmmcall[];

asm(".pushsection .text\n"
    ".code64\n"
    "guest_read_high:\n"
    "	movabs $0x8000000000, %rcx\n"
    "	mov (%rcx), %rcx\n"
    "	vmmcall\n"
    "	hlt\n"
    ".code32\n"
    "guest_vmmcall:\n"
    "	vmmcall\n"
    "	hlt\n"
    ".code64\n"
    ".popsection");

/* @pd_2m: map the high GiB through 2 MiB pages, else through a 4 KiB PT */
static void guest_tables_init(bool pd_2m)
{
	const uint64_t tbl = PTE_P | PTE_RW;
	int i;

	memset(g_pml4, 0, sizeof(g_pml4));
	memset(g_pdpt, 0, sizeof(g_pdpt));
	memset(g_pdpt_hi, 0, sizeof(g_pdpt_hi));
	memset(g_pd_hi, 0, sizeof(g_pd_hi));
	memset(g_pt_hi, 0, sizeof(g_pt_hi));
	for (i = 0; i < 512; i++)
		g_pd[i] = ((uint64_t)i << 21) | tbl | PTE_PS;
	g_pml4[0] = (uint64_t)g_pdpt | tbl;
	g_pdpt[0] = (uint64_t)g_pd | tbl;
	g_pml4[1] = (uint64_t)g_pdpt_hi | tbl;
	if (pd_2m) {
		g_pdpt_hi[0] = (uint64_t)g_pd | tbl;
	} else {
		g_pdpt_hi[0] = (uint64_t)g_pd_hi | tbl;
		g_pd_hi[0] = (uint64_t)g_pt_hi | tbl;
		g_pt_hi[0] = tbl;		/* 4 KiB page at 0 */
	}
}

static void npt_init(void)
{
	const uint64_t tbl = PTE_P | PTE_RW | PTE_US;
	int i;

	memset(npt_pml4, 0, sizeof(npt_pml4));
	memset(npt_pdpt, 0, sizeof(npt_pdpt));
	npt_pml4[0] = (uint64_t)npt_pdpt | tbl;
	npt_pdpt[0] = (uint64_t)npt_pd | tbl;
	for (i = 0; i < 512; i++)
		npt_pd[i] = ((uint64_t)i << 21) | tbl | PTE_PS;
}

/* The 64-bit guest on g_pml4, #PF intercepted, nested paging from @ncr3. */
static void vmcb_long_guest(uint64_t ncr3)
{
	vmcb_init(guest_read_high, ncr3);
	vmcb_long_mode((uint64_t)g_pml4);
	vmcb_w32(VMCB_INTERCEPT_EXC, 1u << 14);
}

static void check_exit(const char *what, uint64_t want_code,
		       uint64_t want_info1, uint64_t want_info2)
{
	uint64_t code = svm_run();
	uint64_t info1 = vmcb_r64(VMCB_EXITINFO1);
	uint64_t info2 = vmcb_r64(VMCB_EXITINFO2);
	bool ok = code == want_code;

	if (want_code != SVM_EXIT_VMMCALL)
		ok = ok && info1 == want_info1 && info2 == want_info2;
	tap_result(ok, "%s: EXITCODE 0x%lx EXITINFO1 0x%lx EXITINFO2 0x%lx "
		   "(want 0x%lx 0x%lx 0x%lx)", what, code, info1, info2,
		   want_code, want_info1, want_info2);
}

int main(void)
{
	uint64_t gpa = (uint64_t)guest_vmmcall;
	uint64_t fetch_fault = PF_US | NPF_FINAL_GPA;
	uint64_t efer;
	uint32_t a, b, c, d;

	svm_require(SVM_FEAT_NPT);
	cpuid(0, 0, &a, &b, &c, &d);
	if (b != 0x68747541)		/* "Auth" of AuthenticAMD */
		tap_skip_all("not an AMD CPU");
	cpuid(0x80000001, 0, &a, &b, &c, &d);
	if (!(d & (1u << 20)))
		tap_skip_all("no NX");

	tap_plan(9);
	svm_enable();
	efer = rdmsr(MSR_EFER);

	/* The guest's own walk */
	guest_tables_init(true);
	vmcb_long_guest(0);
	check_exit("guest PML4E without bit 8", SVM_EXIT_VMMCALL, 0, 0);

	g_pml4[1] |= PTE_BIT8;
	vmcb_long_guest(0);
	check_exit("bit 8 in a guest PML4E", SVM_EXIT_PF, PF_P | PF_RSVD,
		   HIGH_VA);

	vmcb_long_guest(0);
	vmcb_w64(VMCB_EFER, vmcb_r64(VMCB_EFER) | EFER_NXE);
	check_exit("bit 8 in a guest PML4E, guest EFER.NXE", SVM_EXIT_PF,
		   PF_P | PF_RSVD, HIGH_VA);

	guest_tables_init(true);
	g_pdpt_hi[0] |= PTE_BIT8;
	vmcb_long_guest(0);
	check_exit("bit 8 in a non-leaf guest PDPE is ignored",
		   SVM_EXIT_VMMCALL, 0, 0);

	guest_tables_init(false);
	g_pd_hi[0] |= PTE_BIT8;
	vmcb_long_guest(0);
	check_exit("bit 8 in a non-leaf guest PDE is ignored",
		   SVM_EXIT_VMMCALL, 0, 0);

	/* The nested walk */
	npt_init();
	npt_pml4[0] |= PTE_BIT8;
	vmcb_init(guest_vmmcall, (uint64_t)npt_pml4);
	check_exit("bit 8 in a nested PML4E", SVM_EXIT_NPF,
		   PF_P | PF_RSVD | fetch_fault, gpa);

	wrmsr(MSR_EFER, efer | EFER_NXE);
	vmcb_init(guest_vmmcall, (uint64_t)npt_pml4);
	check_exit("bit 8 in a nested PML4E, host EFER.NXE", SVM_EXIT_NPF,
		   PF_P | PF_RSVD | PF_ID | fetch_fault, gpa);
	wrmsr(MSR_EFER, efer);

	npt_init();
	npt_pdpt[0] |= PTE_BIT8;
	vmcb_init(guest_vmmcall, (uint64_t)npt_pml4);
	check_exit("bit 8 in a non-leaf nested PDPE is ignored",
		   SVM_EXIT_VMMCALL, 0, 0);

	npt_init();
	npt_pml4[0] |= PTE_BIT8;
	guest_tables_init(true);
	vmcb_long_guest((uint64_t)npt_pml4);
	check_exit("bit 8 in a nested PML4E, on the guest's table",
		   SVM_EXIT_NPF, PF_P | PF_RSVD | PF_US | NPF_GUEST_PT,
		   (uint64_t)g_pml4);

	return tap_exit_status();
}
