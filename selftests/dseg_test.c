// SPDX-License-Identifier: GPL-2.0-only
/*
 * dseg_test
 *
 * Direct segments for VMs (Documentation/hw/mmu-extensions.rst, KVM API in
 * Documentation/direct-segments.rst) give the walk costs of the MICRO 2014
 * paper, move nothing they must not, and refuse bad input.  The guest
 * reads 8192 4 KiB pages through its own page tables, both in a memslot
 * backed by one 1 GiB hugetlbfs page (physically contiguous) and placed
 * 4 KiB off a 2 MiB boundary so that KVM's nested table maps it with
 * 4 KiB pages too.  The host reads the guest bank of CPU 0's page-walk
 * counters around each measured pass, as mmu_counters_test does.
 *
 *   a. Base (nested paging): 24 references per data walk;
 *   b. VMM Direct: 4, and 5 VMM segment hits per walk;
 *   c. Dual Direct: no walk at all, every page a hit of both segments;
 *   d. Guest Direct: 4 nested references per walk, no guest ones;
 *   e. escapes: a page in the VMM filter and one in the guest filter are
 *      translated by paging, counted as (false) escapes, data intact;
 *   f. fallback: an MMU notifier invalidation (mprotect) switches the
 *      VMM segment off; the guest stays correct and walks 2D again;
 *   g. bad input: KVM_ENABLE_CAP arguments, 2000 random ones, and guest
 *      segment MSR writes that a guest must not make, get errors (#GP for
 *      the guest) and change nothing.
 *
 * Under shadow paging only the last case runs: KVM must not offer the
 * capability, and the guest segment MSRs must raise #GP.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "mmuvirt_util.h"
#include "mmucnt.h"
#include "msr_dev.h"

#ifndef KVM_CAP_X86_DIRECT_SEGMENT
#error "build against the patched kernel's headers (KVM_CAP_X86_DIRECT_SEGMENT)"
#endif

#define SLOT_SEG	10
/* 4 KiB past 1 GiB: the memslot is not 2 MiB-aligned with its 1 GiB page. */
#define GPA_SEG		0x40001000UL
#define SEG_PAGES	16384UL		/* 64 MiB memslot */
#define SEG_SIZE	(SEG_PAGES * PAGE)
#define GB		(1UL << 30)

#define PAGE		4096UL
#define NPAGES		8192UL		/* 32 MiB: 3.9 times the TLB reach */
/* Inside the memslot: PML4, PDPT, PD, 16 PTs, then the data. */
#define PT_PAGES	(3 + NPAGES / 512)
#define DATA_OFF	(32 * PAGE)
#define GPA_DATA	(GPA_SEG + DATA_OFF)
/* PML4 index 1, away from everything the selftest library maps. */
#define GVA_DATA	0x8000000000UL

#define PTE_P		(1UL << 0)
#define PTE_W		(1UL << 1)

/* Walks besides those of the data, as in mmu_counters_test. */
#define SLACK(n)	((n) / 8 + 256)

enum { STAGE_IDLE = 1, STAGE_WARM, STAGE_MEASURED, STAGE_MSR };
enum { OP_PASS, OP_WRMSR };

struct phase {
	uint64_t op;
	uint64_t msr, val;	/* OP_WRMSR */
};

static struct phase phase;

static void guest_code(void)
{
	volatile uint64_t *p = (volatile uint64_t *)GVA_DATA;

	for (;;) {
		struct phase ph;
		uint64_t i, sum = 0, back = 0;
		uint8_t vec;

		GUEST_SYNC(STAGE_IDLE);
		ph = phase;
		if (ph.op == OP_WRMSR) {
			vec = wrmsr_safe(ph.msr, ph.val);
			if (rdmsr_safe(ph.msr, &back))
				back = ~0ULL;
			GUEST_SYNC_ARGS(STAGE_MSR, vec, back, 0, 0);
			continue;
		}
		for (i = 0; i < NPAGES; i++)
			p[i * PAGE / 8] = i;
		asm volatile("mov %0, %%cr3" : : "r" (get_cr3()) : "memory");
		GUEST_SYNC(STAGE_WARM);
		for (i = 0; i < NPAGES; i++)
			sum += p[i * PAGE / 8];
		GUEST_SYNC_ARGS(STAGE_MEASURED, sum, 0, 0, 0);
	}
}

