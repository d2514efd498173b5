// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_nested_tpt_test
 *
 * Translation Pass-Through and the pages KVM write-tracks.  A TPT guest
 * writes the frames that KVM_HC_TPT_MAP gave it without nested paging's
 * write protection, so a page that KVM write-protects to shadow it must
 * not be passed through.  The one shadow MMU of a nested-paging host is
 * the nested guest's: KVM shadows the nested page tables that L1 builds
 * for L2, and tracks writes to them.
 *
 * L1 (the selftest's guest, a TPT VM) builds nested page tables for L2,
 * an identity map of its first GiB in 2 MiB pages, and asks KVM for the
 * host-physical address of the page directory's page before it is a
 * table: KVM pins and tags it.  Then L1 runs L2 with nested paging on
 * those tables, so that KVM shadows them.  That must revoke the page
 * directory's frame (kvm.tpt_tagged_frames drops, the VM counts a
 * revocation), and asking again for the frames of all three tables must
 * give none.
 *
 * A VMM direct segment bypasses the write protection in the same way.
 * In a second VM, without TPT, the host puts a VMM segment over the pages
 * of the nested page tables before L1 runs L2: once KVM shadows them the
 * segment must have fallen back (dseg_vmm_fallbacks, dseg_vmm_pages 0).
 * A part whose capability KVM does not offer is skipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm_para.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "svm_util.h"
#include "mmuvirt_util.h"

#ifndef KVM_CAP_X86_TPT
#error "build against the patched kernel's headers (KVM_CAP_X86_TPT)"
#endif

#define PAGE		4096UL
#define NPT_P		(1UL << 0)
#define NPT_RW		(1UL << 1)
#define NPT_US		(1UL << 2)
#define NPT_PS		(1UL << 7)
#define NPT_TABLE	(NPT_P | NPT_RW | NPT_US)

#define L2_MAGIC	0x6e7074746c327632UL

enum { STAGE_PD_MAPPED = 1, STAGE_L2_RAN, STAGE_REMAPPED };

/* Filled in by the host: the nested page tables and a buffer, by gPA */
static uint64_t npt_gpa[3];		/* PML4, PDPT, PD */
static uint64_t buf_gva, buf_gpa;
static uint64_t l2_read;

static uint64_t tpt_map(uint64_t gpa, uint64_t nr)
{
	return kvm_hypercall(KVM_HC_TPT_MAP, gpa, nr, 0, 0);
}

static void l2_guest_code(void)
{
	l2_read = L2_MAGIC;
	asm volatile("vmmcall");
}

/* L1: run L2 on the nested tables until its VMMCALL, tell the host. */
static void run_l2_on_npt(struct svm_test_data *svm)
{
	#define L2_GUEST_STACK_SIZE 64
	unsigned long l2_guest_stack[L2_GUEST_STACK_SIZE];
	struct vmcb *vmcb = svm->vmcb;

	generic_svm_setup(svm, l2_guest_code,
			  &l2_guest_stack[L2_GUEST_STACK_SIZE]);
	vmcb->control.nested_ctl |= SVM_NESTED_CTL_NP_ENABLE;
	vmcb->control.nested_cr3 = npt_gpa[0];
	run_guest(vmcb, svm->vmcb_gpa);
	GUEST_SYNC_ARGS(STAGE_L2_RAN, vmcb->control.exit_code, l2_read, 0, 0);
}

static void l1_guest_code(struct svm_test_data *svm)
{
	uint64_t *buf = (uint64_t *)buf_gva;
	uint64_t r;
	int i;

	/* The page directory's page, before it is a table */
	buf[0] = npt_gpa[2];
	r = tpt_map(buf_gpa, 1);
	GUEST_SYNC_ARGS(STAGE_PD_MAPPED, r, buf[0], 0, 0);

	run_l2_on_npt(svm);

	/* KVM shadows all three tables now: none may be passed through. */
	for (i = 0; i < 3; i++)
		buf[i] = npt_gpa[i];
	r = tpt_map(buf_gpa, 3);
	GUEST_SYNC_ARGS(STAGE_REMAPPED, r, buf[0], buf[1], buf[2]);
	GUEST_DONE();
}

/* L1 ran L2 on its nested tables, and L2 ran to its VMMCALL. */
static void expect_l2_ran(struct kvm_vcpu *vcpu)
{
	struct ucall uc;

	expect_stage(vcpu, STAGE_L2_RAN, &uc);
	TEST_ASSERT(uc.args[2] == SVM_EXIT_VMMCALL && uc.args[3] == L2_MAGIC,
		    "L2 on nested paging: exit 0x%lx, wrote 0x%lx, wanted VMMCALL and 0x%lx",
		    uc.args[2], uc.args[3], L2_MAGIC);
}

