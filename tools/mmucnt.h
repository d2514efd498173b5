/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The page-walk counters of the emulated CPU (MMUCNT), as specified in
 * Documentation/hw/mmu-extensions.rst: the CPUID leaf, the MSRs and the
 * counter indices of a bank.  Shared by tools/mmu-count.c and
 * selftests/mmu_counters_test.c.
 */
#ifndef MMUVIRT_MMUCNT_H
#define MMUVIRT_MMUCNT_H

#define MMUCNT_LEAF		0x80000030u
#define MMUCNT_CPUID_BIT	(1u << 0)

#define MSR_MMUCNT_CTL		0xc0011f00u
#define MSR_MMUCNT_HOST		0xc0011f10u
#define MSR_MMUCNT_GUEST	0xc0011f20u
#define MMUCNT_CTL_EN		(1ULL << 0)
#define MMUCNT_CTL_RESET	(1ULL << 63)

/* The counter indices of a bank, in MSR order. */
enum {
	CNT_WALKS,
	CNT_WALKS_FETCH,
	CNT_STLB_HITS,
	CNT_REFS_GUEST,
	CNT_REFS_NESTED,
	CNT_WALK_FAULTS,
	CNT_WALKS_LARGE,
	NR_COUNTERS,
	/* With direct segments (DSEG_CPUID_BIT) the bank goes on: */
	CNT_DSEG_CHECKS = NR_COUNTERS,
	CNT_DSEG_GUEST_HITS,
	CNT_DSEG_VMM_HITS,
	CNT_DSEG_ESCAPES,
	CNT_DSEG_FALSE_ESCAPES,
	NR_COUNTERS_DSEG,
	/* Translation Pass-Through, with TPT_CPUID_BIT */
	CNT_TPT_REFS_TAG = NR_COUNTERS_DSEG,
	CNT_TPT_WALKS,
	CNT_TPT_TAG_FAULTS,
	NR_COUNTERS_TPT,
	/*
	 * Agile paging, with AGILE_CPUID_BIT, in MSRs of their own
	 * (MSR_MMUCNT_AGILE_HOST/GUEST + index - CNT_AGILE_WALKS); index 15
	 * is reserved.  CNT_AGILE_SWITCH_L0 + n: walks whose nested part
	 * began at the guest's table of level n (0: all shadow).
	 */
	CNT_AGILE_WALKS = 16,
	CNT_AGILE_REFS_SHADOW,
	CNT_AGILE_SWITCH_L0,
	CNT_AGILE_SWITCH_L1,
	CNT_AGILE_SWITCH_L2,
	CNT_AGILE_SWITCH_L3,
	CNT_AGILE_SWITCH_L4,
	CNT_AGILE_SWITCH_L5,
	NR_COUNTERS_AGILE,
	/*
	 * Where the references were served, in MSRs of their own
	 * (MSR_MMUCNT_CACHE_HOST/GUEST + index - CNT_REFS_GUEST_MEM); they
	 * exist with MMUCNT and matter with PWC_CPUID_BIT or NTLB_CPUID_BIT.
	 * REFS_GUEST = GUEST_MEM + GUEST_PWC, REFS_NESTED = NESTED_MEM +
	 * NESTED_PWC + NESTED_NTLB.
	 */
	CNT_REFS_GUEST_MEM = NR_COUNTERS_AGILE,
	CNT_REFS_GUEST_PWC,
	CNT_REFS_NESTED_MEM,
	CNT_REFS_NESTED_PWC,
	CNT_REFS_NESTED_NTLB,
	CNT_NTLB_HITS,
	CNT_NTLB_MISSES,
	NR_COUNTERS_ALL
};

/* Direct segments: the CPUID bit and the guest segment's MSRs */
#define DSEG_CPUID_BIT		(1u << 1)
#define MSR_DSEG_CTL		0xc0011f30u
#define MSR_DSEG_BASE		0xc0011f31u
#define MSR_DSEG_LIMIT		0xc0011f32u
#define MSR_DSEG_OFFSET		0xc0011f33u
#define MSR_DSEG_FILTER0	0xc0011f34u
#define DSEG_CTL_EN		(1ULL << 0)

/* Translation Pass-Through: the CPUID bit and the guest's TPT root */
#define TPT_CPUID_BIT		(1u << 2)
#define MSR_TPT_CR3		0xc0011f42u
#define TPT_CR3_V		(1ULL << 0)
#define TPT_PAGE_GPA		(1ULL << 52)

/* Agile paging: the CPUID bit and the MSRs of counters 16 to 23 */
#define AGILE_CPUID_BIT		(1u << 3)
#define MSR_MMUCNT_AGILE_HOST	0xc0011f50u
#define MSR_MMUCNT_AGILE_GUEST	0xc0011f58u

/* Page-walk caches and nested TLB: the CPUID bits, counters 24 to 30 */
#define PWC_CPUID_BIT		(1u << 4)
#define NTLB_CPUID_BIT		(1u << 5)
#define MSR_MMUCNT_CACHE_HOST	0xc0011f60u
#define MSR_MMUCNT_CACHE_GUEST	0xc0011f68u

#endif /* MMUVIRT_MMUCNT_H */
