// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_pwc_test: the page-walk caches and the nested TLB of the emulated
 * MMU, on bare metal: exact reference counts of 4K/4K nested walks, cold,
 * warm and after each flush event (Documentation/hw/mmu-extensions.rst,
 * "Page-walk caches and the nested TLB").
 *
 * The guest is 64-bit code at CPL 0.  Everything its walks touch lies in
 * one 2 MiB-aligned area, identity-mapped by 4 KiB pages in both
 * dimensions: its four tables, its code page and data pages D0, D1, ...
 * that share the code page's page table.  All entries have A (and the
 * nested ones D) set, so the walks write nothing.  The expected counts
 * follow from the spec; each case gives them for the four settings of
 * mmu-pwc and mmu-ntlb, read from CPUID 0x8000_0030 EAX bits 4 and 5, so
 * that the test runs under each (selftests/baremetal/variants):
 *
 *   1. cold: VMRUN with TLB_CONTROL 1, a code fetch only: 24 references,
 *      all from memory without caches; with the nested PWC, the second
 *      and later nested walks find the three upper nested levels cached
 *   2. warm: the next VMRUN (TLB_CONTROL 0) reads D0, a neighbour of the
 *      code page: with both caches, the guest leaf and the nested leaf
 *      of D0 are the only memory references
 *   3. the guest writes CR3: the guest-dimension PWC and the TLB of its
 *      ASID go, nested entries stay; the code page is walked again
 *   4. INVLPGA (of D0, ASID 1): the guest-dimension PWC of ASID 1 goes
 *   5. TLB_CONTROL 3: every cache entry of the ASID goes: cold again
 *   6. another ASID (2) finds nothing of ASID 1's
 *   7. back at ASID 1, its entries are still there: warm
 *   8. native (1D) walks of the host, boot.S's 2 MiB pages: after INVLPG,
 *      3 references from memory; then, in the next 2 MiB page, the PML4E
 *      and the PDPE come from the PWC
 *   9. Translation Pass-Through (ASID 3, tables identity-mapping the
 *      area): a TPT walk is a 1D walk through the guest PWC, the code
 *      page cold, D6 warm
 *  10. a TPT leaf with the GPA bit (D7): the final address's nested walk,
 *      in an ASID whose nested caches are empty
 *  11. another one (D8): the nested PWC serves the upper nested levels
 *  12. INVLPGA of D7, read again: the guest PWC is gone, the nested TLB
 *      has D7
 *
 * In every case REFS_GUEST and REFS_NESTED count what they count without
 * caches (4 and 20 per walk), whatever served the references.
 *
 * The project's QEMU before the caches has no counters 24 to 30: its
 * RDMSR of their MSRs reads 0, so every case fails; and it has no
 * mmu-pwc or mmu-ntlb property, so the variants do not start.
 */
#include "svm.h"

#define MSR_MMUCNT_CTL		0xc0011f00
#define MSR_MMUCNT_HOST0	0xc0011f10
#define MSR_MMUCNT_GUEST0	0xc0011f20
#define MSR_MMUCNT_CACHE_HOST0	0xc0011f60
#define MSR_MMUCNT_CACHE_GUEST0	0xc0011f68
#define CPUID_PWC		(1u << 4)	/* CPUID 0x80000030 EAX */
#define CPUID_NTLB		(1u << 5)
#define CPUID_TPT		(1u << 2)
#define MSR_TPT_TAG_BASE	0xc0011f40
#define MSR_TPT_TAG_END		0xc0011f41
#define PTE_TPT_GPA		(1ull << 52)
#define VM_TAG			0x2a
#define MEM_BYTES		(512ull << 20)	/* run-baremetal's -m 512 */

enum { CNT_WALKS = 0, CNT_REFS_GUEST = 3, CNT_REFS_NESTED = 4 };
enum { C_G_MEM, C_G_PWC, C_N_MEM, C_N_PWC, C_N_NTLB, C_NTLB_HITS,
       C_NTLB_MISSES, C_NR };