struct counts {
	uint64_t v[NR_COUNTERS_DSEG];
};

#define WALKS(c)	((c)->v[CNT_WALKS])
#define RG(c)		((c)->v[CNT_REFS_GUEST])
#define RN(c)		((c)->v[CNT_REFS_NESTED])

static void print_counts(const char *name, const struct counts *c)
{
	ksft_print_msg("%s: walks=%lu refs_guest=%lu refs_nested=%lu checks=%lu guest_hits=%lu vmm_hits=%lu escapes=%lu false_escapes=%lu\n",
		       name, WALKS(c), RG(c), RN(c), c->v[CNT_DSEG_CHECKS],
		       c->v[CNT_DSEG_GUEST_HITS], c->v[CNT_DSEG_VMM_HITS],
		       c->v[CNT_DSEG_ESCAPES], c->v[CNT_DSEG_FALSE_ESCAPES]);
}

static struct kvm_vm *vm;
static struct kvm_vcpu *vcpu;
static uint8_t *seg_hva;

/* One measured pass over the data; fails the test on a wrong sum. */
static void measure(const char *name, struct counts *c)
{
	struct ucall uc;
	int i;

	phase = (struct phase) { .op = OP_PASS };
	sync_global_to_guest(vm, phase);
	expect_stage(vcpu, STAGE_WARM, &uc);
	msr_write(MSR_MMUCNT_CTL, MMUCNT_CTL_RESET | MMUCNT_CTL_EN);
	expect_stage(vcpu, STAGE_MEASURED, &uc);
	for (i = 0; i < NR_COUNTERS_DSEG; i++)
		c->v[i] = msr_read(MSR_MMUCNT_GUEST + i);
	print_counts(name, c);
	TEST_ASSERT(uc.args[2] == NPAGES * (NPAGES - 1) / 2,
		    "%s: the guest read sum 0x%lx, wanted 0x%lx: wrong data behind a translation",
		    name, uc.args[2], NPAGES * (NPAGES - 1) / 2);
	expect_stage(vcpu, STAGE_IDLE, &uc);
}

/* WRMSR in the guest: returns the vector (0 or 13), *back what RDMSR gave. */
static uint8_t guest_wrmsr(uint32_t msr, uint64_t val, uint64_t *back)
{
	struct ucall uc;
	uint8_t vec;

	phase = (struct phase) { .op = OP_WRMSR, .msr = msr, .val = val };
	sync_global_to_guest(vm, phase);
	expect_stage(vcpu, STAGE_MSR, &uc);
	vec = uc.args[2];
	*back = uc.args[3];
	expect_stage(vcpu, STAGE_IDLE, &uc);
	return vec;
}

/* Load the guest segment [base, limit) -> +offset, or switch it off. */
static void guest_seg(bool on, uint64_t base, uint64_t limit,
		      uint64_t offset, const uint64_t *filter)
{
	const uint64_t vals[] = { base, limit, offset,
				  filter[0], filter[1], filter[2], filter[3] };
	uint64_t back;
	uint8_t vec;
	int i;

	vec = guest_wrmsr(MSR_DSEG_CTL, 0, &back);
	TEST_ASSERT(!vec, "guest wrmsr DSEG_CTL <- 0: vector %u", vec);
	if (!on)
		return;
	for (i = 0; i < 7; i++) {
		vec = guest_wrmsr(MSR_DSEG_BASE + i, vals[i], &back);
		TEST_ASSERT(!vec && back == vals[i],
			    "guest wrmsr 0x%x <- 0x%lx: vector %u, reads 0x%lx",
			    MSR_DSEG_BASE + i, vals[i], vec, back);
	}
	vec = guest_wrmsr(MSR_DSEG_CTL, DSEG_CTL_EN, &back);
	TEST_ASSERT(!vec, "guest wrmsr DSEG_CTL <- EN: vector %u", vec);
}

