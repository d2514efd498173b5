// SPDX-License-Identifier: GPL-2.0-only
/*
 * agile_test
 *
 * Agile paging in KVM (Documentation/agile.rst; the hardware in
 * Documentation/hw/mmu-extensions.rst).  The guest maps 64 data pages with
 * 4 KiB pages and the page table (PT) that maps them at PT_VA, so that it
 * can rewrite its own PTEs.  The same guest runs in an agile VM and in a
 * nested-paging VM:
 *
 *   a. KVM_CAP_X86_AGILE_PAGING rejects bad arguments, a mode change once
 *      vCPUs exist and TPT beside it, KVM_X86_DSEG_VMM_ENABLE refuses a
 *      VMM direct segment on an agile VM (-EBUSY), and the capability
 *      takes a new interval and a new highest level of a table in nested
 *      mode any time;
 *   b. a static address space stays in shadow mode: no page table moves,
 *      and every walk of the CPU is a shadow walk of 4 references;
 *   c. the guest rewrites one PTE 400 times: the PT goes to nested mode
 *      after its second write-protect fault (two-update policy), the rest
 *      cost no exit, the CPU's walks switch at the PDE, and every read
 *      sees the frame the PTE points at;
 *   d. a write to a page the PT makes read-only is a #PF for the guest
 *      with the PT in nested mode, and again after the dirty-bit scan has
 *      put the PT back in shadow mode (nothing wrote it for an interval);
 *      a PTE write is a write-protect fault again then;
 *   e. U/S and NX across the switching point: with the PT in nested mode
 *      the guest makes one page a user page and another no-execute in its
 *      PTEs; a supervisor read of the user page (SMAP), a fetch from it
 *      (SMEP) and a fetch from the NX page are #PFs with the error codes
 *      of native paging, a read with EFLAGS.AC set and a fetch from an
 *      ordinary page are not.  Clearing U/S in the PDE (a shadow-mode
 *      table: the switching entry carries the upper levels' access) makes
 *      the user page a supervisor page until U/S is set again.  The same
 *      accesses give the same results after the scan has put the tables
 *      back in shadow mode.  The VM takes kvm_amd's defaults, which the
 *      test sets (agile_interval_ms 200, agile_max_level 1): the PDE's
 *      two writes leave the PD in shadow mode in the first pass, and no
 *      walk switches above a PDE.  With the highest level set to 3 (the
 *      paper's policy) before the second pass, the same writes put the
 *      PD in nested mode and walks switch at the PDPTE;
 *   f. the guest switches 200 times between its address space and a copy
 *      that maps page 0 elsewhere: with the CPU's CR3 map (kvm_amd
 *      agile_cr3_map) the switches cost fewer than 20 exits in all, KVM
 *      follows them (agile_cr3_switches), and every read after a switch
 *      sees the frame of that address space;
 *   g. global pages across CR3 writes: with CR4.PGE the guest switches
 *      200 times between the two address spaces, all in shadow mode, and
 *      reads a page whose PTEs are global in both after each switch, then
 *      does the same with a page that is not global.  With the CR3 map
 *      the global page costs at least 180 walks fewer: KVM gives shadow
 *      leaves the guest's G bit, so the CPU keeps the translation across
 *      the switches as native paging does;
 *   h. with the PT in nested mode (and a switching entry to it, made by
 *      a read of another page) the guest reads a page whose PTE it
 *      cleared 100 times: every read is a #PF with native paging's error
 *      code and CR2, and with AGILE_CTL_GUEST_PF (kvm_amd agile_guest_pf)
 *      the CPU delivers them without an exit (KVM's pf_guest stays put);
 *   i. the agile VM's results equal the nested-paging VM's;
 *   j. a page table reused as a page directory: the guest writes the PT
 *      of X_VA twice (it goes to nested mode), unlinks it from its PD,
 *      fills its page with PDEs and links it as the PD of Y_VA, all
 *      within one interval.  Reads through Y_VA must see the right
 *      frames, and no walk may switch above a PDE: nested mode belonged
 *      to the page table, and the page directory is another table (KVM
 *      shadows it, agile_max_level is 1 here).
 *   k. a page table in nested mode that the guest unlinks and then writes
 *      as data, without a break, for four intervals of the dirty-bit
 *      scan: no switching SPTE points at it any more, so the scan must put
 *      it back in shadow mode and forget it although it is written (before,
 *      its writes kept it in nested mode, and in every scan's TLB flush,
 *      for as long as the guest wrote it).
 *   l. a page directory above agile_max_level (so in shadow mode for
 *      good) that the guest unlinks and writes 1000 times as data: KVM's
 *      write-flooding detection must zap its shadow page after a few
 *      writes, as under shadow paging, so that the rest cost no exit.
 *
 * Under shadow paging KVM must not offer the capability: the test checks
 * that and skips the rest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "mmuvirt_util.h"
#include "mmucnt.h"
#include "msr_dev.h"
#include "guest_pf.h"

#ifndef KVM_CAP_X86_AGILE_PAGING
#error "build against the patched kernel's headers (KVM_CAP_X86_AGILE_PAGING)"
#endif

#define PAGE		4096UL
#define PTE_P		(1UL << 0)
#define PTE_W		(1UL << 1)
#define PTE_U		(1UL << 2)
#define PTE_G		(1UL << 8)
#define PTE_NX		(1UL << 63)
#define PTE_ADDR	0x000ffffffffff000UL

/* #PF error codes */
#define PFEC_P		(1UL << 0)
#define PFEC_FETCH	(1UL << 4)

#define SLOT		10
#define DATA_GPA	0xc0000000UL
#define DATA_VA		0xc0000000UL
#define NPAGES		64
#define FRAME_A		(DATA_GPA + NPAGES * PAGE)
#define FRAME_B		(FRAME_A + PAGE)
#define PT_VA		0x80000000UL	/* the PT that maps DATA_VA */
#define PD_VA		(PT_VA + PAGE)	/* the PD that maps that PT */
#define PDPT_VA		(PT_VA + 2 * PAGE)	/* ... and its PDPT */
/* Case j: the page table of X_VA, mapped at XPT_VA, becomes Y_VA's PD */
#define X_VA		(DATA_VA + (2UL << 20))
#define XPT_VA		(PT_VA + 3 * PAGE)
#define X_PG		10
#define Y_VA		0x100000000UL
#define Y_FIRST_PG	8
#define Y_PAGES		8
#define Y_ROUNDS	64
/* Case k: the page table of Z_VA, mapped at ZPT_VA, unlinked and written */
#define Z_VA		(DATA_VA + (4UL << 20))
#define ZPT_VA		(PT_VA + 4 * PAGE)
#define Z_PG		12
#define K_SCANS		4
/* Case l: the page directory of W_VA, mapped at WPD_VA, unlinked and written */
#define W_VA		0x140000000UL
#define WPD_VA		(PT_VA + 5 * PAGE)
#define W_PG		13
#define L_WRITES	1000