#define AREA_PAGES		24
#define PG_PML4			0
#define PG_PDPT			1
#define PG_PD			2
#define PG_PT			3
#define PG_CODE			4
#define PG_DATA			5	/* D0; Dn is PG_DATA + n */
#define PG_TPT			16	/* the TPT PML4, PDPT, PD and PT */

/* The area: AREA_PAGES pages from the first 2 MiB boundary in the space */
static uint8_t area_space[(2 << 20) + AREA_PAGES * 4096] __aligned(4096);
static uint8_t (*area)[4096];
static uint64_t npt_pml4[512] __aligned(4096);
static uint64_t npt_pdpt[512] __aligned(4096);
static uint64_t npt_pd[512] __aligned(4096);
static uint64_t npt_pt[512] __aligned(4096);
static uint16_t tags[MEM_BYTES >> 12] __aligned(4096);

/* The guest snippets, copied to the code page: no stack, no relocation. */
extern const char snip_exit[], snip_read[], snip_cr3_read[], snip_end[];
asm(".pushsection .text\n"
    "snip_exit:\n"			/* a code fetch, nothing else */
    "	vmmcall\n"
    "	hlt\n"
    "snip_read:\n"			/* read the quadword at RAX */
    "	mov (%rax), %rbx\n"
    "	vmmcall\n"
    "	hlt\n"
    "snip_cr3_read:\n"			/* rewrite CR3, then read */
    "	mov %cr3, %rcx\n"
    "	mov %rcx, %cr3\n"
    "	mov (%rax), %rbx\n"
    "	vmmcall\n"
    "	hlt\n"
    "snip_end:\n"
    ".popsection");

/* Expected counts of one case: walks, then C_G_MEM ... C_N_NTLB. */
struct want {
	uint64_t walks;
	uint64_t c[C_N_NTLB + 1];
};

static uint64_t pa(const void *p)
{
	return (uint64_t)p;
}

static uint64_t *table(int page)
{
	return (uint64_t *)area[page];
}

static void tables_init(void)
{
	uint64_t f = PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D;
	uint64_t base;
	int i;

	area = (void *)((pa(area_space) + (2 << 20) - 1) & ~((2ull << 20) - 1));
	base = pa(area);
	memset(area, 0, AREA_PAGES * 4096);
	memset(npt_pml4, 0, 4096);
	memset(npt_pdpt, 0, 4096);
	/* Nested: 2 MiB identity pages, 4 KiB ones over the area. */
	npt_pml4[0] = pa(npt_pdpt) | f;
	npt_pdpt[0] = pa(npt_pd) | f;
	for (i = 0; i < 512; i++)
		npt_pd[i] = ((uint64_t)i << 21) | f | PTE_PS;
	npt_pd[(base >> 21) & 511] = pa(npt_pt) | f;
	for (i = 0; i < 512; i++)
		npt_pt[i] = (base + ((uint64_t)i << 12)) | f;

	/* Guest: the area, identity-mapped by 4 KiB pages, in one PT. */
	table(PG_PML4)[(base >> 39) & 511] = pa(area[PG_PDPT]) | f;
	table(PG_PDPT)[(base >> 30) & 511] = pa(area[PG_PD]) | f;
	table(PG_PD)[(base >> 21) & 511] = pa(area[PG_PT]) | f;
	for (i = 0; i < AREA_PAGES; i++)
		table(PG_PT)[((base >> 12) & 511) + i] = pa(area[i]) | f;

	for (i = 0; i < snip_end - snip_exit; i++)
		area[PG_CODE][i] = snip_exit[i];
}

static const void *guest_rip(const char *snip)
{
	return area[PG_CODE] + (snip - snip_exit);
}

static uint64_t cnt(int i)
{
	return rdmsr(MSR_MMUCNT_GUEST0 + i);
}

static uint64_t ccnt(int i)
{
	return rdmsr(MSR_MMUCNT_CACHE_GUEST0 + i);
}