static const uint64_t no_filter[4];

/* The guest segment over the data: the same translation as paging. */
static void guest_seg_data(const uint64_t *filter)
{
	guest_seg(true, GVA_DATA, GVA_DATA + NPAGES * PAGE,
		  GPA_DATA - GVA_DATA, filter);
}

static void vmm_seg(bool on)
{
	int r = dseg_enable_cap(vm, on ? KVM_X86_DSEG_VMM_ENABLE :
					     KVM_X86_DSEG_VMM_DISABLE,
				 GPA_SEG, SEG_SIZE);

	TEST_ASSERT(!r, "VMM segment %s: %s", on ? "enable" : "disable",
		    strerror(-r));
	TEST_ASSERT(vm_get_stat(vm, "dseg_vmm_pages") == (on ? SEG_PAGES : 0),
		    "dseg_vmm_pages %lu, wanted %lu",
		    vm_get_stat(vm, "dseg_vmm_pages"), on ? SEG_PAGES : 0);
}

/* The filter bits of the page at @addr, as <asm/dseg.h> computes them. */
static void filter_add(uint64_t *filter, uint64_t addr)
{
	static const uint64_t mult[4] = {
		0x9e3779b97f4a7c15ULL, 0xc2b2ae3d27d4eb4fULL,
		0x165667b19e3779f9ULL, 0xd6e8feb86659fd93ULL,
	};
	int k;

	for (k = 0; k < 4; k++) {
		unsigned int bit = ((addr >> 12) * mult[k]) >> 56;

		filter[bit / 64] |= 1ULL << (bit % 64);
	}
}

/* At least one walk per data page, and at most the slack more. */
static void check_walks(const struct counts *c)
{
	CHECK(WALKS(c) >= NPAGES && WALKS(c) <= NPAGES + SLACK(NPAGES),
	      "walks %lu, wanted %lu..%lu", WALKS(c), NPAGES,
	      NPAGES + SLACK(NPAGES));
}

static double refs_per_walk(const struct counts *c)
{
	return WALKS(c) ? (double)(RG(c) + RN(c)) / WALKS(c) : 0;
}

/* a. 2D walks: 4 guest references and 5 nested walks of 4. */
static void test_base(void)
{
	struct counts c;

	case_ok = true;
	measure("a base", &c);
	check_walks(&c);
	CHECK(RG(&c) == 4 * WALKS(&c), "refs_guest %lu, wanted 4 * walks = %lu",
	      RG(&c), 4 * WALKS(&c));
	CHECK(RN(&c) == 20 * WALKS(&c), "refs_nested %lu, wanted 20 * walks = %lu",
	      RN(&c), 20 * WALKS(&c));
	CHECK(c.v[CNT_DSEG_CHECKS] == 0, "dseg_checks %lu without segments",
	      c.v[CNT_DSEG_CHECKS]);
	ksft_test_result(case_ok, "a: base: %.2f refs/walk (24)\n",
			 refs_per_walk(&c));
}

/*
 * b. VMM Direct: the tables and the data are in the segment, so a data
 * walk reads 4 guest entries and no nested one, and checks 5 addresses
 * (4 table pointers and the data).  Walks of code and stack, whose lower
 * tables are in memslot 0, still walk the nested table.
 */
static void test_vmm_direct(void)
{
	struct counts c;
	uint64_t other;

	case_ok = true;
	vmm_seg(true);
	measure("b VMM Direct", &c);
	check_walks(&c);
	other = WALKS(&c) - NPAGES;
	CHECK(RG(&c) == 4 * WALKS(&c), "refs_guest %lu, wanted 4 * walks = %lu",
	      RG(&c), 4 * WALKS(&c));
	CHECK(RN(&c) <= 20 * other,
	      "refs_nested %lu, wanted <= 20 * %lu walks beyond the data",
	      RN(&c), other);
	CHECK(c.v[CNT_DSEG_VMM_HITS] >= 5 * NPAGES,
	      "dseg_vmm_hits %lu, wanted >= 5 * %lu", c.v[CNT_DSEG_VMM_HITS],
	      NPAGES);
	CHECK(c.v[CNT_DSEG_ESCAPES] == 0, "dseg_escapes %lu, wanted 0",
	      c.v[CNT_DSEG_ESCAPES]);
	ksft_test_result(case_ok, "b: VMM Direct: %.2f refs/walk (4), %lu base-bound checks\n",
			 refs_per_walk(&c), c.v[CNT_DSEG_CHECKS]);
}

