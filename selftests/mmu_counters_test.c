// SPDX-License-Identifier: GPL-2.0-only
/*
 * mmu_counters_test
 *
 * The page-walk counters of the emulated CPU (MMUCNT,
 * Documentation/hw/mmu-extensions.rst) count what the spec says for a
 * KVM guest, in the paging mode L1's KVM runs in: nested paging (NPT) or
 * shadow paging.  The test runs on CPU 0 and reads that CPU's guest bank
 * through /dev/cpu/0/msr.  Each phase of the guest first writes every page
 * of its working set, so that the guest's A/D bits, KVM's NPT or shadow
 * entries and the host's backing all exist, and stops at a ucall; the
 * host resets the counters there; the guest then runs the measured pass
 * and stops at the next ucall, where the host reads the guest bank.
 *
 *   a. sequential pass over 8192 4 KiB pages, 4 KiB in both dimensions:
 *      one walk per page, 4 guest references per walk, 20 nested ones
 *      under NPT and none under shadow paging;
 *   b. (NPT only) the same with 2 MiB host pages behind the data: data
 *      walks cost 19 nested references instead of 20;
 *   c. 2 MiB guest pages over 2 MiB host pages: one walk per 2 MiB page,
 *      counted as large;
 *   d. random touches: walks scale with the working set beyond the
 *      modeled TLB's reach;
 *   e. reserved counter MSRs and CTL bits raise #GP (EIO), and the
 *      counters still work afterwards.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "mmuvirt_util.h"
#include "mmucnt.h"
#include "msr_dev.h"

/* The data of the test, in memslots of their own. */
#define SLOT_4K		10
#define SLOT_THP	11
#define GPA_4K		0xc0000000UL	/* 4 KiB host pages */
#define GPA_THP		0x100000000UL	/* transparent huge pages */
#define GVA_4K		0xc0000000UL	/* GPA_4K, 4 KiB guest pages */
#define GVA_THP_4K	0x100000000UL	/* GPA_THP, 4 KiB guest pages */
#define GVA_THP_2M	0x180000000UL	/* GPA_THP, 2 MiB guest pages */

#define PAGE		4096UL
#define PAGES_PER_2M	512
#define NPAGES		8192UL	/* 32 MiB: 3.9 times the data TLB's reach */
#define NPAGES_SMALL	256UL	/* well within the reach */
#define TOUCHES		16384UL

/*
 * Walks that a measured phase makes besides those of its data: the
 * instruction fetches of the loop and of the ucall code, the stack and
 * the ucall structure on it, and, after each #VMEXIT of the phase (host
 * interrupts: a 250 Hz tick, at most a few per phase), the re-walks of
 * code and stack entries that L1's own translations evicted from the
 * shared modeled TLB.  Each is at most a few dozen per phase (measured:
 * 1, the stack page for the last ucall, in a sequential phase); N/8 +
 * 256 leaves an order of magnitude of room and still catches a walk
 * counted twice for every eighth data page.
 */
#define SLACK(n)	((n) / 8 + 256)

enum { STAGE_IDLE = 1, STAGE_WARM, STAGE_MEASURED };

/* What the guest does in the next phase; the host sets it at STAGE_IDLE. */
struct phase {
	uint64_t gva;		/* first page of the working set */
	uint64_t npages;	/* pages in the working set */
	uint64_t touches;	/* 0: one sequential pass, else random touches */
	uint64_t seed;		/* of the random touches */
	uint64_t flush;		/* reload CR3 after the warm-up */
};

static struct phase phase;

static uint64_t lcg_next(uint64_t *x)
{
	*x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
	/* The low bits of a power-of-two LCG have short periods. */
	return *x >> 33;
}

static void guest_code(void)
{
	for (;;) {
		volatile uint64_t *p;
		struct phase ph;
		uint64_t i, k, x, sum = 0;

		GUEST_SYNC(STAGE_IDLE);
		/* The ucall is a call the compiler cannot see into. */
		ph = phase;
		p = (volatile uint64_t *)ph.gva;

		/* Fault in and dirty every page before measuring. */
		for (i = 0; i < ph.npages; i++)
			p[i * PAGE / 8] = i;
		/*
		 * MOV to CR3 drops the ASID's non-global translations (the
		 * guest has no global ones), so that no data page hits.
		 */
		if (ph.flush)
			asm volatile("mov %0, %%cr3" : : "r" (get_cr3()) : "memory");
		GUEST_SYNC(STAGE_WARM);

		if (!ph.touches) {
			for (i = 0; i < ph.npages; i++)
				sum += p[i * PAGE / 8];
		} else {
			x = ph.seed;
			for (k = 0; k < ph.touches; k++)
				sum += p[lcg_next(&x) % ph.npages * PAGE / 8];
		}
		GUEST_SYNC_ARGS(STAGE_MEASURED, sum, 0, 0, 0);
	}
}