/* Pages with a special role in case e, and where their code is */
#define USER_PG		2
#define NX_PG		3
#define CODE_PG		4
#define CODE_OFF	64
/* The page that case h makes not present */
#define ABSENT_PG	5
/* case g: global in both address spaces, and its non-global neighbour */
#define GLOBAL_PG	8
#define NONGLOBAL_PG	9

#define PAT(i)		(0x5a5a000000000000UL | (i))
#define PAT_A		0xaaaaaaaaaaaaaaaaUL
#define PAT_B		0xbbbbbbbbbbbbbbbbUL
#define ROUNDS		400
#define CR3_ROUNDS	200
#define PF_ROUNDS	100
#define INTERVAL_MS	200

/* The guest's PTEs of DATA_VA's pages, through the PT mapped at PT_VA */
#define DATA_PTE(i)	((volatile uint64_t *)PT_VA + \
			 ((DATA_VA / PAGE) & 511) + (i))
/* ... and the PDE of that PT, through the PD mapped at PD_VA */
#define DATA_PDE	((volatile uint64_t *)PD_VA + ((DATA_VA >> 21) & 511))
/* case j: X_VA's PDE in the same PD, Y_VA's PDPTE in the PDPT above */
#define X_PDE		((volatile uint64_t *)PD_VA + ((X_VA >> 21) & 511))
#define Y_PDPTE		((volatile uint64_t *)PDPT_VA + ((Y_VA >> 30) & 511))
#define XPT		((volatile uint64_t *)XPT_VA)
#define Z_PDE		((volatile uint64_t *)PD_VA + ((Z_VA >> 21) & 511))
#define ZPT		((volatile uint64_t *)ZPT_VA)
#define W_PDPTE		((volatile uint64_t *)PDPT_VA + ((W_VA >> 30) & 511))
#define WPD		((volatile uint64_t *)WPD_VA)

#define PG_VA(i)	(DATA_VA + (i) * PAGE)

/*
 * Case e's results, one set with the tables in nested mode and one with
 * them back in shadow mode.  The host reads them with
 * sync_global_from_guest().
 */
enum perm_check {
	SMAP_READ,		/* supervisor read of a user page */
	SMAP_READ_AC,		/* the same with EFLAGS.AC set */
	SMEP_FETCH,		/* supervisor fetch from a user page */
	NX_FETCH,		/* fetch from an NX page */
	FETCH,			/* fetch from an ordinary page */
	PDE_SUPERVISOR,		/* the user page's read, PDE U/S clear */
	PDE_USER,		/* ... and set again */
	NR_PERM_CHECKS
};

struct perm_result {
	uint64_t vec[NR_PERM_CHECKS];
	uint64_t ec[NR_PERM_CHECKS];
	uint64_t cr2[NR_PERM_CHECKS];
};

static struct perm_result perm[2];
static bool guest_smap;		/* CR4.SMAP is set: STAC and CLAC exist */
static uint64_t cr3_a, cr3_b;	/* case f: the two address spaces */
static volatile bool k_stop;	/* case k: the host ends the writes */

/*
 * With @walk, each read misses the TLB: the CPU walks for every page.
 * EFLAGS.AC lets the reads reach the user page of case e under SMAP.
 */
static uint64_t sum_pages(bool walk)
{
	uint64_t sum = 0;
	int i;

	if (guest_smap)
		asm volatile("stac" ::: "memory");
	for (i = 0; i < NPAGES; i++) {
		if (walk)
			invlpg(DATA_VA + i * PAGE);
		sum += *(volatile uint64_t *)(DATA_VA + i * PAGE) * (i + 1);
	}
	if (guest_smap)
		asm volatile("clac" ::: "memory");
	return sum;
}

static uint8_t write_safe(uint64_t va, uint64_t val)
{
	return kvm_asm_safe("movq %[v], (%[p])", [p] "r"(va), [v] "r"(val));
}

static uint8_t read_safe(uint64_t va, uint64_t *val)
{
	uint8_t vec;

	*val = 0;
	asm volatile(KVM_ASM_SAFE("movq (%[p]), %[v]")
		     : KVM_ASM_SAFE_OUTPUTS(vec), [v] "+r"(*val)
		     : [p] "r"(va)
		     : KVM_ASM_SAFE_CLOBBERS, "memory");
	return vec;
}

static void perm_record(struct perm_result *res, enum perm_check c,
			uint8_t vec)
{
	res->vec[c] = vec;
	res->ec[c] = vec ? pf_ec : 0;
	res->cr2[c] = vec ? pf_cr2 : 0;
}

/* Case e: the page at USER_PG is a user page, the one at NX_PG is NX. */
static void perm_checks(struct perm_result *res)
{
	volatile uint64_t *pde = DATA_PDE;
	uint64_t v;
	uint8_t vec;

	vec = read_safe(PG_VA(USER_PG), &v);
	perm_record(res, SMAP_READ, vec);

	if (guest_smap)
		asm volatile("stac" ::: "memory");
	vec = read_safe(PG_VA(USER_PG), &v);
	if (guest_smap)
		asm volatile("clac" ::: "memory");
	GUEST_ASSERT_2(vec || v == PAT(USER_PG), vec, v);
	perm_record(res, SMAP_READ_AC, vec);

	perm_record(res, SMEP_FETCH, exec_safe(PG_VA(USER_PG) + CODE_OFF));
	perm_record(res, NX_FETCH, exec_safe(PG_VA(NX_PG) + CODE_OFF));
	perm_record(res, FETCH, exec_safe(PG_VA(CODE_PG) + CODE_OFF));

	*pde &= ~PTE_U;
	invlpg(PG_VA(USER_PG));
	vec = read_safe(PG_VA(USER_PG), &v);
	GUEST_ASSERT_2(vec || v == PAT(USER_PG), vec, v);
	perm_record(res, PDE_SUPERVISOR, vec);

	*pde |= PTE_U;
	invlpg(PG_VA(USER_PG));
	perm_record(res, PDE_USER, read_safe(PG_VA(USER_PG), &v));
}