/* c. Dual Direct: both segments translate the data, nothing is walked. */
static void test_dual_direct(void)
{
	struct counts c;

	case_ok = true;
	TEST_ASSERT(!dseg_enable_cap(vm, KVM_X86_DSEG_GUEST_ENABLE, 0, 0),
		    "KVM_X86_DSEG_GUEST_ENABLE: %s", strerror(errno));
	guest_seg_data(no_filter);
	measure("c Dual Direct", &c);
	CHECK(WALKS(&c) <= SLACK(NPAGES), "walks %lu, wanted <= %lu",
	      WALKS(&c), SLACK(NPAGES));
	CHECK(c.v[CNT_DSEG_GUEST_HITS] >= NPAGES,
	      "dseg_guest_hits %lu, wanted >= %lu", c.v[CNT_DSEG_GUEST_HITS],
	      NPAGES);
	CHECK(c.v[CNT_DSEG_VMM_HITS] >= NPAGES,
	      "dseg_vmm_hits %lu, wanted >= %lu", c.v[CNT_DSEG_VMM_HITS],
	      NPAGES);
	CHECK(RG(&c) + RN(&c) <= 24 * WALKS(&c),
	      "refs %lu beyond the walks of code and stack (%lu)",
	      RG(&c) + RN(&c), WALKS(&c));
	ksft_test_result(case_ok, "c: Dual Direct: %lu walks for %lu pages, %lu refs\n",
			 WALKS(&c), NPAGES, RG(&c) + RN(&c));
}

/* d. Guest Direct: no guest walk; the data's gPA walks the nested table. */
static void test_guest_direct(void)
{
	struct counts c;
	uint64_t other;

	case_ok = true;
	vmm_seg(false);
	measure("d Guest Direct", &c);
	check_walks(&c);
	other = WALKS(&c) - NPAGES;
	CHECK(c.v[CNT_DSEG_GUEST_HITS] >= NPAGES,
	      "dseg_guest_hits %lu, wanted >= %lu", c.v[CNT_DSEG_GUEST_HITS],
	      NPAGES);
	CHECK(RG(&c) <= 4 * other,
	      "refs_guest %lu, wanted <= 4 * %lu walks beyond the data",
	      RG(&c), other);
	CHECK(RN(&c) >= 4 * NPAGES && RN(&c) <= 4 * NPAGES + 20 * other,
	      "refs_nested %lu, wanted 4 * %lu + up to 20 * %lu", RN(&c),
	      NPAGES, other);
	ksft_test_result(case_ok, "d: Guest Direct: %.2f refs/walk (4)\n",
			 refs_per_walk(&c));
}

/*
 * e. Escapes: data page 100 goes into the guest filter and page 200's
 * frame into the VMM filter.  Paging maps both exactly as the segments
 * would, so each escape is a false one, and the data stays right.
 */