/*
 * TPT tables at PG_TPT that identity-map the area by 4 KiB pages, D7 and
 * D8 with the GPA bit; every frame of the area tagged as the VM's.
 */
static void tpt_init(void)
{
	uint64_t base = pa(area);
	uint64_t f = PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D;
	int i;

	memset(tags, 0, sizeof(tags));
	for (i = 0; i < AREA_PAGES; i++)
		tags[(base >> 12) + i] = VM_TAG;
	table(PG_TPT)[(base >> 39) & 511] = pa(area[PG_TPT + 1]) | f;
	table(PG_TPT + 1)[(base >> 30) & 511] = pa(area[PG_TPT + 2]) | f;
	table(PG_TPT + 2)[(base >> 21) & 511] = pa(area[PG_TPT + 3]) | f;
	for (i = 0; i < AREA_PAGES; i++)
		table(PG_TPT + 3)[((base >> 12) & 511) + i] = pa(area[i]) | f;
	table(PG_TPT + 3)[((base >> 12) & 511) + PG_DATA + 7] |= PTE_TPT_GPA;
	table(PG_TPT + 3)[((base >> 12) & 511) + PG_DATA + 8] |= PTE_TPT_GPA;
	wrmsr(MSR_TPT_TAG_BASE, pa(tags));
	wrmsr(MSR_TPT_TAG_END, pa(tags) + sizeof(tags));
	vmcb_w64(VMCB_TPT_TAG, VM_TAG);
	vmcb_w64(VMCB_TPT_CR3, pa(area[PG_TPT]) | 1);
	vmcb_w64(VMCB_TPT_CTL, 1);
}

/* REFS_NESTED per walk, 20 for 4K/4K (set in main: no .data) */
static int nested_per_walk;

/*
 * VMRUN the guest at @snip with RAX = Dn (@data) under @asid and
 * @tlb_ctl, and check its counts against @w.
 */
static void run_case(const char *what, const char *snip, int data,
		     uint32_t asid, uint32_t tlb_ctl, const struct want *w)
{
	uint64_t got[C_NR], walks, refs_g, refs_n, code;
	bool ok;
	int i;

	vmcb_w64(VMCB_RIP, (uint64_t)guest_rip(snip));
	vmcb_w64(VMCB_RAX, pa(area[PG_DATA + data]));
	vmcb_w32(VMCB_ASID, asid);
	vmcb_w32(VMCB_TLB_CONTROL, tlb_ctl);
	wrmsr(MSR_MMUCNT_CTL, (1ull << 63) | 1);
	code = svm_run();
	walks = cnt(CNT_WALKS);
	refs_g = cnt(CNT_REFS_GUEST);
	refs_n = cnt(CNT_REFS_NESTED);
	for (i = 0; i < C_NR; i++)
		got[i] = ccnt(i);

	ok = code == SVM_EXIT_VMMCALL && walks == w->walks &&
	     refs_g == 4 * walks && refs_n == nested_per_walk * walks;
	for (i = 0; i <= C_N_NTLB; i++)
		ok = ok && got[i] == w->c[i];
	bm_printf("# %s: exit 0x%lx walks %lu refs_guest %lu refs_nested %lu "
		  "guest mem/pwc %lu/%lu nested mem/pwc/ntlb %lu/%lu/%lu "
		  "ntlb hits/misses %lu/%lu\n", what, code, walks, refs_g,
		  refs_n, got[C_G_MEM], got[C_G_PWC], got[C_N_MEM],
		  got[C_N_PWC], got[C_N_NTLB], got[C_NTLB_HITS],
		  got[C_NTLB_MISSES]);
	tap_result(ok, "%s: %lu walks, %lu memory references (want %lu, "
		   "%lu: guest %lu/%lu, nested %lu/%lu/%lu)", what, walks,
		   got[C_G_MEM] + got[C_N_MEM], w->walks,
		   w->c[C_G_MEM] + w->c[C_N_MEM], w->c[C_G_MEM],
		   w->c[C_G_PWC], w->c[C_N_MEM], w->c[C_N_PWC],
		   w->c[C_N_NTLB]);
}