/* L2 runs on an identity map of the first GiB, in 2 MiB pages. */
static void build_npt(struct kvm_vm *vm)
{
	uint64_t *pml4, *pdpt, *pd;
	int i;

	for (i = 0; i < 3; i++)
		npt_gpa[i] = addr_gva2gpa(vm, vm_vaddr_alloc_page(vm));
	pml4 = addr_gpa2hva(vm, npt_gpa[0]);
	pdpt = addr_gpa2hva(vm, npt_gpa[1]);
	pd = addr_gpa2hva(vm, npt_gpa[2]);
	pml4[0] = npt_gpa[1] | NPT_TABLE;
	pdpt[0] = npt_gpa[2] | NPT_TABLE;
	for (i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | NPT_TABLE | NPT_PS;
	sync_global_to_guest(vm, npt_gpa);
}

/* L1 of the direct-segment VM: run L2 on the nested tables, that's all. */
static void l1_dseg_guest_code(struct svm_test_data *svm)
{
	run_l2_on_npt(svm);
	GUEST_DONE();
}

static void test_dseg(void)
{
	uint64_t pages, fallbacks;
	struct kvm_vcpu *vcpu;
	vm_vaddr_t svm_gva;
	struct kvm_vm *vm;
	struct ucall uc;
	int r;

	if (!(kvm_check_cap(KVM_CAP_X86_DIRECT_SEGMENT) & KVM_X86_DSEG_VMM)) {
		ksft_test_result_skip("no VMM direct segment\n");
		return;
	}
	vm = vm_create_one_vcpu_no_agile(&vcpu, l1_dseg_guest_code);
	build_npt(vm);
	vcpu_alloc_svm(vm, &svm_gva);
	vcpu_args_set(vcpu, 1, svm_gva);
	/* The three table pages are consecutive: a segment over them */
	TEST_ASSERT(npt_gpa[1] == npt_gpa[0] + PAGE &&
		    npt_gpa[2] == npt_gpa[0] + 2 * PAGE,
		    "nested tables at 0x%lx 0x%lx 0x%lx", npt_gpa[0],
		    npt_gpa[1], npt_gpa[2]);
	r = dseg_enable_cap(vm, KVM_X86_DSEG_VMM_ENABLE, npt_gpa[0], 3 * PAGE);
	TEST_ASSERT(!r, "KVM_X86_DSEG_VMM_ENABLE over the nested tables: %d",
		    r);
	pages = vm_get_stat(vm, "dseg_vmm_pages");
	TEST_ASSERT(pages == 3, "dseg_vmm_pages %lu, wanted 3", pages);

	expect_l2_ran(vcpu);
	pages = vm_get_stat(vm, "dseg_vmm_pages");
	fallbacks = vm_get_stat(vm, "dseg_vmm_fallbacks");
	ksft_test_result(!pages && fallbacks == 1,
			 "shadowing page tables under a VMM segment makes it fall back: %lu fallbacks, %lu pages on\n",
			 fallbacks, pages);
	TEST_ASSERT(vcpu_run_to_ucall(vcpu, &uc) == UCALL_DONE,
		    "ucall %lu, wanted DONE", uc.cmd);
	kvm_vm_free(vm);
}

static void test_tpt(void)
{
	long tagged0, tagged_pd;
	uint64_t revoked;
	struct kvm_vcpu *vcpu;
	vm_vaddr_t svm_gva;
	struct kvm_vm *vm;
	struct ucall uc;

	if (!kvm_check_cap(KVM_CAP_X86_TPT)) {
		ksft_test_result_skip("no KVM_CAP_X86_TPT\n");
		ksft_test_result_skip("no KVM_CAP_X86_TPT\n");
		return;
	}
	vm = vm_create_one_vcpu_no_agile(&vcpu, l1_guest_code);
	vm_enable_cap(vm, KVM_CAP_X86_TPT, 0);
	build_npt(vm);
	buf_gva = vm_vaddr_alloc_page(vm);
	buf_gpa = addr_gva2gpa(vm, buf_gva);
	sync_global_to_guest(vm, buf_gva);
	sync_global_to_guest(vm, buf_gpa);
	vcpu_alloc_svm(vm, &svm_gva);
	vcpu_args_set(vcpu, 1, svm_gva);
	tagged0 = tpt_tagged_frames();

	expect_stage(vcpu, STAGE_PD_MAPPED, &uc);
	TEST_ASSERT(uc.args[2] == 1 && uc.args[3],
		    "KVM_HC_TPT_MAP of an untracked page: %ld mapped, hPA 0x%lx",
		    (long)uc.args[2], uc.args[3]);
	tagged_pd = tpt_tagged_frames();
	TEST_ASSERT(tagged_pd == tagged0 + 1,
		    "%ld frames tagged after mapping one, %ld before",
		    tagged_pd, tagged0);

	expect_l2_ran(vcpu);
	revoked = vm_get_stat(vm, "tpt_revocations");
	ksft_test_result(revoked == 1 && tpt_tagged_frames() == tagged0,
			 "shadowing a TPT-mapped page directory revokes its frame: %lu revocations, %ld frames tagged (%ld before)\n",
			 revoked, tpt_tagged_frames(), tagged_pd);

	expect_stage(vcpu, STAGE_REMAPPED, &uc);
	ksft_test_result(uc.args[2] == 0 && !uc.args[3] && !uc.args[4] &&
			 !uc.args[5],
			 "no frame for a write-tracked table: %ld mapped, hPAs 0x%lx 0x%lx 0x%lx\n",
			 (long)uc.args[2], uc.args[3], uc.args[4], uc.args[5]);

	TEST_ASSERT(vcpu_run_to_ucall(vcpu, &uc) == UCALL_DONE,
		    "ucall %lu, wanted DONE", uc.cmd);
	kvm_vm_free(vm);
	TEST_ASSERT(tpt_tagged_frames() == tagged0,
		    "%ld frames tagged after the VM, %ld before",
		    tpt_tagged_frames(), tagged0);
}

int main(int argc, char *argv[])
{
	ksft_print_header();
	TEST_REQUIRE(kvm_cpu_has(X86_FEATURE_SVM));
	ksft_set_plan(3);
	test_tpt();
	test_dseg();
	ksft_finished();
}