/* Case g: read page @pg after each of CR3_ROUNDS switches */
static uint64_t cr3_switch_reads(int pg)
{
	uint64_t acc = 0, v;
	int r;

	for (r = 0; r < CR3_ROUNDS; r++) {
		asm volatile("mov %0, %%cr3"
			     : : "r"((r & 1) ? cr3_b : cr3_a) : "memory");
		v = *(volatile uint64_t *)PG_VA(pg);
		GUEST_ASSERT_2(v == PAT(pg), r, v);
		acc += v;
	}
	asm volatile("mov %0, %%cr3" : : "r"(cr3_a) : "memory");
	return acc;
}

/*
 * Case j: X_VA's page table goes to nested mode (two writes), then the
 * guest frees it and reuses its page as the page directory of Y_VA, whose
 * first PDE points at DATA_VA's page table.  Returns the sum of what the
 * reads through Y_VA saw.
 */
static uint64_t reuse_pt_as_pd(void)
{
	uint64_t acc = 0, v, page, data_pt = *DATA_PDE & PTE_ADDR;
	int r, i;

	v = *(volatile uint64_t *)X_VA;
	GUEST_ASSERT_2(v == PAT(X_PG), X_PG, v);
	for (r = 0; r < 4; r++)
		XPT[1] = XPT[1];

	page = *X_PDE & PTE_ADDR;
	*X_PDE = 0;
	invlpg(X_VA);
	for (i = 0; i < 512; i++)
		XPT[i] = 0;
	XPT[0] = data_pt | PTE_P | PTE_W;
	*Y_PDPTE = page | PTE_P | PTE_W;

	for (r = 0; r < Y_ROUNDS; r++) {
		i = Y_FIRST_PG + r % Y_PAGES;
		invlpg(Y_VA + i * PAGE);
		v = *(volatile uint64_t *)(Y_VA + i * PAGE);
		GUEST_ASSERT_2(v == PAT(i), i, v);
		acc += v;
	}
	return acc;
}

/*
 * Case k: put Z_VA's page table in nested mode and link it with a
 * switching SPTE, unlink it from its PD, then write its page as data until
 * the host says stop.  Returns the number of writes.
 */
static uint64_t unlinked_pt_writes(void)
{
	uint64_t v, n = 0;
	int r;

	v = *(volatile uint64_t *)Z_VA;
	GUEST_ASSERT_2(v == PAT(Z_PG), Z_PG, v);
	for (r = 0; r < 4; r++)
		ZPT[1] = ZPT[1];
	invlpg(Z_VA);
	v = *(volatile uint64_t *)Z_VA;
	GUEST_ASSERT_2(v == PAT(Z_PG), Z_PG, v);
	GUEST_SYNC_ARGS(12, 0, 0, 0, 0);

	*Z_PDE = 0;
	invlpg(Z_VA);
	while (!k_stop) {
		ZPT[n & 511] = n;
		n++;
	}
	return n;
}

/*
 * Case l: let KVM shadow W_VA's page directory, then unlink it from the
 * PDPT and write its page L_WRITES times as data.
 */
static uint64_t unlinked_pd_writes(void)
{
	uint64_t v;
	int i;

	v = *(volatile uint64_t *)W_VA;
	GUEST_ASSERT_2(v == PAT(W_PG), W_PG, v);
	GUEST_SYNC_ARGS(14, 0, 0, 0, 0);

	*W_PDPTE = 0;
	invlpg(W_VA);
	for (i = 0; i < L_WRITES; i++)
		WPD[i & 511] = i;
	return L_WRITES;
}

static void guest_code(void)
{
	volatile uint64_t *pte0 = DATA_PTE(0), *pte1 = DATA_PTE(1);
	uint64_t sum = 0, acc = 0, v;
	uint8_t vec;
	int r;

	/* b: a static address space, then the measured pass */
	for (r = 0; r < 4; r++)
		sum = sum_pages(false);
	GUEST_SYNC_ARGS(1, sum, 0, 0, 0);
	for (r = 0; r < 8; r++)
		sum = sum_pages(true);
	GUEST_SYNC_ARGS(2, sum, 0, 0, 0);

	/* c: page 0 alternates between FRAME_A and FRAME_B */
	for (r = 0; r < ROUNDS; r++) {
		*pte0 = (*pte0 & ~PTE_ADDR) | ((r & 1) ? FRAME_B : FRAME_A);
		invlpg(DATA_VA);
		v = *(volatile uint64_t *)DATA_VA;
		GUEST_ASSERT_2(v == ((r & 1) ? PAT_B : PAT_A), r, v);
		acc += v;
	}
	GUEST_SYNC_ARGS(3, acc, 0, 0, 0);

	/* d: page 1 read-only, with the PT in nested mode */
	*pte1 &= ~PTE_W;
	invlpg(DATA_VA + PAGE);
	vec = write_safe(DATA_VA + PAGE, 1);

	/* e: U/S and NX in the nested part of the walk */
	*DATA_PTE(USER_PG) |= PTE_U;
	*DATA_PTE(NX_PG) |= PTE_NX;
	invlpg(PG_VA(USER_PG));
	invlpg(PG_VA(NX_PG));
	perm_checks(&perm[0]);
	GUEST_SYNC_ARGS(4, vec, *(volatile uint64_t *)(DATA_VA + PAGE), 0, 0);

	/* ... and with the tables back in shadow mode */
	sum = sum_pages(true);
	vec = write_safe(DATA_VA + PAGE, 1);
	perm_checks(&perm[1]);
	GUEST_SYNC_ARGS(5, sum, vec, *(volatile uint64_t *)(DATA_VA + PAGE), 0);

	*pte1 |= PTE_W;
	invlpg(DATA_VA + PAGE);
	vec = write_safe(DATA_VA + PAGE, 2);
	GUEST_SYNC_ARGS(6, vec, *(volatile uint64_t *)(DATA_VA + PAGE), 0, 0);

	/* f: A maps page 0 to FRAME_B since case c, B to FRAME_A */
	acc = 0;
	for (r = 0; r < CR3_ROUNDS; r++) {
		asm volatile("mov %0, %%cr3"
			     : : "r"((r & 1) ? cr3_b : cr3_a) : "memory");
		v = *(volatile uint64_t *)DATA_VA;
		GUEST_ASSERT_2(v == ((r & 1) ? PAT_A : PAT_B), r, v);
		acc += v;
	}
	asm volatile("mov %0, %%cr3" : : "r"(cr3_a) : "memory");
	GUEST_SYNC_ARGS(7, acc, 0, 0, 0);

	/* g: the same switches with a global page, then a non-global one */
	GUEST_SYNC_ARGS(8, cr3_switch_reads(GLOBAL_PG), 0, 0, 0);
	GUEST_SYNC_ARGS(9, cr3_switch_reads(NONGLOBAL_PG), 0, 0, 0);

	/*
	 * h: four writes to the PT (two in one interval at least) put it in
	 * nested mode; then each read of the page is the guest's own #PF.
	 */
	for (r = 0; r < 4; r++)
		*DATA_PTE(ABSENT_PG) &= ~PTE_P;
	invlpg(PG_VA(ABSENT_PG));
	/*
	 * KVM links the switching entry on a shadow miss whose guest walk
	 * succeeds: touch the next page first.  Until then the walk misses
	 * in the shadow table, and KVM reflects the guest's fault.
	 */
	v = *(volatile uint64_t *)PG_VA(ABSENT_PG + 1);
	GUEST_ASSERT_2(v == PAT(ABSENT_PG + 1), ABSENT_PG + 1, v);
	acc = 0;
	for (r = 0; r < PF_ROUNDS; r++) {
		vec = read_safe(PG_VA(ABSENT_PG), &v);
		acc += vec == PF_VECTOR && pf_ec == 0 &&
		       pf_cr2 == PG_VA(ABSENT_PG);
	}
	*DATA_PTE(ABSENT_PG) |= PTE_P;
	GUEST_SYNC_ARGS(10, acc, 0, 0, 0);

	GUEST_SYNC_ARGS(11, reuse_pt_as_pd(), 0, 0, 0);
	GUEST_SYNC_ARGS(13, unlinked_pt_writes(), 0, 0, 0);
	GUEST_SYNC_ARGS(15, unlinked_pd_writes(), 0, 0, 0);
	GUEST_DONE();
}