/* The sum the guest's measured pass must report. */
static uint64_t expected_sum(const struct phase *ph)
{
	uint64_t k, x = ph->seed, sum = 0;

	if (!ph->touches)
		return ph->npages * (ph->npages - 1) / 2;
	for (k = 0; k < ph->touches; k++)
		sum += lcg_next(&x) % ph->npages;
	return sum;
}

struct counts {
	uint64_t walks, fetch, stlb_hits, refs_guest, refs_nested, faults,
		 large;
};

static void read_guest_bank(struct counts *c)
{
	uint64_t v[NR_COUNTERS];
	int i;

	for (i = 0; i < NR_COUNTERS; i++)
		v[i] = msr_read(MSR_MMUCNT_GUEST + i);
	c->walks = v[CNT_WALKS];
	c->fetch = v[CNT_WALKS_FETCH];
	c->stlb_hits = v[CNT_STLB_HITS];
	c->refs_guest = v[CNT_REFS_GUEST];
	c->refs_nested = v[CNT_REFS_NESTED];
	c->faults = v[CNT_WALK_FAULTS];
	c->large = v[CNT_WALKS_LARGE];
}

static void print_counts(const char *name, const struct counts *c)
{
	ksft_print_msg("%s: walks=%lu fetch_walks=%lu stlb_hits=%lu refs_guest=%lu refs_nested=%lu faults=%lu large=%lu\n",
		       name, c->walks, c->fetch, c->stlb_hits, c->refs_guest,
		       c->refs_nested, c->faults, c->large);
}

/* Start a phase: the guest writes its working set and stops. */
static void phase_warm_up(struct kvm_vm *vm, struct kvm_vcpu *vcpu,
			  uint64_t gva, uint64_t npages, uint64_t touches,
			  bool flush)
{
	struct ucall uc;

	phase = (struct phase) {
		.gva = gva,
		.npages = npages,
		.touches = touches,
		.seed = 0x2545f4914f6cdd1dULL ^ npages,
		.flush = flush,
	};
	sync_global_to_guest(vm, phase);
	expect_stage(vcpu, STAGE_WARM, &uc);
}

/* Reset the counters, run the measured pass, read the guest bank. */
static void phase_measure(struct kvm_vcpu *vcpu, const char *name,
			  struct counts *c)
{
	uint64_t want = expected_sum(&phase);
	struct ucall uc;

	msr_write(MSR_MMUCNT_CTL, MMUCNT_CTL_RESET | MMUCNT_CTL_EN);
	expect_stage(vcpu, STAGE_MEASURED, &uc);
	read_guest_bank(c);
	print_counts(name, c);
	TEST_ASSERT(uc.args[2] == want,
		    "%s: the guest read sum 0x%lx, wanted 0x%lx: wrong data behind the mapping",
		    name, uc.args[2], want);
	expect_stage(vcpu, STAGE_IDLE, &uc);
}

static void run_phase(struct kvm_vm *vm, struct kvm_vcpu *vcpu,
		      const char *name, uint64_t gva, uint64_t npages,
		      uint64_t touches, bool flush, struct counts *c)
{
	phase_warm_up(vm, vcpu, gva, npages, touches, flush);
	phase_measure(vcpu, name, c);
}

/*
 * Every walk of @c used 4 KiB pages in both dimensions: 4 references to
 * stage-1 tables (the guest's under NPT, KVM's shadow tables otherwise)
 * and, under NPT, 5 nested walks of 4 each.
 */
static void check_4k_walks(const struct counts *c, bool npt)
{
	CHECK(c->refs_guest == 4 * c->walks,
	      "refs_guest %lu, wanted 4 * walks = %lu", c->refs_guest,
	      4 * c->walks);
	if (npt)
		CHECK(c->refs_nested == 20 * c->walks,
		      "refs_nested %lu, wanted 20 * walks = %lu",
		      c->refs_nested, 20 * c->walks);
	else
		CHECK(c->refs_nested == 0,
		      "refs_nested %lu under shadow paging, wanted 0",
		      c->refs_nested);
	CHECK(c->large == 0, "walks_large %lu, wanted 0: nothing maps 2 MiB",
	      c->large);
	CHECK(c->faults == 0, "walk_faults %lu, wanted 0: every page was faulted in",
	      c->faults);
	CHECK(c->fetch <= c->walks, "fetch_walks %lu > walks %lu",
	      c->fetch, c->walks);
}