/*
 * Expected counts per setting: [0] no caches, [1] PWC, [2] NTLB, [3] both.
 * Columns: walks; guest mem, guest PWC; nested mem, nested PWC, NTLB.
 */
static const struct want cold[4] = {
	{ 1, { 4, 0, 20, 0, 0 } },
	{ 1, { 4, 0, 8, 12, 0 } },	/* 3 upper nested levels, 4 times */
	{ 1, { 4, 0, 20, 0, 0 } },	/* five different pages */
	{ 1, { 4, 0, 8, 12, 0 } },
};
static const struct want warm[4] = {
	{ 1, { 4, 0, 20, 0, 0 } },
	/* 3 guest levels cached, no nested walk for them */
	{ 1, { 1, 3, 2, 18, 0 } },
	/* 4 table pages in the NTLB, D0 is not */
	{ 1, { 4, 0, 4, 0, 16 } },
	/* the guest leaf and D0's nested leaf */
	{ 1, { 1, 3, 1, 15, 4 } },
};
static const struct want cr3[4] = {
	{ 2, { 8, 0, 40, 0, 0 } },
	{ 2, { 5, 3, 7, 33, 0 } },
	{ 2, { 8, 0, 4, 0, 36 } },
	{ 2, { 5, 3, 1, 15, 24 } },
};
static const struct want invlpga[4] = {
	{ 1, { 4, 0, 20, 0, 0 } },
	{ 1, { 4, 0, 5, 15, 0 } },
	{ 1, { 4, 0, 4, 0, 16 } },
	{ 1, { 4, 0, 1, 3, 16 } },
};
/* The code page cold, then the data page warm */
static const struct want flushed[4] = {
	{ 2, { 8, 0, 40, 0, 0 } },
	{ 2, { 5, 3, 10, 30, 0 } },
	{ 2, { 8, 0, 24, 0, 16 } },
	{ 2, { 5, 3, 9, 27, 4 } },
};

/* Two unused 2 MiB pages of RAM in boot.S's identity map */
#define NATIVE_X		(256ull << 20)
#define NATIVE_Y		(258ull << 20)

/*
 * Read @addr natively and return the host bank's walks, guest-dimension
 * references from memory and from the PWC, packed as 0xWWMMPP.
 */
static uint64_t native_read(uint64_t addr)
{
	uint64_t walks, mem, pwc;

	wrmsr(MSR_MMUCNT_CTL, (1ull << 63) | 1);
	(void)*(volatile uint64_t *)addr;
	walks = rdmsr(MSR_MMUCNT_HOST0 + CNT_WALKS);
	mem = rdmsr(MSR_MMUCNT_CACHE_HOST0 + C_G_MEM);
	pwc = rdmsr(MSR_MMUCNT_CACHE_HOST0 + C_G_PWC);
	return walks << 16 | mem << 8 | pwc;
}

static void native_case(bool pwc)
{
	uint64_t x, y;

	asm volatile("invlpg (%0)" : : "r" (NATIVE_X) : "memory");
	asm volatile("invlpg (%0)" : : "r" (NATIVE_Y) : "memory");
	x = native_read(NATIVE_X);
	y = native_read(NATIVE_Y);
	tap_result(x == 0x010300 && y == (pwc ? 0x010102 : 0x010300),
		   "native walks after INVLPG: %lu walk, %lu/%lu memory/PWC, "
		   "then the next 2 MiB page: %lu walk, %lu/%lu (want 1, 3/0, "
		   "then 1, %s)", x >> 16, (x >> 8) & 0xff, x & 0xff, y >> 16,
		   (y >> 8) & 0xff, y & 0xff, pwc ? "1/2" : "3/0");
}