/* The entry of the selftest's page tables that maps @va at @level. */
static uint64_t *guest_pte(struct kvm_vm *vm, uint64_t va, int level,
			   vm_paddr_t *table)
{
	vm_paddr_t t = vm->pgd;
	uint64_t *e;
	int l;

	for (l = 4;; l--) {
		e = (uint64_t *)addr_gpa2hva(vm, t) +
		    ((va >> (12 + 9 * (l - 1))) & 511);
		if (l == level)
			break;
		TEST_ASSERT(*e & PTE_P, "va 0x%lx: no entry at level %d", va, l);
		t = *e & PTE_ADDR;
	}
	if (table)
		*table = t;
	return e;
}

struct run {
	uint64_t sum1, sum2, acc, vec4, val4, sum5, vec5, val5, vec6, val6;
	struct perm_result perm[2];
	uint64_t acc7, acc8, acc_g, acc_ng, acc_j;
};

/*
 * Case f: a second address space, a copy of the guest's page tables down
 * to DATA_VA's PT in which page 0 maps FRAME_A.  Returns its CR3.
 */
static uint64_t copy_address_space(struct kvm_vm *vm)
{
	vm_paddr_t from = vm->pgd, to = 0, root = 0, next;
	uint64_t *e;
	int l;

	for (l = 4; l >= 1; l--) {
		next = vm_alloc_page_table(vm);
		memcpy(addr_gpa2hva(vm, next), addr_gpa2hva(vm, from), PAGE);
		if (to) {
			e = (uint64_t *)addr_gpa2hva(vm, to) +
			    ((DATA_VA >> (12 + 9 * l)) & 511);
			*e = (*e & ~PTE_ADDR) | next;
		} else {
			root = next;
		}
		if (l > 1) {
			e = (uint64_t *)addr_gpa2hva(vm, from) +
			    ((DATA_VA >> (12 + 9 * (l - 1))) & 511);
			from = *e & PTE_ADDR;
		}
		to = next;
	}
	e = (uint64_t *)addr_gpa2hva(vm, to) + ((DATA_VA / PAGE) & 511);
	*e = (*e & ~PTE_ADDR) | FRAME_A;
	return root;
}

static bool has_smap, has_smep;

/* What exec_safe() jumps to */
static const uint8_t perm_code[] = FETCH_RETURN_CODE;

static struct kvm_vm *make_vm(bool agile, struct kvm_vcpu **vcpu)
{
	struct kvm_vm *vm = vm_create(1);
	struct kvm_sregs sregs;
	vm_paddr_t pt, pd, pdpt, xpt, zpt, wpd;
	uint64_t *p;
	int i;

	/* The interval and the highest level are kvm_amd's (main()). */
	TEST_ASSERT(!agile_cap(vm, agile, 0, 0, 0),
		    "KVM_CAP_X86_AGILE_PAGING %d: errno %d", agile, errno);
	*vcpu = vm_vcpu_add(vm, 0, guest_code);
	vm_init_descriptor_tables(vm);
	vcpu_init_descriptor_tables(*vcpu);

	vm_install_exception_handler(vm, PF_VECTOR, pf_handler);

	/*
	 * Agile paging needs CR0.WP, which the library leaves clear; case e
	 * wants SMEP and SMAP where the CPU has them, case g global pages.
	 */
	vcpu_sregs_get(*vcpu, &sregs);
	sregs.cr0 |= X86_CR0_WP;
	sregs.cr4 |= X86_CR4_PGE;
	if (has_smep)
		sregs.cr4 |= X86_CR4_SMEP;
	if (has_smap)
		sregs.cr4 |= X86_CR4_SMAP;
	vcpu_sregs_set(*vcpu, &sregs);
	guest_smap = has_smap;
	sync_global_to_guest(vm, guest_smap);

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, DATA_GPA, SLOT,
				    NPAGES + 2, 0);
	virt_map(vm, DATA_VA, DATA_GPA, NPAGES);
	for (i = 0; i < NPAGES; i++) {
		p = addr_gpa2hva(vm, DATA_GPA + i * PAGE);
		memset(p, 0, PAGE);
		p[0] = PAT(i);
	}
	*(uint64_t *)addr_gpa2hva(vm, FRAME_A) = PAT_A;
	*(uint64_t *)addr_gpa2hva(vm, FRAME_B) = PAT_B;
	for (i = USER_PG; i <= CODE_PG; i++)
		memcpy(addr_gpa2hva(vm, DATA_GPA + i * PAGE + CODE_OFF),
		       perm_code, sizeof(perm_code));

	guest_pte(vm, DATA_VA, 1, &pt);
	virt_pg_map(vm, PT_VA, pt);
	guest_pte(vm, DATA_VA, 2, &pd);
	virt_pg_map(vm, PD_VA, pd);
	guest_pte(vm, DATA_VA, 3, &pdpt);
	virt_pg_map(vm, PDPT_VA, pdpt);
	virt_pg_map(vm, X_VA, DATA_GPA + X_PG * PAGE);
	guest_pte(vm, X_VA, 1, &xpt);
	virt_pg_map(vm, XPT_VA, xpt);
	virt_pg_map(vm, Z_VA, DATA_GPA + Z_PG * PAGE);
	guest_pte(vm, Z_VA, 1, &zpt);
	virt_pg_map(vm, ZPT_VA, zpt);
	virt_pg_map(vm, W_VA, DATA_GPA + W_PG * PAGE);
	guest_pte(vm, W_VA, 2, &wpd);
	virt_pg_map(vm, WPD_VA, wpd);

	/*
	 * U/S in the upper levels of DATA_VA, so that a PTE alone decides
	 * whether a page there is a user page (case e).
	 */
	for (i = 2; i <= 4; i++)
		*guest_pte(vm, DATA_VA, i, NULL) |= PTE_U;

	/* before the copy, so that both address spaces have it */
	*guest_pte(vm, PG_VA(GLOBAL_PG), 1, NULL) |= PTE_G;

	cr3_a = vm->pgd;
	cr3_b = copy_address_space(vm);
	sync_global_to_guest(vm, cr3_a);
	sync_global_to_guest(vm, cr3_b);
	return vm;
}