/* a. Sequential, 4 KiB everywhere: one walk per page. */
static void test_seq_4k(struct kvm_vm *vm, struct kvm_vcpu *vcpu, bool npt)
{
	struct counts c;

	case_ok = true;
	run_phase(vm, vcpu, "a", GVA_4K, NPAGES, 0, true, &c);
	/* After the CR3 flush each page is read once: one walk each. */
	CHECK(c.walks >= NPAGES, "walks %lu < %lu pages read", c.walks, NPAGES);
	CHECK(c.walks <= NPAGES + SLACK(NPAGES),
	      "walks %lu > %lu pages + slack %lu", c.walks, NPAGES,
	      SLACK(NPAGES));
	check_4k_walks(&c, npt);
	ksft_test_result(case_ok, "a: sequential 4K/4K, %lu pages: %lu walks, %.2f refs/walk\n",
			 NPAGES, c.walks,
			 c.walks ? (double)(c.refs_guest + c.refs_nested) / c.walks : 0);
}

/* KVM's 2 MiB mappings (NPT or shadow) of the VM, for the preconditions. */
static uint64_t kvm_pages_2m(struct kvm_vm *vm)
{
	return vm_get_stat(vm, "pages_2m");
}

/*
 * b. NPT, 4 KiB guest pages over 2 MiB host pages.  The guest's tables
 * are in memslot 0 (4 KiB host pages), so a data walk costs 4 guest
 * references and 4 * 4 + 3 = 19 nested ones (the last nested walk ends
 * at a 2 MiB NPT entry), and every other walk (code, stack, in memslot
 * 0) 4 + 20.  With D data and O other walks:
 *   refs_nested = 19 * D + 20 * O = 19 * walks + O = 20 * walks - D
 * so 19 * walks <= refs_nested < 20 * walks, and each data page read once
 * after the CR3 flush, D >= N, gives refs_nested <= 19 * walks +
 * (walks - N), i.e. refs_nested + N <= 20 * walks.
 */
static void test_seq_thp(struct kvm_vm *vm, struct kvm_vcpu *vcpu,
			 bool npt, const char *no_thp)
{
	uint64_t pages_2m;
	struct counts c;

	if (!npt) {
		ksft_test_result_skip("b: 2 MiB nested mappings: nested paging only\n");
		return;
	}
	if (no_thp) {
		ksft_test_result_skip("b: 2 MiB nested mappings: %s\n", no_thp);
		return;
	}
	case_ok = true;
	phase_warm_up(vm, vcpu, GVA_THP_4K, NPAGES, 0, true);
	pages_2m = kvm_pages_2m(vm);
	CHECK(pages_2m >= NPAGES / PAGES_PER_2M,
	      "KVM maps %lu 2 MiB pages, wanted >= %lu: no huge pages behind the THP memslot",
	      pages_2m, NPAGES / PAGES_PER_2M);
	phase_measure(vcpu, "b", &c);

	CHECK(c.walks >= NPAGES, "walks %lu < %lu pages read", c.walks, NPAGES);
	CHECK(c.walks <= NPAGES + SLACK(NPAGES),
	      "walks %lu > %lu pages + slack %lu", c.walks, NPAGES,
	      SLACK(NPAGES));
	CHECK(c.refs_guest == 4 * c.walks,
	      "refs_guest %lu, wanted 4 * walks = %lu", c.refs_guest,
	      4 * c.walks);
	CHECK(c.refs_nested >= 19 * c.walks,
	      "refs_nested %lu < 19 * walks = %lu: a walk cost less than 4 KiB guest tables over 2 MiB data",
	      c.refs_nested, 19 * c.walks);
	CHECK(c.refs_nested < 20 * c.walks,
	      "refs_nested %lu >= 20 * walks = %lu: no walk ended in a 2 MiB nested mapping",
	      c.refs_nested, 20 * c.walks);
	CHECK(c.refs_nested + NPAGES <= 20 * c.walks,
	      "refs_nested %lu > 19 * walks + (walks - %lu) = %lu: fewer than %lu walks of 19 nested refs",
	      c.refs_nested, NPAGES, 20 * c.walks - NPAGES, NPAGES);
	CHECK(c.large == 0,
	      "walks_large %lu, wanted 0: 4 KiB guest pages give 4 KiB entries",
	      c.large);
	CHECK(c.faults == 0, "walk_faults %lu, wanted 0", c.faults);
	ksft_test_result(case_ok, "b: sequential 4K guest/2M nested, %lu pages: %lu walks, %ld of 19 nested refs\n",
			 NPAGES, c.walks, (long)(20 * c.walks - c.refs_nested));
}