/* TPT: the code page cold and D6 warm, 1D */
static const struct want tpt_cold[4] = {
	{ 2, { 8, 0, 0, 0, 0 } },
	{ 2, { 5, 3, 0, 0, 0 } },
	{ 2, { 8, 0, 0, 0, 0 } },
	{ 2, { 5, 3, 0, 0, 0 } },
};
/* D7 with the GPA bit: its nested walk in an empty nested dimension */
static const struct want tpt_gpa[4] = {
	{ 1, { 4, 0, 4, 0, 0 } },
	{ 1, { 1, 3, 4, 0, 0 } },
	{ 1, { 4, 0, 4, 0, 0 } },
	{ 1, { 1, 3, 4, 0, 0 } },
};
/* D8 with the GPA bit: the upper nested levels are cached now */
static const struct want tpt_gpa2[4] = {
	{ 1, { 4, 0, 4, 0, 0 } },
	{ 1, { 1, 3, 1, 3, 0 } },
	{ 1, { 4, 0, 4, 0, 0 } },
	{ 1, { 1, 3, 1, 3, 0 } },
};
/* D7 after INVLPGA: the guest PWC is empty, the NTLB has D7 */
static const struct want tpt_invlpga[4] = {
	{ 1, { 4, 0, 4, 0, 0 } },
	{ 1, { 4, 0, 1, 3, 0 } },
	{ 1, { 4, 0, 0, 0, 4 } },
	{ 1, { 4, 0, 0, 0, 4 } },
};

static void tpt_cases(int set)
{
	if (!mmu_ext_has(CPUID_TPT)) {
		for (int i = 0; i < 4; i++)
			tap_result(true, "TPT case skipped: no tpt");
		return;
	}
	tpt_init();
	nested_per_walk = 0;
	run_case("TPT, code cold, D6 warm", snip_read, 6, 3, 1,
		 &tpt_cold[set]);
	nested_per_walk = 4;
	run_case("TPT leaf with the GPA bit (D7)", snip_read, 7, 3, 0,
		 &tpt_gpa[set]);
	run_case("another one (D8)", snip_read, 8, 3, 0, &tpt_gpa2[set]);
	asm volatile("invlpga %%rax, %%ecx" : : "a" (pa(area[PG_DATA + 7])),
		     "c" (3));
	run_case("D7 after INVLPGA", snip_read, 7, 3, 0, &tpt_invlpga[set]);
	vmcb_w64(VMCB_TPT_CTL, 0);
	nested_per_walk = 20;
}

int main(void)
{
	int set;

	svm_require(SVM_FEAT_NPT);
	mmu_ext_require(1u << 0, "no mmu-counters");
	set = (mmu_ext_has(CPUID_PWC) ? 1 : 0) | (mmu_ext_has(CPUID_NTLB) ? 2 : 0);
	bm_printf("# mmu-pwc %s, mmu-ntlb %s\n", set & 1 ? "on" : "off",
		  set & 2 ? "on" : "off");

	tap_plan(12);
	nested_per_walk = 20;
	svm_enable();
	tables_init();
	vmcb_init(guest_rip(snip_exit), pa(npt_pml4));
	vmcb_long_mode(pa(area[PG_PML4]));

	run_case("cold code fetch", snip_exit, 0, 1, 1, &cold[set]);
	run_case("warm read of a neighbour page", snip_read, 0, 1, 0,
		 &warm[set]);
	run_case("after the guest's CR3 write", snip_cr3_read, 1, 1, 0,
		 &cr3[set]);
	asm volatile("invlpga %%rax, %%ecx" : : "a" (pa(area[PG_DATA])), "c" (1));
	run_case("after INVLPGA", snip_read, 2, 1, 0, &invlpga[set]);
	run_case("after TLB_CONTROL 3", snip_read, 3, 1, 3, &flushed[set]);
	run_case("in another ASID", snip_read, 4, 2, 0, &flushed[set]);
	run_case("back in the first ASID", snip_read, 5, 1, 0, &warm[set]);
	native_case(set & 1);
	tpt_cases(set);

	bm_exit(tap_exit_status());
}