static uint64_t agile_cnt(int idx)
{
	return msr_read(MSR_MMUCNT_AGILE_GUEST + idx - CNT_AGILE_WALKS);
}

/* Agile walks whose nested part began at a PD or higher: above a PDE */
static uint64_t agile_walks_above_pde(void)
{
	uint64_t n = 0;
	int idx;

	for (idx = CNT_AGILE_SWITCH_L2; idx <= CNT_AGILE_SWITCH_L5; idx++)
		n += agile_cnt(idx);
	return n;
}

/* Wait up to 5 s for the dirty-bit scan to put the PT back in shadow mode */
static bool wait_for_shadow(struct kvm_vm *vm, uint64_t to_shadow)
{
	int i;

	for (i = 0; i < 50; i++) {
		if (vm_get_stat(vm, "agile_to_shadow") > to_shadow &&
		    vm_get_stat(vm, "agile_pages_nested") == 0)
			return true;
		usleep(100 * 1000);
	}
	return false;
}

/* What native paging gives for case e's accesses */
static void perm_expected(struct perm_result *want)
{
	memset(want, 0, sizeof(*want));
	if (has_smap) {
		want->vec[SMAP_READ] = PF_VECTOR;
		want->ec[SMAP_READ] = PFEC_P;
		want->cr2[SMAP_READ] = PG_VA(USER_PG);
		want->vec[PDE_USER] = PF_VECTOR;
		want->ec[PDE_USER] = PFEC_P;
		want->cr2[PDE_USER] = PG_VA(USER_PG);
	}
	if (has_smep) {
		want->vec[SMEP_FETCH] = PF_VECTOR;
		want->ec[SMEP_FETCH] = PFEC_P | PFEC_FETCH;
		want->cr2[SMEP_FETCH] = PG_VA(USER_PG) + CODE_OFF;
	}
	want->vec[NX_FETCH] = PF_VECTOR;
	want->ec[NX_FETCH] = PFEC_P | PFEC_FETCH;
	want->cr2[NX_FETCH] = PG_VA(NX_PG) + CODE_OFF;
}

static const char * const perm_check_names[NR_PERM_CHECKS] = {
	[SMAP_READ] = "SMAP read",
	[SMAP_READ_AC] = "read with AC",
	[SMEP_FETCH] = "SMEP fetch",
	[NX_FETCH] = "NX fetch",
	[FETCH] = "fetch",
	[PDE_SUPERVISOR] = "read, PDE U/S clear",
	[PDE_USER] = "read, PDE U/S set",
};

/* Case e: @got against native paging, with the tables in @mode */
static void perm_check_all(const struct perm_result *got, const char *mode)
{
	struct perm_result want;
	int c;

	perm_expected(&want);
	for (c = 0; c < NR_PERM_CHECKS; c++)
		CHECK(got->vec[c] == want.vec[c] && got->ec[c] == want.ec[c] &&
		      got->cr2[c] == want.cr2[c],
		      "%s, %s mode: vector %lu error code 0x%lx cr2 0x%lx, wanted %lu 0x%lx 0x%lx",
		      perm_check_names[c], mode, got->vec[c], got->ec[c],
		      got->cr2[c], want.vec[c], want.ec[c], want.cr2[c]);
}

/* Case g, stages 8 and 9: walks for the CR3 switches of each kind */
static void global_stage(struct kvm_vcpu *vcpu, int stage, uint64_t *acc,
			 uint64_t *walks, uint64_t *all_shadow)
{
	struct ucall uc;

	msr_write(MSR_MMUCNT_CTL, MMUCNT_CTL_RESET | MMUCNT_CTL_EN);
	expect_stage(vcpu, stage, &uc);
	*acc = uc.args[2];
	*walks = agile_cnt(CNT_AGILE_WALKS);
	*all_shadow = agile_cnt(CNT_AGILE_SWITCH_L0);
}

static void skip_global(struct kvm_vcpu *vcpu, struct run *res)
{
	uint64_t walks, l0;

	global_stage(vcpu, 8, &res->acc_g, &walks, &l0);
	global_stage(vcpu, 9, &res->acc_ng, &walks, &l0);
}

static void check_global(struct kvm_vm *vm, struct kvm_vcpu *vcpu,
			 struct run *res)
{
	uint64_t walks_g, l0_g, walks_ng, l0_ng, nested;
	bool map = kvm_amd_param_bool("agile_cr3_map");
	int i;

	/* Case e's PDE writes may have left the PD in nested mode. */
	for (i = 0; i < 50; i++) {
		nested = vm_get_stat(vm, "agile_pages_nested");
		if (!nested)
			break;
		usleep(100 * 1000);
	}
	global_stage(vcpu, 8, &res->acc_g, &walks_g, &l0_g);
	global_stage(vcpu, 9, &res->acc_ng, &walks_ng, &l0_ng);