/*
 * c. 2 MiB guest pages over 2 MiB host pages: one walk per 2 MiB page
 * after the CR3 flush, N / 512 of them, each a large one.  A large walk
 * reads 3 guest entries; under NPT it makes 3 nested walks of memslot
 * 0's 4 KiB pages (the guest's tables) and one of 3 references for the
 * data: 15 nested references, 5 fewer than a 4 KiB walk.
 */
static void test_seq_2m(struct kvm_vm *vm, struct kvm_vcpu *vcpu, bool npt,
			const char *no_thp)
{
	uint64_t pages_2m;
	struct counts c;

	if (no_thp) {
		ksft_test_result_skip("c: 2 MiB guest mappings: %s\n", no_thp);
		return;
	}
	case_ok = true;
	phase_warm_up(vm, vcpu, GVA_THP_2M, NPAGES, 0, true);
	pages_2m = kvm_pages_2m(vm);
	CHECK(pages_2m >= NPAGES / PAGES_PER_2M,
	      "KVM maps %lu 2 MiB pages, wanted >= %lu: no huge pages behind the guest's 2 MiB pages",
	      pages_2m, NPAGES / PAGES_PER_2M);
	phase_measure(vcpu, "c", &c);

	CHECK(c.walks < NPAGES / 8, "walks %lu >= %lu for %lu 2 MiB pages",
	      c.walks, NPAGES / 8, NPAGES / PAGES_PER_2M);
	CHECK(c.large >= NPAGES / PAGES_PER_2M,
	      "walks_large %lu < %lu 2 MiB pages read after the CR3 flush",
	      c.large, NPAGES / PAGES_PER_2M);
	CHECK(c.large <= c.walks, "walks_large %lu > walks %lu", c.large,
	      c.walks);
	CHECK(c.refs_guest == 4 * c.walks - c.large,
	      "refs_guest %lu, wanted 4 * walks - walks_large = %lu",
	      c.refs_guest, 4 * c.walks - c.large);
	if (npt)
		CHECK(c.refs_nested == 20 * c.walks - 5 * c.large,
		      "refs_nested %lu, wanted 20 * walks - 5 * walks_large = %lu",
		      c.refs_nested, 20 * c.walks - 5 * c.large);
	else
		CHECK(c.refs_nested == 0,
		      "refs_nested %lu under shadow paging, wanted 0",
		      c.refs_nested);
	CHECK(c.faults == 0, "walk_faults %lu, wanted 0", c.faults);
	ksft_test_result(case_ok, "c: sequential 2M/2M, %lu pages: %lu walks, %lu large\n",
			 NPAGES, c.walks, c.large);
}

/*
 * d. Random touches of a working set larger than the modeled data TLB
 * miss about in proportion to the part of the set beyond the TLB's reach:
 * a uniformly random touch hits at most reach / N of the time, so about
 * M * (1 - reach / N) of M touches walk.  Half of that is the bound: FIFO
 * replacement and the L1/L2 split only lower the hit rate.  A set within
 * the reach, touched as often, walks for little more than its code and
 * stack; a quarter of the big set's walks is the bound.  The small set
 * is four times the L1 data TLB, so by the same argument at least
 * M * (1 - l1d / N) / 2 of its touches miss L1 and hit the L2 TLB.
 */