static void test_escapes(void)
{
	uint64_t filter[4] = { 0 };
	struct counts c;
	int r;

	case_ok = true;
	vmm_seg(true);
	filter_add(filter, GVA_DATA + 100 * PAGE);
	guest_seg_data(filter);
	r = dseg_enable_cap(vm, KVM_X86_DSEG_VMM_ESCAPE, GPA_DATA + 200 * PAGE, 0);
	TEST_ASSERT(!r, "KVM_X86_DSEG_VMM_ESCAPE: %s", strerror(-r));
	CHECK(vm_get_stat(vm, "dseg_vmm_escapes") == 1,
	      "dseg_vmm_escapes %lu, wanted 1",
	      vm_get_stat(vm, "dseg_vmm_escapes"));
	measure("e escapes", &c);
	CHECK(c.v[CNT_DSEG_ESCAPES] >= 2, "dseg_escapes %lu, wanted >= 2",
	      c.v[CNT_DSEG_ESCAPES]);
	CHECK(c.v[CNT_DSEG_FALSE_ESCAPES] == c.v[CNT_DSEG_ESCAPES],
	      "dseg_false_escapes %lu, wanted all %lu escapes",
	      c.v[CNT_DSEG_FALSE_ESCAPES], c.v[CNT_DSEG_ESCAPES]);
	/* Page 100 walks the guest table, page 200 the nested one. */
	CHECK(WALKS(&c) >= 2 && RG(&c) >= 4 && RN(&c) >= 4,
	      "walks %lu refs_guest %lu refs_nested %lu: the escaped pages were not paged",
	      WALKS(&c), RG(&c), RN(&c));
	ksft_test_result(case_ok, "e: escaped pages are paged: %lu escapes, %lu walks\n",
			 c.v[CNT_DSEG_ESCAPES], WALKS(&c));
}

/*
 * f. The host changes the mapping behind the segment: the MMU notifier
 * switches the VMM segment off, and the guest walks 2D again, correctly.
 */
static void test_fallback(void)
{
	uint64_t before = vm_get_stat(vm, "dseg_vmm_fallbacks");
	struct counts c;

	case_ok = true;
	guest_seg(false, 0, 0, 0, no_filter);
	TEST_ASSERT(!mprotect(seg_hva, GB, PROT_READ) &&
		    !mprotect(seg_hva, GB, PROT_READ | PROT_WRITE),
		    "mprotect: %s", strerror(errno));
	CHECK(vm_get_stat(vm, "dseg_vmm_fallbacks") == before + 1,
	      "dseg_vmm_fallbacks %lu, wanted %lu",
	      vm_get_stat(vm, "dseg_vmm_fallbacks"), before + 1);
	CHECK(vm_get_stat(vm, "dseg_vmm_pages") == 0,
	      "dseg_vmm_pages %lu after the fallback, wanted 0",
	      vm_get_stat(vm, "dseg_vmm_pages"));
	measure("f fallback", &c);
	check_walks(&c);
	CHECK(c.v[CNT_DSEG_VMM_HITS] == 0, "dseg_vmm_hits %lu after the fallback",
	      c.v[CNT_DSEG_VMM_HITS]);
	CHECK(RN(&c) == 20 * WALKS(&c), "refs_nested %lu, wanted 20 * walks = %lu",
	      RN(&c), 20 * WALKS(&c));
	/* Userspace may switch it on again over the same memory. */
	vmm_seg(true);
	vmm_seg(false);
	ksft_test_result(case_ok, "f: fallback on invalidation: %.2f refs/walk, data intact\n",
			 refs_per_walk(&c));
}