	case_ok = true;
	CHECK(nested == 0, "after 5 s: %lu tables in nested mode", nested);
	/* Nested-mode leaves are the guest's own, global without KVM. */
	CHECK(l0_g == walks_g && l0_ng == walks_ng,
	      "walks all shadow: %lu of %lu (global), %lu of %lu (not global)",
	      l0_g, walks_g, l0_ng, walks_ng);
	if (map) {
		CHECK(walks_ng >= walks_g + CR3_ROUNDS * 9 / 10,
		      "%lu walks with the global page, %lu without, %d CR3 writes",
		      walks_g, walks_ng, CR3_ROUNDS);
	}
	ksft_test_result(case_ok, "g: global pages across %d CR3 writes (agile_cr3_map %s): %lu walks, %lu without G\n",
			 CR3_ROUNDS, map ? "on" : "off", walks_g, walks_ng);
}

struct vcpu_thread {
	struct kvm_vcpu *vcpu;
	struct ucall uc;
};

static void *run_to_stage_13(void *arg)
{
	struct vcpu_thread *t = arg;

	expect_stage(t->vcpu, 13, &t->uc);
	return NULL;
}

/*
 * Case k, the host's side: let the guest write its unlinked page table
 * for K_SCANS scans (agile) or a second (nested), then stop it.
 */
static void unlinked_pt_case(struct kvm_vm *vm, struct kvm_vcpu *vcpu,
			     bool agile)
{
	uint64_t scans, nested, to_shadow;
	struct vcpu_thread t = { .vcpu = vcpu };
	pthread_t thread;
	int i;

	expect_stage(vcpu, 12, &t.uc);
	nested = vm_get_stat(vm, "agile_pages_nested");
	to_shadow = vm_get_stat(vm, "agile_to_shadow");
	scans = vm_get_stat(vm, "agile_scans");

	*(bool *)addr_gva2hva(vm, (vm_vaddr_t)&k_stop) = false;
	TEST_ASSERT(!pthread_create(&thread, NULL, run_to_stage_13, &t),
		    "pthread_create");
	for (i = 0; i < 200; i++) {
		usleep(50 * 1000);
		if (!agile ? i >= 20 :
		    vm_get_stat(vm, "agile_scans") >= scans + K_SCANS)
			break;
	}
	scans = vm_get_stat(vm, "agile_scans") - scans;
	*(volatile bool *)addr_gva2hva(vm, (vm_vaddr_t)&k_stop) = true;
	pthread_join(thread, NULL);
	if (!agile)
		return;

	case_ok = true;
	CHECK(nested >= 1, "%lu tables in nested mode before the unlink", nested);
	CHECK(scans >= K_SCANS, "%lu scans while the guest wrote", scans);
	CHECK(vm_get_stat(vm, "agile_pages_nested") == 0,
	      "%lu tables still in nested mode after %lu scans",
	      vm_get_stat(vm, "agile_pages_nested"), scans);
	CHECK(vm_get_stat(vm, "agile_to_shadow") > to_shadow,
	      "agile_to_shadow %lu, was %lu",
	      vm_get_stat(vm, "agile_to_shadow"), to_shadow);
	ksft_test_result(case_ok, "k: an unlinked page table written as data for %lu scans (%lu writes): back in shadow mode\n",
			 scans, t.uc.args[2]);
}