static void test_random(struct kvm_vm *vm, struct kvm_vcpu *vcpu, bool npt,
			uint64_t reach, uint64_t l1d)
{
	struct counts big, small;
	uint64_t want;

	case_ok = true;
	TEST_ASSERT(reach > 0 && reach < NPAGES,
		    "modeled data TLB reach %lu entries, wanted 1..%lu",
		    reach, NPAGES - 1);
	TEST_ASSERT(l1d > 0 && l1d < NPAGES_SMALL,
		    "modeled L1 data TLB %lu entries, wanted 1..%lu",
		    l1d, NPAGES_SMALL - 1);
	run_phase(vm, vcpu, "d big", GVA_4K, NPAGES, TOUCHES, false, &big);
	run_phase(vm, vcpu, "d small", GVA_4K, NPAGES_SMALL, TOUCHES, false,
		  &small);

	want = TOUCHES * (NPAGES - reach) / NPAGES / 2;
	CHECK(big.walks >= want,
	      "big set: walks %lu < %lu = %lu touches * (1 - %lu / %lu) / 2",
	      big.walks, want, TOUCHES, reach, NPAGES);
	CHECK(big.walks <= TOUCHES + SLACK(TOUCHES),
	      "big set: walks %lu > %lu touches + slack %lu", big.walks,
	      TOUCHES, SLACK(TOUCHES));
	CHECK(small.walks * 4 < big.walks,
	      "small set: walks %lu >= big set's walks %lu / 4",
	      small.walks, big.walks);
	want = TOUCHES * (NPAGES_SMALL - l1d) / NPAGES_SMALL / 2;
	CHECK(small.stlb_hits >= want && small.stlb_hits <= TOUCHES + SLACK(TOUCHES),
	      "small set: stlb_hits %lu, wanted %lu..%lu (L1D %lu entries)",
	      small.stlb_hits, want, TOUCHES + SLACK(TOUCHES), l1d);
	check_4k_walks(&big, npt);
	check_4k_walks(&small, npt);
	ksft_test_result(case_ok, "d: random, %lu touches: %lu walks over %lu pages, %lu over %lu (reach %lu)\n",
			 TOUCHES, big.walks, NPAGES, small.walks, NPAGES_SMALL,
			 reach);
}

/*
 * e. Reserved MSRs and CTL bits #GP (EIO); the counters still work.  The
 * bank has @nr counters: more with direct segments.
 */
static void test_bad_msrs(uint32_t nr, bool agile)
{
	const uint32_t reserved[] = {
		MSR_MMUCNT_HOST + nr, MSR_MMUCNT_GUEST + nr,
		MSR_MMUCNT_GUEST + 15,
	};
	uint64_t val;
	unsigned int i;
	int r;

	case_ok = true;
	for (i = 0; i < ARRAY_SIZE(reserved); i++) {
		r = __msr_read(reserved[i], &val);
		CHECK(r == -EIO, "rdmsr 0x%x (reserved counter): %s, wanted EIO (#GP)",
		      reserved[i], r ? strerror(-r) : "succeeded");
	}
	/* The agile paging counters exist exactly with the feature. */
	r = __msr_read(MSR_MMUCNT_AGILE_GUEST + NR_COUNTERS_AGILE - 1 -
		       CNT_AGILE_WALKS, &val);
	CHECK(agile ? !r : r == -EIO,
	      "rdmsr 0x%x (last agile counter) %s agile paging: %s",
	      MSR_MMUCNT_AGILE_GUEST + NR_COUNTERS_AGILE - 1 - CNT_AGILE_WALKS,
	      agile ? "with" : "without", r ? strerror(-r) : "succeeded");
	r = __msr_write(MSR_MMUCNT_CTL, MMUCNT_CTL_EN | BIT_ULL(1));
	CHECK(r == -EIO, "wrmsr CTL <- EN|bit 1 (reserved): %s, wanted EIO (#GP)",
	      r ? strerror(-r) : "succeeded");

	/* The failed write changed nothing; RESET reads as 0. */
	r = __msr_read(MSR_MMUCNT_CTL, &val);
	CHECK(!r && val == MMUCNT_CTL_EN, "rdmsr CTL: %s, value 0x%lx, wanted 0x1 (EN)",
	      r ? strerror(-r) : "ok", val);
	/* A counter is writable, keeps its value and RESET clears it. */
	r = __msr_write(MSR_MMUCNT_GUEST + CNT_WALKS_LARGE, 12345);
	CHECK(!r, "wrmsr GUEST[6] <- 12345: %s", r ? strerror(-r) : "");
	r = __msr_read(MSR_MMUCNT_GUEST + CNT_WALKS_LARGE, &val);
	CHECK(!r && val == 12345, "rdmsr GUEST[6]: %s, value %lu, wanted 12345",
	      r ? strerror(-r) : "ok", val);
	r = __msr_write(MSR_MMUCNT_CTL, MMUCNT_CTL_RESET | MMUCNT_CTL_EN);
	CHECK(!r, "wrmsr CTL <- RESET|EN: %s", r ? strerror(-r) : "");
	for (i = 0; i < NR_COUNTERS; i++) {
		r = __msr_read(MSR_MMUCNT_GUEST + i, &val);
		CHECK(!r && val == 0, "rdmsr GUEST[%u] after RESET: %s, value %lu, wanted 0",
		      i, r ? strerror(-r) : "ok", val);
		r = __msr_read(MSR_MMUCNT_HOST + i, &val);
		CHECK(!r, "rdmsr HOST[%u] after RESET: %s", i,
		      r ? strerror(-r) : "");
	}
	r = __msr_read(MSR_MMUCNT_CTL, &val);
	CHECK(!r && val == MMUCNT_CTL_EN, "rdmsr CTL after RESET: %s, value 0x%lx, wanted 0x1",
	      r ? strerror(-r) : "ok", val);
	ksft_test_result(case_ok, "e: reserved MSRs and CTL bits raise #GP, counters still work\n");
}