/* g. Bad KVM_ENABLE_CAP arguments and bad guest MSR writes. */
static void test_bad_input(bool npt)
{
	static const struct { uint64_t op, a1, a2; } bad[] = {
		{ KVM_X86_DSEG_VMM_ENABLE, GPA_SEG + 1, SEG_SIZE },
		{ KVM_X86_DSEG_VMM_ENABLE, GPA_SEG, 0 },
		{ KVM_X86_DSEG_VMM_ENABLE, GPA_SEG, 123 },
		{ KVM_X86_DSEG_VMM_ENABLE, -4096UL, 8192 },
		/* 256 pages of hole after the memslot: too many escapes */
		{ KVM_X86_DSEG_VMM_ENABLE, GPA_SEG, SEG_SIZE + 256 * PAGE },
		/* nothing but hole */
		{ KVM_X86_DSEG_VMM_ENABLE, 0x200000000UL, 16 * PAGE },
		{ KVM_X86_DSEG_VMM_ESCAPE, GPA_SEG, 0 },  /* segment is off */
		{ 0, 0, 0 },
		{ 99, GPA_SEG, SEG_SIZE },
	};
	uint64_t back, x = 0x853c49e6748fea9bULL;
	unsigned int i, ok = 0;
	struct counts c;
	uint8_t vec;
	int r;

	case_ok = true;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		r = dseg_enable_cap(vm, bad[i].op, bad[i].a1, bad[i].a2);
		CHECK(r == -EINVAL || (!npt && r),
		      "KVM_ENABLE_CAP op %lu (0x%lx, 0x%lx): %s, wanted EINVAL",
		      bad[i].op, bad[i].a1, bad[i].a2, r ? strerror(-r) : "ok");
	}
	/* Random operations and arguments: errors or success, no harm. */
	for (i = 0; i < 2000; i++) {
		uint64_t op, a1, a2;

		x = x * 6364136223846793005ULL + 1;
		op = x >> 61;
		x = x * 6364136223846793005ULL + 1;
		a1 = x >> (x & 31);
		x = x * 6364136223846793005ULL + 1;
		a2 = x >> (x & 63);

		if (op == KVM_X86_DSEG_VMM_ENABLE && (a1 & 1))
			a1 = GPA_SEG + (a1 & (SEG_SIZE - 1) & ~(PAGE - 1));
		if (!dseg_enable_cap(vm, op, a1, a2))
			ok++;
	}
	ksft_print_msg("g: %u of 2000 random operations succeeded\n", ok);
	dseg_enable_cap(vm, KVM_X86_DSEG_VMM_DISABLE, 0, 0);

	/* The guest may not aim its segment outside its memory. */
	vec = guest_wrmsr(MSR_DSEG_CTL, 0, &back);
	if (!npt) {
		CHECK(vec == 13, "guest wrmsr DSEG_CTL under shadow paging: vector %u, wanted #GP",
		      vec);
		goto out;
	}
	guest_seg_data(no_filter);
	/* Offset that puts the segment beyond every memslot */
	vec = guest_wrmsr(MSR_DSEG_OFFSET, 0x7000000000UL - GVA_DATA, &back);
	CHECK(vec == 13 && back == GPA_DATA - GVA_DATA,
	      "guest OFFSET out of memory: vector %u, reads 0x%lx, wanted #GP and 0x%lx",
	      vec, back, GPA_DATA - GVA_DATA);
	vec = guest_wrmsr(MSR_DSEG_BASE, GVA_DATA + 1, &back);
	CHECK(vec == 13 && back == GVA_DATA,
	      "guest BASE unaligned: vector %u, reads 0x%lx", vec, back);
	vec = guest_wrmsr(MSR_DSEG_LIMIT, 0x0000900000000000UL, &back);
	CHECK(vec == 13, "guest LIMIT non-canonical: vector %u", vec);
	vec = guest_wrmsr(MSR_DSEG_CTL, DSEG_CTL_EN | 2, &back);
	CHECK(vec == 13 && back == DSEG_CTL_EN,
	      "guest CTL reserved bit: vector %u, reads 0x%lx", vec, back);
	/* Over the memslot's end: part of the segment is not RAM */
	vec = guest_wrmsr(MSR_DSEG_LIMIT, GVA_DATA + SEG_SIZE, &back);
	CHECK(vec == 13 && back == GVA_DATA + NPAGES * PAGE,
	      "guest LIMIT past the memslot: vector %u, reads 0x%lx", vec, back);
	/* The segment still works after all that. */
	measure("g after bad input", &c);
	CHECK(c.v[CNT_DSEG_GUEST_HITS] >= NPAGES,
	      "dseg_guest_hits %lu after the rejected writes, wanted >= %lu",
	      c.v[CNT_DSEG_GUEST_HITS], NPAGES);
	guest_seg(false, 0, 0, 0, no_filter);
out:
	ksft_test_result(case_ok, "g: bad arguments and guest MSR writes are refused\n");
}

