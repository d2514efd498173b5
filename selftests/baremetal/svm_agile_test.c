// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_agile_test: the agile paging walk of the emulated CPU, on bare metal
 * (Documentation/hw/mmu-extensions.rst, "Agile paging").
 *
 * The guest is 64-bit code at CPL 0 with CR0.WP set.  The nested table
 * maps guest-physical [0, 1 GiB) and its alias [1 GiB, 2 GiB) both onto
 * host-physical [0, 1 GiB) with 2 MiB pages, and the guest's own tables
 * use only alias addresses: an entry read at a guest-physical address as
 * if it were host-physical would be read beyond the end of RAM.  Both the
 * guest's tables and the shadow table map, in the 2 MiB region of the
 * guest code:
 *
 *   the code page             to itself
 *   DATA_VA                   shadow: page_a      guest: page_b
 *   RO_VA                     shadow: page_a RO   guest: page_b RO
 *   the next 2 MiB (HUGE_VA)  a 2 MiB page holding page_b, in both
 *
 * so that the page a load reaches tells which table gave the leaf.
 *
 *   1-5. switching at no level, at level 1, 2, 3 and at the root: the
 *        data comes from the right table, and every walk costs the
 *        expected shadow, guest and nested references and counts at
 *        its switch level
 *   6.   agile paging off: the walk is the nested one
 *   7.   a guest read-only leaf in the nested part: #PF W|P at RO_VA
 *   8.   a shadow read-only leaf: the same #PF
 *   9.   a switching entry without R/W: its permission still applies
 *  10.   NX in a switching entry: the fetch of the code below it faults
 *        (#PF P|I/D at its address)
 *  11.   NX in a guest leaf below the switch: the same #PF
 *  12.   accessed and dirty bits: set in the guest's entries below the
 *        switch, in the shadow entries above it
 *  13.   a guest table below the switch that the nested table does not
 *        map: #NPF with the page-table bit at the guest-physical address
 *        of the entry
 *  14.   a 2 MiB guest page in the nested part
 *  15.   a 2 MiB shadow page
 *  16.   VMRUN with agile paging and no nested paging is invalid
 *  17.   VMRUN with a reserved bit in AGILE_SCR3 is invalid
 *  18.   VMRUN with a reserved bit in AGILE_CTL (bit 3) is invalid
 *  19.   VMRUN with agile paging and TPT both on is invalid
 *
 * Stock QEMU 7.2 has no agile paging: it does not know the "agile-paging"
 * CPU property.
 */
#include "svm.h"

#define PTE_SWITCH		(1ull << 52)

#define PF_P			(1ull << 0)
#define PF_W			(1ull << 1)
#define PF_ID			(1ull << 4)
#define EFER_NXE		(1ull << 11)
#define NPF_TABLE		(1ull << 33)

#define MSR_MMUCNT_CTL		0xc0011f00
#define MSR_MMUCNT_GUEST0	0xc0011f20
#define MSR_MMUCNT_AGILE_GUEST0	0xc0011f58
#define MSR_TPT_TAG_BASE	0xc0011f40
#define MSR_TPT_TAG_END		0xc0011f41
#define CPUID_TPT		(1u << 2)	/* CPUID 0x80000030 EAX */
#define CPUID_AGILE		(1u << 3)

enum { CNT_WALKS = 0, CNT_REFS_GUEST = 3, CNT_REFS_NESTED = 4,
       CNT_WALKS_LARGE = 6 };
enum { AGILE_WALKS = 0, AGILE_REFS_SHADOW = 1, AGILE_SWITCH_L0 = 2 };

#define ALIAS			((uint64_t)1 << 30)	/* gPA = hPA + ALIAS */
#define NESTED_REFS		3	/* a nested walk to a 2 MiB page */
#define PATTERN_A		0x1111111111111111ull
#define PATTERN_B		0x2222222222222222ull
#define MEM_BYTES		(512ull << 20)	/* run-baremetal's -m 512 */

static uint64_t npt_pml4[512] __aligned(4096);
static uint64_t npt_pdpt[512] __aligned(4096);
static uint64_t npt_pd[512] __aligned(4096);
static uint64_t s_pml4[512] __aligned(4096);
static uint64_t s_pdpt[512] __aligned(4096);
static uint64_t s_pd[512] __aligned(4096);
static uint64_t s_pt[512] __aligned(4096);
static uint64_t g_pml4[512] __aligned(4096);
static uint64_t g_pdpt[512] __aligned(4096);
static uint64_t g_pd[512] __aligned(4096);
static uint64_t g_pt[512] __aligned(4096);
static uint64_t page_a[512] __aligned(4096);
static uint64_t page_b[512] __aligned(4096);
static uint16_t tags[MEM_BYTES >> 12] __aligned(4096);

extern const char guest_copy[], guest_store[];

/*
 * The guest snippets, 64-bit, on a page of their own.  RAX comes from the
 * VMCB: guest_copy copies the quadword at RAX to RAX + 8, guest_store
 * writes the quadword at RAX.
 */
asm(".pushsection .text\n"
    ".balign 4096\n"
    "guest_copy:\n"
    "	mov (%rax), %rbx\n"
    "	mov %rbx, 8(%rax)\n"
    "	vmmcall\n"
    "	hlt\n"
    "guest_store:\n"
    "	movq $0x5a5a5a5a, (%rax)\n"
    "	vmmcall\n"
    "	hlt\n"
    ".popsection");

static uint64_t pa(const void *p)
{
	return (uint64_t)p;
}

static uint64_t gpa(const void *p)
{
	return pa(p) + ALIAS;
}

static unsigned int code_pdi, code_pti, data_pti, ro_pti;
static uint64_t data_va, ro_va, huge_va;

/* The guest's tables (alias addresses) and the all-shadow table. */
static void tables_init(void)
{
	uint64_t code = pa(guest_copy);
	uint64_t base = code & ~0x1fffffull;
	uint64_t huge = pa(page_b) & ~0x1fffffull;
	int i;

	code_pdi = (code >> 21) & 511;
	code_pti = (code >> 12) & 511;
	data_pti = code_pti ^ 0x100;
	ro_pti = code_pti ^ 0x101;
	data_va = base + ((uint64_t)data_pti << 12);
	ro_va = base + ((uint64_t)ro_pti << 12);
	huge_va = (uint64_t)(code_pdi ^ 1) << 21;

	memset(npt_pml4, 0, 4096);
	memset(npt_pdpt, 0, 4096);
	npt_pml4[0] = pa(npt_pdpt) | PTE_P | PTE_RW | PTE_US;
	npt_pdpt[0] = pa(npt_pd) | PTE_P | PTE_RW | PTE_US;
	npt_pdpt[1] = pa(npt_pd) | PTE_P | PTE_RW | PTE_US;
	for (i = 0; i < 512; i++)
		npt_pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_RW | PTE_US |
			    PTE_PS;

	memset(g_pml4, 0, 4096);
	memset(g_pdpt, 0, 4096);
	memset(g_pd, 0, 4096);
	memset(g_pt, 0, 4096);
	g_pml4[0] = gpa(g_pdpt) | PTE_P | PTE_RW;
	g_pdpt[0] = gpa(g_pd) | PTE_P | PTE_RW;
	g_pd[code_pdi] = gpa(g_pt) | PTE_P | PTE_RW;
	g_pd[code_pdi ^ 1] = (huge + ALIAS) | PTE_P | PTE_RW | PTE_PS;
	g_pt[code_pti] = gpa(guest_copy) | PTE_P | PTE_RW;
	g_pt[data_pti] = gpa(page_b) | PTE_P | PTE_RW;
	g_pt[ro_pti] = gpa(page_b) | PTE_P;

	memset(s_pml4, 0, 4096);
	memset(s_pdpt, 0, 4096);
	memset(s_pd, 0, 4096);
	memset(s_pt, 0, 4096);
	s_pml4[0] = pa(s_pdpt) | PTE_P | PTE_RW;
	s_pdpt[0] = pa(s_pd) | PTE_P | PTE_RW;
	s_pd[code_pdi] = pa(s_pt) | PTE_P | PTE_RW;
	s_pd[code_pdi ^ 1] = huge | PTE_P | PTE_RW | PTE_PS;
	s_pt[code_pti] = pa(guest_copy) | PTE_P | PTE_RW;
	s_pt[data_pti] = pa(page_a) | PTE_P | PTE_RW;
	s_pt[ro_pti] = pa(page_a) | PTE_P;
}

/*
 * Point the shadow entry above the guest table of @level at that table,
 * with the switching bit: 0 switches nowhere, 4 at the root (AGILE_SCR3).
 */
static void set_switch(int level)
{
	s_pml4[0] = pa(s_pdpt) | PTE_P | PTE_RW;
	s_pdpt[0] = pa(s_pd) | PTE_P | PTE_RW;
	s_pd[code_pdi] = pa(s_pt) | PTE_P | PTE_RW;
	vmcb_w64(VMCB_AGILE_SCR3, pa(s_pml4));
	switch (level) {
	case 1:
		s_pd[code_pdi] = pa(g_pt) | PTE_P | PTE_RW | PTE_SWITCH;
		break;
	case 2:
		s_pdpt[0] = pa(g_pd) | PTE_P | PTE_RW | PTE_SWITCH;
		break;
	case 3:
		s_pml4[0] = pa(g_pdpt) | PTE_P | PTE_RW | PTE_SWITCH;
		break;
	case 4:
		vmcb_w64(VMCB_AGILE_SCR3, PTE_SWITCH);
		break;
	}
}

/* An agile guest at @rip with RAX = @rax, #PF intercepted. */
static void vm_init(const void *rip, uint64_t rax, int level)
{
	page_a[0] = PATTERN_A;
	page_a[1] = 0;
	page_b[0] = PATTERN_B;
	page_b[1] = 0;
	vmcb_init(rip, pa(npt_pml4));
	vmcb_long_mode(gpa(g_pml4));
	vmcb_w64(VMCB_CR0, 0x80010011);		/* PG, WP, PE, ET */
	vmcb_w32(VMCB_INTERCEPT_EXC, 1u << 14);
	vmcb_w64(VMCB_RAX, rax);
	vmcb_w64(VMCB_AGILE_CTL, 1);
	set_switch(level);
	wrmsr(MSR_MMUCNT_CTL, (1ull << 63) | 1);
}

static uint64_t cnt(int i)
{
	return rdmsr(MSR_MMUCNT_GUEST0 + i);
}

static uint64_t agile_cnt(int i)
{
	return rdmsr(MSR_MMUCNT_AGILE_GUEST0 + i);
}

/*
 * Copy through DATA_VA with the switch at @level and check the page the
 * leaf came from and the references of every walk: @shadow and 4 guest
 * (the shadow's included) per walk, and @nested_walks nested walks.
 */
static void check_level(int level, int shadow, int nested_walks)
{
	uint64_t *want = level ? page_b : page_a;
	uint64_t code, walks;

	vm_init(guest_copy, data_va, level);
	code = svm_run();
	walks = cnt(CNT_WALKS);
	tap_result(code == SVM_EXIT_VMMCALL && want[1] == want[0] &&
		   page_a[1] + page_b[1] == want[0] && walks >= 2 &&
		   agile_cnt(AGILE_WALKS) == walks &&
		   agile_cnt(AGILE_SWITCH_L0 + level) == walks &&
		   cnt(CNT_REFS_GUEST) == 4 * walks &&
		   agile_cnt(AGILE_REFS_SHADOW) == shadow * walks &&
		   cnt(CNT_REFS_NESTED) == NESTED_REFS * nested_walks * walks,
		   "switch at level %d: exit 0x%lx, page_a 0x%lx page_b 0x%lx; "
		   "%lu walks, %lu agile, %lu at this level, %lu guest refs, "
		   "%lu shadow refs, %lu nested refs (want per walk 4, %d, %d)",
		   level, code, page_a[1], page_b[1], walks,
		   agile_cnt(AGILE_WALKS), agile_cnt(AGILE_SWITCH_L0 + level),
		   cnt(CNT_REFS_GUEST), agile_cnt(AGILE_REFS_SHADOW),
		   cnt(CNT_REFS_NESTED), shadow, NESTED_REFS * nested_walks);
}

/* Run and check a #PF for a store at @va: error code and address. */
static bool store_fault(const char *what, uint64_t va)
{
	uint64_t code = svm_run();
	bool ok = code == SVM_EXIT_EXCP_BASE + 14 &&
		  vmcb_r64(VMCB_EXITINFO1) == (PF_P | PF_W) &&
		  vmcb_r64(VMCB_EXITINFO2) == va &&
		  page_a[0] == PATTERN_A && page_b[0] == PATTERN_B;

	if (!ok)
		bm_printf("# %s: EXITCODE 0x%lx EXITINFO1 0x%lx EXITINFO2 0x%lx "
			  "pages 0x%lx 0x%lx (want 0x4e 0x3 0x%lx)\n", what,
			  code, vmcb_r64(VMCB_EXITINFO1),
			  vmcb_r64(VMCB_EXITINFO2), page_a[0], page_b[0], va);
	return ok;
}

/* Run and check a #PF for the fetch of the guest's first instruction. */
static bool fetch_fault(const char *what)
{
	uint64_t code = svm_run();
	bool ok = code == SVM_EXIT_EXCP_BASE + 14 &&
		  vmcb_r64(VMCB_EXITINFO1) == (PF_P | PF_ID) &&
		  vmcb_r64(VMCB_EXITINFO2) == pa(guest_copy) &&
		  page_b[1] == 0;

	if (!ok)
		bm_printf("# %s: EXITCODE 0x%lx EXITINFO1 0x%lx EXITINFO2 0x%lx "
			  "(want 0x4e 0x11 0x%lx)\n", what, code,
			  vmcb_r64(VMCB_EXITINFO1), vmcb_r64(VMCB_EXITINFO2),
			  pa(guest_copy));
	return ok;
}

static void check_invalid(const char *what)
{
	uint64_t code = svm_run();

	tap_result(code == SVM_EXIT_INVALID && page_a[1] == 0 &&
		   page_b[1] == 0, "VMRUN with %s: exit 0x%lx", what, code);
}

int main(void)
{
	uint64_t code, g_pte, s_pte, off;

	svm_require(SVM_FEAT_NPT);
	mmu_ext_require(CPUID_AGILE, "no agile paging");

	tap_plan(19);
	svm_enable();
	tables_init();

	check_level(0, 4, 0);
	check_level(1, 3, 1);
	check_level(2, 2, 2);
	check_level(3, 1, 3);
	check_level(4, 0, 5);

	vm_init(guest_copy, data_va, 0);
	vmcb_w64(VMCB_AGILE_CTL, 0);
	code = svm_run();
	tap_result(code == SVM_EXIT_VMMCALL && page_b[1] == PATTERN_B &&
		   agile_cnt(AGILE_WALKS) == 0 &&
		   cnt(CNT_REFS_NESTED) == 5 * NESTED_REFS * cnt(CNT_WALKS),
		   "AGILE_CTL.EN clear: the nested walk, exit 0x%lx, %lu agile "
		   "walks, %lu nested refs in %lu walks", code,
		   agile_cnt(AGILE_WALKS), cnt(CNT_REFS_NESTED),
		   cnt(CNT_WALKS));

	vm_init(guest_store, ro_va, 1);
	tap_result(store_fault("guest RO", ro_va),
		   "read-only guest leaf below the switch: #PF W|P");

	vm_init(guest_store, ro_va, 0);
	tap_result(store_fault("shadow RO", ro_va),
		   "read-only shadow leaf: #PF W|P");

	vm_init(guest_store, data_va, 2);
	s_pdpt[0] &= ~PTE_RW;
	tap_result(store_fault("switching entry RO", data_va),
		   "switching entry without R/W: #PF W|P");

	vm_init(guest_copy, data_va, 2);
	vmcb_w64(VMCB_EFER, EFER_SVME | EFER_LME | EFER_LMA | EFER_NXE);
	s_pdpt[0] |= PTE_NX;
	tap_result(fetch_fault("NX switching entry"),
		   "NX in the switching entry: the fetch below it faults");

	vm_init(guest_copy, data_va, 2);
	vmcb_w64(VMCB_EFER, EFER_SVME | EFER_LME | EFER_LMA | EFER_NXE);
	g_pt[code_pti] |= PTE_NX;
	tap_result(fetch_fault("NX guest leaf"),
		   "NX in a guest leaf below the switch: the fetch faults");
	g_pt[code_pti] &= ~PTE_NX;

	vm_init(guest_store, data_va, 2);
	g_pt[data_pti] &= ~(PTE_A | PTE_D);
	g_pd[code_pdi] &= ~PTE_A;
	s_pdpt[0] &= ~PTE_A;
	s_pml4[0] &= ~PTE_A;
	code = svm_run();
	g_pte = g_pt[data_pti];
	s_pte = s_pdpt[0];
	tap_result(code == SVM_EXIT_VMMCALL && page_b[0] == 0x5a5a5a5a &&
		   (g_pte & (PTE_A | PTE_D)) == (PTE_A | PTE_D) &&
		   (g_pd[code_pdi] & PTE_A) && (s_pte & PTE_A) &&
		   (s_pml4[0] & PTE_A),
		   "A/D bits: guest PTE 0x%lx, guest PDE 0x%lx, switching "
		   "entry 0x%lx, shadow PML4E 0x%lx", g_pte, g_pd[code_pdi],
		   s_pte, s_pml4[0]);

	/* The first walk, the fetch of the code, faults on its PTE. */
	vm_init(guest_copy, data_va, 2);
	g_pd[code_pdi] = (gpa(g_pt) + 2 * ALIAS) | PTE_P | PTE_RW;
	code = svm_run();
	tap_result(code == SVM_EXIT_NPF &&
		   (vmcb_r64(VMCB_EXITINFO1) & NPF_TABLE) &&
		   vmcb_r64(VMCB_EXITINFO2) ==
		   gpa(g_pt) + 2 * ALIAS + code_pti * 8,
		   "guest table below the switch outside the nested table: "
		   "exit 0x%lx EXITINFO1 0x%lx EXITINFO2 0x%lx (want 0x400, "
		   "bit 33, 0x%lx)", code, vmcb_r64(VMCB_EXITINFO1),
		   vmcb_r64(VMCB_EXITINFO2),
		   gpa(g_pt) + 2 * ALIAS + code_pti * 8);
	g_pd[code_pdi] = gpa(g_pt) | PTE_P | PTE_RW;

	off = pa(page_b) & 0x1fffff;
	vm_init(guest_copy, huge_va + off, 2);
	code = svm_run();
	tap_result(code == SVM_EXIT_VMMCALL && page_b[1] == PATTERN_B &&
		   cnt(CNT_WALKS_LARGE) >= 1,
		   "2 MiB guest page below the switch: exit 0x%lx, copied "
		   "0x%lx, %lu large walks", code, page_b[1],
		   cnt(CNT_WALKS_LARGE));

	vm_init(guest_copy, huge_va + off, 0);
	code = svm_run();
	tap_result(code == SVM_EXIT_VMMCALL && page_b[1] == PATTERN_B &&
		   cnt(CNT_WALKS_LARGE) >= 1,
		   "2 MiB shadow page: exit 0x%lx, copied 0x%lx, %lu large "
		   "walks", code, page_b[1], cnt(CNT_WALKS_LARGE));

	vm_init(guest_copy, data_va, 1);
	vmcb_w64(VMCB_NP_ENABLE, 0);
	check_invalid("agile paging and no nested paging");

	vm_init(guest_copy, data_va, 1);
	vmcb_w64(VMCB_AGILE_SCR3, pa(s_pml4) | 2);
	check_invalid("AGILE_SCR3 bit 1 set");

	vm_init(guest_copy, data_va, 1);
	/* bits 1 (CR3_MAP) and 2 (GUEST_PF) are defined; bit 3 is not */
	vmcb_w64(VMCB_AGILE_CTL, 1 | 8);
	check_invalid("AGILE_CTL bit 3 set");

	if (mmu_ext_has(CPUID_TPT)) {
		memset(tags, 0, sizeof(tags));
		wrmsr(MSR_TPT_TAG_BASE, pa(tags));
		wrmsr(MSR_TPT_TAG_END, pa(tags) + sizeof(tags));
		vm_init(guest_copy, data_va, 1);
		vmcb_w64(VMCB_TPT_CTL, 1);
		vmcb_w64(VMCB_TPT_TAG, 1);
		check_invalid("agile paging and TPT");
	} else {
		tap_result(true, "VMRUN with agile paging and TPT # SKIP no TPT");
	}

	return tap_exit_status();
}
