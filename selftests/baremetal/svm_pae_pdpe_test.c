// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_pae_pdpe_test: the PDPE of legacy-mode PAE paging (CR0.PG, CR4.PAE,
 * EFER.LMA clear) has bits 63:52 (NX included), 8:5 and 2:1 reserved, MBZ
 * (AMD APM vol. 2, Figure 5-10, "4-Kbyte PDPE—PAE Paging Legacy-Mode"):
 * no R/W, U/S, A, D, PS or G bit.  A present PDPE with one of them set
 * gives #PF with P|RSVD, and the walk never sets A (bit 5) in a PDPE.
 *
 * A 32-bit PAE guest without nested paging, #PF intercepted, whose PDPE 1
 * maps the GiB at 1 GiB onto the first one, reads from 1 GiB:
 *   1. clean PDPE 1: the read succeeds (control case)
 *   2. after that walk, PDPE 1 still has bit 5 (A) clear
 *   3. bit 1 (R/W) in PDPE 1: #PF intercept, EXITINFO1 P|RSVD, EXITINFO2
 *      the address
 *   4. bit 5 in PDPE 1: the same
 *   5. bit 8 in PDPE 1: the same
 *   6. bit 63 in PDPE 1: the same (control case)
 *
 * This is also what happens when VMRUN runs such a guest: the APM's VMRUN
 * consistency checks have no PDPE check (issue 30 asked for VMEXIT_INVALID
 * there, as KVM gives), so the guest runs and faults when it uses the PDPE.
 *
 * QEMU 7.2 checks only bits 63:52 and sets A in the PDPE: cases 2-5 fail.
 */
#include "svm.h"

#define PF_P			(1ull << 0)
#define PF_RSVD			(1ull << 3)
#define SVM_EXIT_PF		(SVM_EXIT_EXCP_BASE + 14)

#define HIGH_VA			((uint64_t)0x40000000)	/* PDPE 1 */

static uint64_t g_pdpt[512] __aligned(4096);
static uint64_t g_pd[512] __aligned(4096);

extern const char guest_read_high[];

asm(".pushsection .text\n"
    ".code32\n"
    "guest_read_high:\n"
    "	mov 0x40000000, %ecx\n"
    "	vmmcall\n"
    "	hlt\n"
    ".code64\n"
    ".popsection");

/* PDPE 0 and 1 both map the first GiB with 2 MiB pages. */
static void tables_init(void)
{
	int i;

	memset(g_pdpt, 0, sizeof(g_pdpt));
	for (i = 0; i < 512; i++)
		g_pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_RW | PTE_PS;
	g_pdpt[0] = (uint64_t)g_pd | PTE_P;
	g_pdpt[1] = (uint64_t)g_pd | PTE_P;
}

static void check_exit(const char *what, uint64_t bit)
{
	uint64_t code, info1, info2;
	bool ok;

	tables_init();
	g_pdpt[1] |= bit;
	vmcb_init(guest_read_high, 0);
	vmcb_w64(VMCB_CR0, 0x80000011);		/* PG, PE, ET */
	vmcb_w64(VMCB_CR4, 0x20);		/* PAE */
	vmcb_w64(VMCB_CR3, (uint64_t)g_pdpt);
	vmcb_w32(VMCB_INTERCEPT_EXC, 1u << 14);
	code = svm_run();
	info1 = vmcb_r64(VMCB_EXITINFO1);
	info2 = vmcb_r64(VMCB_EXITINFO2);
	if (!bit) {
		ok = code == SVM_EXIT_VMMCALL;
		tap_result(ok, "%s: EXITCODE 0x%lx (want 0x81)", what, code);
		return;
	}
	ok = code == SVM_EXIT_PF && info1 == (PF_P | PF_RSVD) &&
	     info2 == HIGH_VA;
	tap_result(ok, "%s: EXITCODE 0x%lx EXITINFO1 0x%lx EXITINFO2 0x%lx "
		   "(want 0x4e 0x9 0x%lx)", what, code, info1, info2,
		   HIGH_VA);
}

int main(void)
{
	uint64_t pdpe;

	svm_require(0);
	tap_plan(6);
	svm_enable();

	check_exit("clean PDPE", 0);
	pdpe = g_pdpt[1];
	tap_result(!(pdpe & PTE_A), "the walk leaves A clear in the PDPE: "
		   "PDPE 0x%lx", pdpe);
	check_exit("bit 1 (R/W) in a PDPE", PTE_RW);
	check_exit("bit 5 (A) in a PDPE", PTE_A);
	check_exit("bit 8 in a PDPE", PTE_BIT8);
	check_exit("bit 63 (NX) in a PDPE", PTE_NX);

	return tap_exit_status();
}