/* The 1 GiB page behind the segment: NULL if none can be had. */
static void *map_gigantic_page(void)
{
	const char *nr = "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages";
	FILE *f = fopen(nr, "w");
	void *p;

	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
	p = mmap(NULL, GB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (30 << MAP_HUGE_SHIFT),
		 -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * The guest's page tables for the data, in the segment's memslot: a copy
 * of the library's PML4 with entry 1 added, a PDPT, a PD and 16 PTs.
 */
static void build_page_tables(void)
{
	uint64_t *pml4 = (uint64_t *)seg_hva;
	uint64_t *pdpt = (uint64_t *)(seg_hva + PAGE);
	uint64_t *pd = (uint64_t *)(seg_hva + 2 * PAGE);
	uint64_t *pt = (uint64_t *)(seg_hva + 3 * PAGE);
	struct kvm_sregs sregs;
	uint64_t i;

	memcpy(pml4, addr_gpa2hva(vm, vm->pgd), PAGE);
	pml4[(GVA_DATA >> 39) & 511] = (GPA_SEG + PAGE) | PTE_P | PTE_W;
	pdpt[(GVA_DATA >> 30) & 511] = (GPA_SEG + 2 * PAGE) | PTE_P | PTE_W;
	for (i = 0; i < NPAGES / 512; i++)
		pd[i] = (GPA_SEG + (3 + i) * PAGE) | PTE_P | PTE_W;
	for (i = 0; i < NPAGES; i++)
		pt[i] = (GPA_DATA + i * PAGE) | PTE_P | PTE_W;
	TEST_ASSERT(3 + NPAGES / 512 <= DATA_OFF / PAGE, "page tables overlap the data");

	vcpu_sregs_get(vcpu, &sregs);
	sregs.cr3 = GPA_SEG;
	vcpu_sregs_set(vcpu, &sregs);
}

int main(int argc, char *argv[])
{
	uint32_t eax, ebx, ecx, edx;
	unsigned int caps;
	struct ucall uc;
	bool npt;

	ksft_print_header();
	mmu_ext_cpuid(&eax, &ebx, &ecx, &edx);
	__TEST_REQUIRE((eax & MMUCNT_CPUID_BIT) && (eax & DSEG_CPUID_BIT),
		       "CPUID 0x%x EAX 0x%x: no mmu-counters or direct-segments",
		       MMUCNT_LEAF, eax);
	msr_dev_open(0);
	npt = kvm_amd_npt();
	caps = kvm_check_cap(KVM_CAP_X86_DIRECT_SEGMENT);
	ksft_print_msg("kvm_amd paging mode: %s, KVM_CAP_X86_DIRECT_SEGMENT 0x%x\n",
		       npt ? "nested" : "shadow", caps);

	vm = vm_create_one_vcpu_no_agile(&vcpu, guest_code);
	/* wrmsr_safe() needs the exception fixup of the library's IDT. */
	vm_init_descriptor_tables(vm);
	vcpu_init_descriptor_tables(vcpu);
	if (!npt) {
		ksft_set_plan(2);
		ksft_test_result(caps == 0,
				 "direct segments not offered without nested paging\n");
		expect_stage(vcpu, STAGE_IDLE, &uc);
		test_bad_input(false);
		goto done;
	}
	TEST_ASSERT(caps == (KVM_X86_DSEG_VMM | KVM_X86_DSEG_GUEST),
		    "KVM_CAP_X86_DIRECT_SEGMENT 0x%x under nested paging, wanted 0x3",
		    caps);

	seg_hva = map_gigantic_page();
	if (!seg_hva) {
		ksft_print_msg("no 1 GiB hugetlb page: %s\n", strerror(errno));
		ksft_exit_skip("the VMM segment needs 1 GiB of contiguous memory\n");
	}
	vm_set_user_memory_region(vm, SLOT_SEG, 0, GPA_SEG, SEG_SIZE, seg_hva);
	build_page_tables();
	expect_stage(vcpu, STAGE_IDLE, &uc);

	ksft_set_plan(7);
	test_base();
	test_vmm_direct();
	test_dual_direct();
	test_guest_direct();
	test_escapes();
	test_fallback();
	test_bad_input(true);
done:
	kvm_vm_free(vm);
	if (seg_hva)
		munmap(seg_hva, GB);
	ksft_finished();
}