static void run_guest(bool agile, struct run *res)
{
	uint64_t exits, ptw, to_shadow, to_nested = 0, walks, shadow_refs, l0, pf;
	uint64_t above_pde = 0, at_pdpte, flooded;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;

	vm = make_vm(agile, &vcpu);

	expect_stage(vcpu, 1, &uc);
	res->sum1 = uc.args[2];
	msr_write(MSR_MMUCNT_CTL, MMUCNT_CTL_RESET | MMUCNT_CTL_EN);
	expect_stage(vcpu, 2, &uc);
	res->sum2 = uc.args[2];
	walks = agile_cnt(CNT_AGILE_WALKS);
	shadow_refs = agile_cnt(CNT_AGILE_REFS_SHADOW);
	l0 = agile_cnt(CNT_AGILE_SWITCH_L0);
	if (agile) {
		case_ok = true;
		CHECK(vm_get_stat(vm, "agile_pt_writes") == 0,
		      "%lu write-protect faults", vm_get_stat(vm, "agile_pt_writes"));
		CHECK(vm_get_stat(vm, "agile_to_nested") == 0,
		      "%lu tables to nested mode", vm_get_stat(vm, "agile_to_nested"));
		CHECK(walks >= 8 * NPAGES && l0 == walks,
		      "%lu walks, %lu all shadow", walks, l0);
		CHECK(shadow_refs == 4 * walks, "%lu shadow refs in %lu walks",
		      shadow_refs, walks);
		ksft_test_result(case_ok, "b: static: %lu walks, %lu refs/walk, all shadow\n",
				 walks, walks ? shadow_refs / walks : 0);
	} else {
		TEST_ASSERT(walks == 0, "%lu agile walks without agile paging",
			    walks);
	}

	exits = vcpu_stat(vcpu, "exits");
	ptw = vm_get_stat(vm, "mmu_pte_write");
	msr_write(MSR_MMUCNT_CTL, MMUCNT_CTL_RESET | MMUCNT_CTL_EN);
	expect_stage(vcpu, 3, &uc);
	res->acc = uc.args[2];
	exits = vcpu_stat(vcpu, "exits") - exits;
	ptw = vm_get_stat(vm, "mmu_pte_write") - ptw;
	if (agile) {
		uint64_t l1 = agile_cnt(CNT_AGILE_SWITCH_L1);
		uint64_t deeper = agile_walks_above_pde();

		case_ok = true;
		CHECK(vm_get_stat(vm, "agile_to_nested") >= 1,
		      "%lu tables to nested mode", vm_get_stat(vm, "agile_to_nested"));
		CHECK(vm_get_stat(vm, "agile_pages_nested") >= 1,
		      "%lu tables in nested mode", vm_get_stat(vm, "agile_pages_nested"));
		CHECK(vm_get_stat(vm, "agile_switch_links") >= 1,
		      "%lu switching entries", vm_get_stat(vm, "agile_switch_links"));
		CHECK(ptw <= 4, "%lu write-protect emulations for %d PTE writes",
		      ptw, ROUNDS);
		CHECK(exits < ROUNDS / 10, "%lu exits for %d PTE writes", exits,
		      ROUNDS);
		CHECK(l1 >= ROUNDS / 2, "%lu walks switched at the PDE for %d rounds",
		      l1, ROUNDS);
		CHECK(deeper == 0, "%lu walks switched above the PDE", deeper);
		ksft_test_result(case_ok, "c: churn: %d PTE writes, %lu exits, %lu emulated, %lu walks switched at the PDE\n",
				 ROUNDS, exits, ptw, l1);
	}

	msr_write(MSR_MMUCNT_CTL, MMUCNT_CTL_RESET | MMUCNT_CTL_EN);
	expect_stage(vcpu, 4, &uc);
	res->vec4 = uc.args[2];
	res->val4 = uc.args[3];
	to_shadow = vm_get_stat(vm, "agile_to_shadow");
	ptw = vm_get_stat(vm, "agile_pt_writes");
	if (agile) {
		/* Case e's first pass, at kvm_amd's highest level, 1 */
		above_pde = agile_walks_above_pde();
		case_ok = true;
		CHECK(res->vec4 == PF_VECTOR, "write to a read-only page: vector %lu",
		      res->vec4);
		CHECK(wait_for_shadow(vm, to_shadow),
		      "after 5 s: %lu tables in nested mode, %lu moved back",
		      vm_get_stat(vm, "agile_pages_nested"),
		      vm_get_stat(vm, "agile_to_shadow"));
		/* Case e's PDE writes again, with the paper's policy */
		TEST_ASSERT(!agile_cap(vm, 1, 0, 3, 0),
			    "highest level 3: errno %d", errno);
		to_nested = vm_get_stat(vm, "agile_to_nested");
		msr_write(MSR_MMUCNT_CTL, MMUCNT_CTL_RESET | MMUCNT_CTL_EN);
	}
	expect_stage(vcpu, 5, &uc);
	if (agile)
		to_nested = vm_get_stat(vm, "agile_to_nested") - to_nested;
	res->sum5 = uc.args[2];
	res->vec5 = uc.args[3];
	res->val5 = uc.args[4];
	sync_global_from_guest(vm, perm);
	memcpy(res->perm, perm, sizeof(perm));
	expect_stage(vcpu, 6, &uc);
	res->vec6 = uc.args[2];
	res->val6 = uc.args[3];
	if (agile) {
		CHECK(res->vec5 == PF_VECTOR, "shadow mode: vector %lu", res->vec5);
		CHECK(vm_get_stat(vm, "agile_pt_writes") > ptw,
		      "no write-protect fault on the PT back in shadow mode");
		ksft_test_result(case_ok, "d: #PF in nested and in shadow mode, %lu scans, %lu back to shadow\n",
				 vm_get_stat(vm, "agile_scans"),
				 vm_get_stat(vm, "agile_to_shadow"));

		case_ok = true;
		perm_check_all(&res->perm[0], "nested");
		perm_check_all(&res->perm[1], "shadow");
		/*
		 * With kvm_amd.agile_max_level 1 the PDE's two writes left the
		 * PD in shadow mode; with 3, the second time, the PD moved: a
		 * switch at the PDPTE.
		 */
		CHECK(above_pde == 0,
		      "kvm_amd.agile_max_level 1: %lu walks switched above a PDE",
		      above_pde);
		at_pdpte = agile_cnt(CNT_AGILE_SWITCH_L2);
		CHECK(to_nested >= 1 && at_pdpte > 0,
		      "highest level 3: %lu tables to nested mode, %lu walks switched at the PDPTE",
		      to_nested, at_pdpte);
		ksft_test_result(case_ok, "e: U/S (SMAP %s, SMEP %s) and NX faults across switching points as native\n",
				 has_smap ? "on" : "absent",
				 has_smep ? "on" : "absent");
	}
	exits = vcpu_stat(vcpu, "exits");
	expect_stage(vcpu, 7, &uc);
	res->acc7 = uc.args[2];
	exits = vcpu_stat(vcpu, "exits") - exits;
	if (agile) {
		uint64_t sw = vcpu_stat(vcpu, "agile_cr3_switches");
		bool map = kvm_amd_param_bool("agile_cr3_map");

		case_ok = true;
		if (map) {
			CHECK(exits < CR3_ROUNDS / 10,
			      "%lu exits for %d CR3 writes", exits, CR3_ROUNDS);
			CHECK(sw >= 1, "KVM followed %lu CR3 switches", sw);
		} else {
			CHECK(exits >= CR3_ROUNDS && sw == 0,
			      "agile_cr3_map off: %lu exits for %d CR3 writes, %lu switches",
			      exits, CR3_ROUNDS, sw);
		}
		ksft_test_result(case_ok, "f: CR3 map (agile_cr3_map %s): %d CR3 writes, %lu exits, %lu switches seen by KVM\n",
				 map ? "on" : "off", CR3_ROUNDS, exits, sw);
	}
	if (agile)
		check_global(vm, vcpu, res);
	else
		skip_global(vcpu, res);

	exits = vcpu_stat(vcpu, "exits");
	pf = vcpu_stat(vcpu, "pf_guest");
	expect_stage(vcpu, 10, &uc);
	res->acc8 = uc.args[2];
	exits = vcpu_stat(vcpu, "exits") - exits;
	pf = vcpu_stat(vcpu, "pf_guest") - pf;
	if (agile) {
		bool direct = kvm_amd_param_bool("agile_guest_pf");

		case_ok = true;
		CHECK(res->acc8 == PF_ROUNDS, "%lu of %d reads were #PF 0 at 0x%lx",
		      res->acc8, PF_ROUNDS, PG_VA(ABSENT_PG));
		CHECK(vm_get_stat(vm, "agile_pages_nested") >= 1,
		      "%lu tables in nested mode",
		      vm_get_stat(vm, "agile_pages_nested"));
		if (direct) {
			CHECK(pf == 0, "KVM injected %lu of the guest's #PFs", pf);
			CHECK(exits < PF_ROUNDS / 5, "%lu exits for %d #PFs",
			      exits, PF_ROUNDS);
		} else {
			CHECK(pf >= PF_ROUNDS,
			      "agile_guest_pf off: KVM injected %lu of %d #PFs",
			      pf, PF_ROUNDS);
		}
		ksft_test_result(case_ok, "h: %d #PFs in the nested part (agile_guest_pf %s): %lu exits, %lu injected by KVM\n",
				 PF_ROUNDS, direct ? "on" : "off", exits, pf);
	}

	/* Case j: page tables only, as kvm_amd's default */
	if (agile)
		TEST_ASSERT(!agile_cap(vm, 1, 0, 1, 0),
			    "highest level 1: errno %d", errno);
	to_nested = vm_get_stat(vm, "agile_to_nested");
	msr_write(MSR_MMUCNT_CTL, MMUCNT_CTL_RESET | MMUCNT_CTL_EN);
	expect_stage(vcpu, 11, &uc);
	res->acc_j = uc.args[2];
	if (agile) {
		uint64_t deeper = agile_walks_above_pde();

		to_nested = vm_get_stat(vm, "agile_to_nested") - to_nested;
		case_ok = true;
		CHECK(to_nested >= 1,
		      "X_VA's page table: %lu tables to nested mode", to_nested);
		CHECK(deeper == 0,
		      "%lu walks switched above a PDE (the reused page as a PD)",
		      deeper);
		ksft_test_result(case_ok, "j: a page table in nested mode reused as a page directory: %d reads, %lu walks switched above a PDE\n",
				 Y_ROUNDS, deeper);
	}
	unlinked_pt_case(vm, vcpu, agile);

	/* Case l */
	expect_stage(vcpu, 14, &uc);
	exits = vcpu_stat(vcpu, "exits");
	flooded = vm_get_stat(vm, "mmu_flooded");
	expect_stage(vcpu, 15, &uc);
	exits = vcpu_stat(vcpu, "exits") - exits;
	flooded = vm_get_stat(vm, "mmu_flooded") - flooded;
	if (agile) {
		case_ok = true;
		CHECK(flooded >= 1, "mmu_flooded rose by %lu", flooded);
		CHECK(exits < L_WRITES / 10, "%lu exits for %d writes", exits,
		      L_WRITES);
		ksft_test_result(case_ok, "l: an unlinked page directory written %d times as data: %lu exits, %lu shadow pages zapped as flooded\n",
				 L_WRITES, exits, flooded);
	}
	TEST_ASSERT(vcpu_run_to_ucall(vcpu, &uc) == UCALL_DONE,
		    "guest did not finish");
	kvm_vm_free(vm);
}