/* NULL when THP is usable, else why not. */
static const char *thp_unusable(void)
{
	char buf[128] = "";
	ssize_t n;
	int fd;

	fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY);
	if (fd < 0)
		return "no transparent huge pages in the host kernel";
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0 && strstr(buf, "[never]"))
		return "transparent huge pages are disabled ([never])";
	return NULL;
}

int main(int argc, char *argv[])
{
	uint32_t eax, ebx, ecx, edx;
	struct kvm_vcpu *vcpu;
	const char *no_thp;
	struct kvm_vm *vm;
	struct ucall uc;
	uint64_t reach;
	bool npt;

	ksft_print_header();

	mmu_ext_cpuid(&eax, &ebx, &ecx, &edx);
	__TEST_REQUIRE(eax & 1, "CPUID 0x%x EAX bit 0 (mmu-counters) is 0",
		       MMUCNT_LEAF);
	reach = (ebx & 0xffff) + (ebx >> 16);
	ksft_print_msg("modeled TLB: L1D %u, L2D %u (%u-way), L1I %u, L2I %u (%u-way); data reach %lu\n",
		       ebx & 0xffff, ebx >> 16, edx & 0xff, ecx & 0xffff,
		       ecx >> 16, (edx >> 8) & 0xff, reach);

	/* The counters are per CPU: stay on CPU 0 with the vCPU. */
	msr_dev_open(0);

	ksft_set_plan(5);
	npt = kvm_amd_npt();
	no_thp = thp_unusable();
	ksft_print_msg("kvm_amd paging mode: %s\n", npt ? "nested" : "shadow");

	/*
	 * The extra pages size memslot 0 for the data's page tables.  The
	 * counting rules checked here are those of nested and shadow paging:
	 * no agile paging, also under kvm_amd.agile=1.
	 */
	vm = __vm_create_one_vcpu_no_agile(&vcpu, 3 * NPAGES, guest_code);
	/* VM_MEM_SRC_ANONYMOUS is MADV_NOHUGEPAGE, like memslot 0. */
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, GPA_4K, SLOT_4K,
				    NPAGES, 0);
	virt_map(vm, GVA_4K, GPA_4K, NPAGES);
	if (!no_thp) {
		vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS_THP,
					    GPA_THP, SLOT_THP, NPAGES, 0);
		virt_map(vm, GVA_THP_4K, GPA_THP, NPAGES);
		virt_map_level(vm, GVA_THP_2M, GPA_THP, NPAGES * PAGE,
			       PG_LEVEL_2M);
	}
	expect_stage(vcpu, STAGE_IDLE, &uc);

	test_seq_4k(vm, vcpu, npt);
	test_seq_thp(vm, vcpu, npt, no_thp);
	test_seq_2m(vm, vcpu, npt, no_thp);
	test_random(vm, vcpu, npt, reach, ebx & 0xffff);
	/* The first counter index past the last feature the CPU has. */
	test_bad_msrs(eax & TPT_CPUID_BIT ? NR_COUNTERS_TPT :
		      eax & DSEG_CPUID_BIT ? NR_COUNTERS_DSEG : NR_COUNTERS,
		      eax & AGILE_CPUID_BIT);

	kvm_vm_free(vm);
	close(msr_fd);
	ksft_finished();
}
