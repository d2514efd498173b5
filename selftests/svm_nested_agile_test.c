// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_nested_agile_test
 *
 * A nested guest of an agile VM.  KVM runs a nested guest without agile
 * paging (vmcb02); agile paging's own intercepts in vmcb01 (#PF and CR3
 * writes, svm_set_agile()) serve L1's shadow table and must neither reach
 * into the nested guest nor steal its exits from L1.
 *
 * L1 (the selftest's guest, agile: CR0.WP and EFER.NX set, so KVM runs it
 * on agile paging's shadow table) runs L2 without nested paging, on L1's
 * own page tables, as svm_util sets it up.  L1 intercepts #PF in vmcb12
 * but not CR3 writes.  L2 reads a page with a known pattern, writes CR3
 * (no exit to L1 may come of it), reads it again, and touches an address
 * that is not mapped.  L1 must get the #PF exit with that address in
 * EXITINFO2, and L2 must have read the pattern both times.  Then L1
 * resumes its own work: it reads the pattern through its shadow table.
 *
 * L2's first walk runs through L1's page tables, which KVM write-protects
 * while it shadows them: the emulated CPU must read them as a CPU does, a
 * write fault only for the A/D update, or KVM emulates L2's instruction
 * with the table's address as the operand's (the read returned a page
 * table entry).
 *
 * The same runs in a VM with agile paging off, for reference; where KVM
 * offers no agile paging only that one runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "svm_util.h"
#include "mmuvirt_util.h"
#include "guest_pf.h"

#define DATA_SLOT	10
#define DATA_GPA	0xc0000000UL
#define DATA_VA		0xc0000000UL
#define BAD_VA		0xdead0000000UL	/* mapped nowhere */
#define PATTERN		0x6e65737465643232UL

static uint64_t l2_seen, l2_seen_after_cr3;

static void l2_guest_code(void)
{
	uint64_t v = *(volatile uint64_t *)DATA_VA;
	uint64_t cr3 = get_cr3();

	/* L1 does not intercept CR3 writes: this one must not exit to it. */
	asm volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
	l2_seen = v;
	l2_seen_after_cr3 = *(volatile uint64_t *)DATA_VA;
	(void)*(volatile uint64_t *)BAD_VA;
	/* Not reached: L1 intercepts #PF and never resumes L2. */
	asm volatile("vmmcall");
}

static void l1_guest_code(struct svm_test_data *svm)
{
	#define L2_GUEST_STACK_SIZE 64
	unsigned long l2_guest_stack[L2_GUEST_STACK_SIZE];
	struct vmcb *vmcb = svm->vmcb;

	generic_svm_setup(svm, l2_guest_code,
			  &l2_guest_stack[L2_GUEST_STACK_SIZE]);
	vmcb->control.intercept_exceptions |= 1U << PF_VECTOR;

	run_guest(vmcb, svm->vmcb_gpa);

	GUEST_ASSERT_2(vmcb->control.exit_code == SVM_EXIT_EXCP_BASE + PF_VECTOR,
		       vmcb->control.exit_code, vmcb->control.exit_info_2);
	GUEST_ASSERT_2(vmcb->control.exit_info_2 == BAD_VA,
		       vmcb->control.exit_info_2, vmcb->control.exit_info_1);
	GUEST_ASSERT_2(l2_seen == PATTERN, l2_seen, l2_seen_after_cr3);
	GUEST_ASSERT_2(l2_seen_after_cr3 == PATTERN, l2_seen_after_cr3,
		       PATTERN);
	GUEST_ASSERT_2(*(volatile uint64_t *)DATA_VA == PATTERN,
		       *(volatile uint64_t *)DATA_VA, PATTERN);
	GUEST_DONE();
}

static void run(bool agile, bool have_agile)
{
	struct kvm_vcpu *vcpu;
	struct kvm_sregs sregs;
	vm_vaddr_t svm_gva;
	struct kvm_vm *vm;
	struct ucall uc;

	vm = vm_create(1);
	if (have_agile)
		TEST_ASSERT(!agile_cap(vm, agile, 0, 0, 0),
			    "KVM_CAP_X86_AGILE_PAGING %d: errno %d", agile,
			    errno);
	vcpu = vm_vcpu_add(vm, 0, l1_guest_code);

	/* Agile paging runs a vCPU on its shadow table only with CR0.WP. */
	vcpu_sregs_get(vcpu, &sregs);
	sregs.cr0 |= X86_CR0_WP;
	vcpu_sregs_set(vcpu, &sregs);

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, DATA_GPA,
				    DATA_SLOT, 1, 0);
	virt_map(vm, DATA_VA, DATA_GPA, 1);
	*(uint64_t *)addr_gpa2hva(vm, DATA_GPA) = PATTERN;

	vcpu_alloc_svm(vm, &svm_gva);
	vcpu_args_set(vcpu, 1, svm_gva);

	TEST_ASSERT(vcpu_run_to_ucall(vcpu, &uc) == UCALL_DONE,
		    "%s VM: ucall %lu, wanted DONE", agile ? "agile" : "nested",
		    uc.cmd);
	ksft_test_result_pass("%s VM: L2's #PF reached L1 with CR2 0x%lx, its CR3 write did not, it read 0x%lx; KVM emulated %lu instructions\n",
			      agile ? "agile" : "nested-paging", BAD_VA,
			      PATTERN, vcpu_stat(vcpu, "insn_emulation"));
	kvm_vm_free(vm);
}

int main(int argc, char *argv[])
{
	bool have_agile = false;

	ksft_print_header();
	TEST_REQUIRE(kvm_cpu_has(X86_FEATURE_SVM));
	have_agile = kvm_check_cap(KVM_CAP_X86_AGILE_PAGING);
	ksft_set_plan(have_agile ? 2 : 1);
	run(false, have_agile);
	if (have_agile)
		run(true, true);
	ksft_finished();
}