static void test_cap(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	case_ok = true;
	vm = vm_create(1);
	CHECK(agile_cap(vm, 2, 0, 0, 0) == -1 && errno == EINVAL, "args[0] 2: errno %d", errno);
	CHECK(agile_cap(vm, 1, 5, 0, 0) == -1 && errno == EINVAL, "5 ms: errno %d", errno);
	CHECK(agile_cap(vm, 1, 600001, 0, 0) == -1 && errno == EINVAL, "600001 ms: errno %d", errno);
	CHECK(agile_cap(vm, 1, 0, 4, 0) == -1 && errno == EINVAL, "level 4: errno %d", errno);
	CHECK(agile_cap(vm, 1, 0, 1ULL << 32 | 1, 0) == -1 && errno == EINVAL,
	      "level 2^32 + 1: errno %d", errno);
	CHECK(agile_cap(vm, 1, 0, 0, 1) == -1 && errno == EINVAL, "flags 1: errno %d", errno);
	CHECK(agile_cap(vm, 1, 0, 0, 0) == 0, "on: errno %d", errno);
	if (kvm_check_cap(KVM_CAP_X86_TPT)) {
		CHECK(__vm_enable_cap(vm, KVM_CAP_X86_TPT, 0) == -1 && errno == EBUSY,
		      "TPT beside agile paging: errno %d", errno);
	}
	/* A VMM segment would bypass the write protection of shadowed tables */
	if (kvm_check_cap(KVM_CAP_X86_DIRECT_SEGMENT) & KVM_X86_DSEG_VMM) {
		int r = dseg_enable_cap(vm, KVM_X86_DSEG_VMM_ENABLE, 0,
					2UL << 20);

		CHECK(r == -EBUSY, "VMM direct segment beside agile paging: %d",
		      r);
	}
	vcpu = vm_vcpu_add(vm, 0, guest_code);
	CHECK(vcpu && agile_cap(vm, 0, 0, 0, 0) == -1 && errno == EBUSY,
	      "off with a vCPU: errno %d", errno);
	CHECK(agile_cap(vm, 1, 300, 0, 0) == 0, "new interval: errno %d", errno);
	CHECK(agile_cap(vm, 1, 0, 2, 0) == 0, "new highest level: errno %d", errno);
	kvm_vm_free(vm);
	ksft_test_result(case_ok, "a: KVM_CAP_X86_AGILE_PAGING arguments\n");
}

/* kvm_amd's defaults for new agile VMs, as they were before the test */
static unsigned long saved_interval_ms, saved_max_level;

static void restore_kvm_amd(void)
{
	kvm_amd_param_set("agile_interval_ms", saved_interval_ms);
	kvm_amd_param_set("agile_max_level", saved_max_level);
}

int main(int argc, char *argv[])
{
	struct run agile, nested;

	ksft_print_header();

	if (!kvm_amd_npt()) {
		ksft_set_plan(1);
		ksft_test_result(!kvm_check_cap(KVM_CAP_X86_AGILE_PAGING),
				 "shadow paging: no KVM_CAP_X86_AGILE_PAGING\n");
		ksft_finished();
	}
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_X86_AGILE_PAGING));
	msr_dev_open(0);

	saved_interval_ms = kvm_amd_param_ulong("agile_interval_ms");
	saved_max_level = kvm_amd_param_ulong("agile_max_level");
	atexit(restore_kvm_amd);
	kvm_amd_param_set("agile_interval_ms", INTERVAL_MS);
	kvm_amd_param_set("agile_max_level", 1);

	has_smap = kvm_cpu_has(X86_FEATURE_SMAP);
	has_smep = kvm_cpu_has(X86_FEATURE_SMEP);

	ksft_set_plan(12);
	test_cap();
	memset(&agile, 0, sizeof(agile));
	memset(&nested, 0, sizeof(nested));
	run_guest(true, &agile);
	run_guest(false, &nested);

	ksft_print_msg("agile:  sums 0x%lx 0x%lx 0x%lx 0x%lx, vectors %lu %lu %lu\n",
		       agile.sum1, agile.acc, agile.sum5, agile.val6,
		       agile.vec4, agile.vec5, agile.vec6);
	ksft_print_msg("nested: sums 0x%lx 0x%lx 0x%lx 0x%lx, vectors %lu %lu %lu\n",
		       nested.sum1, nested.acc, nested.sum5, nested.val6,
		       nested.vec4, nested.vec5, nested.vec6);
	ksft_test_result(!memcmp(&agile, &nested, sizeof(agile)) &&
			 agile.vec4 == PF_VECTOR && agile.vec6 == 0 &&
			 agile.val6 == 2 && agile.acc8 == PF_ROUNDS,
			 "i: agile and nested paging give the same results\n");
	ksft_finished();
}
