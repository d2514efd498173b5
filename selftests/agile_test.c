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
 *      vCPUs exist and TPT beside it, and takes a new interval any time;
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
 *   e. the agile VM's results equal the nested-paging VM's.
 *
 * Under shadow paging KVM must not offer the capability: the test checks
 * that and skips the rest.
 */
#define _GNU_SOURCE
#include <errno.h>
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

#ifndef KVM_CAP_X86_AGILE_PAGING
#error "build against the patched kernel's headers (KVM_CAP_X86_AGILE_PAGING)"
#endif

#define PAGE		4096UL
#define PF_VECTOR	14
#define PTE_P		(1UL << 0)
#define PTE_W		(1UL << 1)
#define PTE_ADDR	0x000ffffffffff000UL

#define SLOT		10
#define DATA_GPA	0xc0000000UL
#define DATA_VA		0xc0000000UL
#define NPAGES		64
#define FRAME_A		(DATA_GPA + NPAGES * PAGE)
#define FRAME_B		(FRAME_A + PAGE)
#define PT_VA		0x80000000UL	/* the PT that maps DATA_VA */

#define PAT(i)		(0x5a5a000000000000UL | (i))
#define PAT_A		0xaaaaaaaaaaaaaaaaUL
#define PAT_B		0xbbbbbbbbbbbbbbbbUL
#define ROUNDS		400
#define INTERVAL_MS	200

/* The guest's PTEs of DATA_VA's pages, through the PT mapped at PT_VA */
#define DATA_PTE(i)	((volatile uint64_t *)PT_VA + \
			 ((DATA_VA / PAGE) & 511) + (i))

static void invlpg(uint64_t va)
{
	asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/* With @walk, each read misses the TLB: the CPU walks for every page. */
static uint64_t sum_pages(bool walk)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < NPAGES; i++) {
		if (walk)
			invlpg(DATA_VA + i * PAGE);
		sum += *(volatile uint64_t *)(DATA_VA + i * PAGE) * (i + 1);
	}
	return sum;
}

static uint8_t write_safe(uint64_t va, uint64_t val)
{
	return kvm_asm_safe("movq %[v], (%[p])", [p] "r"(va), [v] "r"(val));
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
	GUEST_SYNC_ARGS(4, vec, *(volatile uint64_t *)(DATA_VA + PAGE), 0, 0);

	/* ... and with the PT back in shadow mode */
	sum = sum_pages(true);
	vec = write_safe(DATA_VA + PAGE, 1);
	GUEST_SYNC_ARGS(5, sum, vec, *(volatile uint64_t *)(DATA_VA + PAGE), 0);

	*pte1 |= PTE_W;
	invlpg(DATA_VA + PAGE);
	vec = write_safe(DATA_VA + PAGE, 2);
	GUEST_SYNC_ARGS(6, vec, *(volatile uint64_t *)(DATA_VA + PAGE), 0, 0);
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

static int agile_cap(struct kvm_vm *vm, uint64_t on, uint64_t ms,
		     uint32_t flags)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_AGILE_PAGING,
		.flags = flags,
		.args = { on, ms },
	};

	return __vm_ioctl(vm, KVM_ENABLE_CAP, &cap);
}

struct run {
	uint64_t sum1, sum2, acc, vec4, val4, sum5, vec5, val5, vec6, val6;
};

static struct kvm_vm *make_vm(bool agile, struct kvm_vcpu **vcpu)
{
	struct kvm_vm *vm = vm_create(1);
	struct kvm_sregs sregs;
	vm_paddr_t pt;
	uint64_t *p;
	int i;

	TEST_ASSERT(!agile_cap(vm, agile, agile ? INTERVAL_MS : 0, 0),
		    "KVM_CAP_X86_AGILE_PAGING %d: errno %d", agile, errno);
	*vcpu = vm_vcpu_add(vm, 0, guest_code);
	vm_init_descriptor_tables(vm);
	vcpu_init_descriptor_tables(*vcpu);

	/* Agile paging needs CR0.WP, which the library leaves clear. */
	vcpu_sregs_get(*vcpu, &sregs);
	sregs.cr0 |= X86_CR0_WP;
	vcpu_sregs_set(*vcpu, &sregs);

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

	guest_pte(vm, DATA_VA, 1, &pt);
	virt_pg_map(vm, PT_VA, pt);
	return vm;
}

static uint64_t agile_cnt(int idx)
{
	return msr_read(MSR_MMUCNT_AGILE_GUEST + idx - CNT_AGILE_WALKS);
}

static uint64_t agile_cnt_each(int first, int last)
{
	uint64_t n = 0;

	for (; first <= last; first++)
		n += agile_cnt(first);
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

static void run_guest(bool agile, struct run *res)
{
	uint64_t exits, ptw, to_shadow, walks, shadow_refs, l0;
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
		uint64_t deeper = agile_cnt_each(CNT_AGILE_SWITCH_L2,
						 CNT_AGILE_SWITCH_L5);

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

	expect_stage(vcpu, 4, &uc);
	res->vec4 = uc.args[2];
	res->val4 = uc.args[3];
	to_shadow = vm_get_stat(vm, "agile_to_shadow");
	ptw = vm_get_stat(vm, "agile_pt_writes");
	if (agile) {
		case_ok = true;
		CHECK(res->vec4 == PF_VECTOR, "write to a read-only page: vector %lu",
		      res->vec4);
		CHECK(wait_for_shadow(vm, to_shadow),
		      "after 5 s: %lu tables in nested mode, %lu moved back",
		      vm_get_stat(vm, "agile_pages_nested"),
		      vm_get_stat(vm, "agile_to_shadow"));
	}
	expect_stage(vcpu, 5, &uc);
	res->sum5 = uc.args[2];
	res->vec5 = uc.args[3];
	res->val5 = uc.args[4];
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
	CHECK(agile_cap(vm, 2, 0, 0) == -1 && errno == EINVAL, "args[0] 2: errno %d", errno);
	CHECK(agile_cap(vm, 1, 5, 0) == -1 && errno == EINVAL, "5 ms: errno %d", errno);
	CHECK(agile_cap(vm, 1, 600001, 0) == -1 && errno == EINVAL, "600001 ms: errno %d", errno);
	CHECK(agile_cap(vm, 1, 0, 1) == -1 && errno == EINVAL, "flags 1: errno %d", errno);
	CHECK(agile_cap(vm, 1, 0, 0) == 0, "on: errno %d", errno);
	if (kvm_check_cap(KVM_CAP_X86_TPT)) {
		CHECK(__vm_enable_cap(vm, KVM_CAP_X86_TPT, 0) == -1 && errno == EBUSY,
		      "TPT beside agile paging: errno %d", errno);
	}
	vcpu = vm_vcpu_add(vm, 0, guest_code);
	CHECK(vcpu && agile_cap(vm, 0, 0, 0) == -1 && errno == EBUSY,
	      "off with a vCPU: errno %d", errno);
	CHECK(agile_cap(vm, 1, 300, 0) == 0, "new interval: errno %d", errno);
	kvm_vm_free(vm);
	ksft_test_result(case_ok, "a: KVM_CAP_X86_AGILE_PAGING arguments\n");
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

	ksft_set_plan(5);
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
			 agile.val6 == 2,
			 "e: agile and nested paging give the same results\n");
	ksft_finished();
}
