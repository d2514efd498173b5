// SPDX-License-Identifier: GPL-2.0-only
/*
 * tlb_invlpg_test
 *
 * INVLPG of one address in a guest 2 MiB page invalidates the whole
 * translation (AMD APM vol. 2, "INVLPG"), also when the CPU cached it as
 * 4 KiB pieces because the host maps the guest's memory with 4 KiB pages.
 *
 * The guest reads every 4 KiB page of a 2 MiB mapping, points its PDE at
 * another 2 MiB of its memory, runs INVLPG on the first page of the
 * mapping only and reads every page again: each read must come from the
 * new memory.  (The guest writes the PDE itself, so that KVM's shadow MMU,
 * which write-protects guest page tables, sees the write.)  A stale piece left in the emulated
 * CPU's TLB would return the old memory.  The modeled TLB of the
 * mmu-counters feature gives QEMU's software TLB 4 KiB entries only, so
 * its INVLPG must find every piece (Documentation/hw/mmu-extensions.rst).
 */
#include <stdio.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "mmuvirt_util.h"

#define SLOT		10
#define GPA_OLD		0xc0000000UL	/* the 2 MiB the PDE maps first */
#define GPA_NEW		0xc0200000UL	/* the 2 MiB it maps after */
#define GVA		0x40000000UL
#define PD_GVA		0x50000000UL	/* where the guest sees its PD */
#define NEW_GVA		0x60000000UL	/* GPA_NEW in 4 KiB pages */
#define SZ_2M		0x200000UL
#define PAGE		4096UL
#define PAGES		(SZ_2M / PAGE)
#define MARK_OLD	0x01d0000000000000ULL
#define MARK_NEW	0x0e40000000000000ULL
#define PDE_2M_ADDR	GENMASK_ULL(51, 21)

enum { STAGE_READ = 1 };

/* Set by the host: the guest's PDE for GVA, and its new value. */
static uint64_t pde_gva, new_pde;

static void guest_code(void)
{
	volatile uint64_t *p = (volatile uint64_t *)GVA;
	volatile uint64_t *new = (volatile uint64_t *)NEW_GVA;
	volatile uint64_t *pde = (volatile uint64_t *)pde_gva;
	uint64_t i, v = 0, sum = 0;

	/*
	 * Fault in everything the measured part touches, so that no nested
	 * page fault exits in the middle of it: both 2 MiB of memory, and
	 * the PDE for writing.
	 */
	for (i = 0; i < PAGES; i++)
		sum += p[i * PAGE / 8] + new[i * PAGE / 8];
	*pde = *pde;
	sum = 0;

	/*
	 * No exit from here to the end: a #VMEXIT reloads CR3, which flushes
	 * QEMU's software TLB and would hide a stale entry.
	 */
	for (i = 0; i < PAGES; i++)
		sum += p[i * PAGE / 8];

	/* Move the mapping, then flush it through one of its pages. */
	*pde = new_pde;
	asm volatile("invlpg (%0)" : : "r" (GVA) : "memory");
	/*
	 * Last page first: the pages read last are those a TLB still holds,
	 * and reading the others first could evict them.
	 */
	for (i = PAGES; i-- > 0;) {
		v = p[i * PAGE / 8];
		if (v != MARK_NEW + i)
			break;
	}
	GUEST_SYNC_ARGS(STAGE_READ, sum, i, v, 0);
	GUEST_DONE();
}

/* The guest-physical address of the PDE that maps @gva as 2 MiB. */
static uint64_t guest_pde_2m(struct kvm_vm *vm, uint64_t gva)
{
	uint64_t table_gpa = vm->pgd, *table = addr_gpa2hva(vm, table_gpa);
	int shift;

	for (shift = 39; shift > 21; shift -= 9) {
		uint64_t e = table[(gva >> shift) & 0x1ff];

		TEST_ASSERT((e & PTE_PRESENT_MASK) && !(e & PTE_LARGE_MASK),
			    "entry 0x%lx for gva 0x%lx at shift %d: wanted a present table",
			    e, gva, shift);
		table_gpa = e & GENMASK_ULL(51, 12);
		table = addr_gpa2hva(vm, table_gpa);
	}
	TEST_ASSERT((table[(gva >> 21) & 0x1ff] & (PTE_PRESENT_MASK | PTE_LARGE_MASK)) ==
		    (PTE_PRESENT_MASK | PTE_LARGE_MASK),
		    "PDE 0x%lx for gva 0x%lx: wanted a present 2 MiB page",
		    table[(gva >> 21) & 0x1ff], gva);
	return table_gpa + ((gva >> 21) & 0x1ff) * 8;
}

int main(int argc, char *argv[])
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	uint64_t i, want = 0, pde_gpa, *pde;

	ksft_print_header();
	ksft_set_plan(1);

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	/* 4 KiB host pages (MADV_NOHUGEPAGE): the guest's 2 MiB page splinters. */
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, GPA_OLD, SLOT,
				    2 * PAGES, 0);
	virt_map_level(vm, GVA, GPA_OLD, SZ_2M, PG_LEVEL_2M);
	virt_map(vm, NEW_GVA, GPA_NEW, PAGES);
	for (i = 0; i < PAGES; i++) {
		*(uint64_t *)addr_gpa2hva(vm, GPA_OLD + i * PAGE) = MARK_OLD + i;
		*(uint64_t *)addr_gpa2hva(vm, GPA_NEW + i * PAGE) = MARK_NEW + i;
		want += MARK_OLD + i;
	}

	pde_gpa = guest_pde_2m(vm, GVA);
	pde = addr_gpa2hva(vm, pde_gpa);
	TEST_ASSERT((*pde & PDE_2M_ADDR) == GPA_OLD,
		    "PDE 0x%lx maps 0x%llx, wanted 0x%lx", *pde,
		    *pde & PDE_2M_ADDR, GPA_OLD);
	virt_pg_map(vm, PD_GVA, pde_gpa & ~(PAGE - 1));
	pde_gva = PD_GVA + (pde_gpa & (PAGE - 1));
	new_pde = (*pde & ~PDE_2M_ADDR) | GPA_NEW;
	sync_global_to_guest(vm, pde_gva);
	sync_global_to_guest(vm, new_pde);

	TEST_ASSERT(vcpu_run_to_ucall(vcpu, &uc) == UCALL_SYNC &&
		    uc.args[1] == STAGE_READ,
		    "ucall %lu stage %lu, wanted SYNC stage %u", uc.cmd,
		    uc.args[1], STAGE_READ);
	TEST_ASSERT(uc.args[2] == want,
		    "sum of the old pages 0x%lx, wanted 0x%lx", uc.args[2], want);
	TEST_ASSERT(uc.args[3] == (uint64_t)-1,
		    "after INVLPG page %lu of the mapping read 0x%lx, wanted 0x%llx (new) not 0x%llx (old, stale TLB entry)",
		    uc.args[3], uc.args[4], MARK_NEW + uc.args[3],
		    MARK_OLD + uc.args[3]);


	TEST_ASSERT(vcpu_run_to_ucall(vcpu, &uc) == UCALL_DONE,
		    "ucall %lu, wanted DONE", uc.cmd);
	ksft_test_result_pass("INVLPG removed all %lu pieces of a splintered 2 MiB page\n",
			      PAGES);

	kvm_vm_free(vm);
	ksft_finished();
}
