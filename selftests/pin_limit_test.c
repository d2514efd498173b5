// SPDX-License-Identifier: GPL-2.0-only
/*
 * pin_limit_test
 *
 * KVM pins guest memory for as long as the guest may reach it through a
 * translation that nested paging does not check: the frames it gives a
 * Translation Pass-Through guest (KVM_HC_TPT_MAP) and the pages of a VMM
 * direct segment.  Those pins count against the VMM's RLIMIT_MEMLOCK, in
 * the process's pinned memory (VmPin in /proc/self/status), as RDMA's and
 * io_uring's long-term pins do; a VMM without CAP_IPC_LOCK cannot pin
 * more than the limit.
 *
 * The test drops CAP_IPC_LOCK and sets RLIMIT_MEMLOCK to LIMIT pages.
 *
 *   a. A TPT guest asks for the frames of 4 * LIMIT pages in one call:
 *      it gets LIMIT of them, VmPin grows by LIMIT pages, and goes back
 *      when the VM is gone.
 *   b. A VMM direct segment of LIMIT + 1 pages fails with ENOMEM; one of
 *      LIMIT pages is set up, and VmPin counts its pages that are not
 *      escaped until the segment is disabled.
 *
 * A part whose capability KVM does not offer (shadow paging) is skipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/kvm_para.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "mmuvirt_util.h"

#if !defined(KVM_CAP_X86_TPT) || !defined(KVM_CAP_X86_DIRECT_SEGMENT)
#error "build against the patched kernel's headers"
#endif

#define PAGE		4096UL
#define LIMIT		16
#define TPT_PAGES	(4 * LIMIT)
#define SLOT_EXTRA	10
#define GPA_EXTRA	0x40000000UL

static uint64_t buf_gva, buf_gpa;

static void guest_code(void)
{
	uint64_t *buf = (uint64_t *)buf_gva;
	uint64_t i, r, nonzero = 0;

	for (i = 0; i < TPT_PAGES; i++)
		buf[i] = GPA_EXTRA + i * PAGE;
	r = kvm_hypercall(KVM_HC_TPT_MAP, buf_gpa, TPT_PAGES, 0, 0);
	for (i = 0; i < TPT_PAGES; i++)
		nonzero += !!buf[i];
	GUEST_SYNC_ARGS(1, r, nonzero, 0, 0);
	GUEST_DONE();
}

/* VmPin of /proc/self/status, in pages */
static uint64_t pinned_pages(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	unsigned long kb = ~0UL;
	char line[128];

	TEST_ASSERT(f, "open /proc/self/status: errno %d", errno);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %lu kB", &kb) == 1)
			break;
	fclose(f);
	TEST_ASSERT(kb != ~0UL, "no VmPin in /proc/self/status");
	return kb / (PAGE / 1024);
}

/* Be a VMM without CAP_IPC_LOCK and with a small RLIMIT_MEMLOCK. */
static void limit_pinning(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	struct rlimit rl = { LIMIT * PAGE, LIMIT * PAGE };

	TEST_ASSERT(!syscall(SYS_capget, &hdr, data), "capget: errno %d",
		    errno);
	data[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	TEST_ASSERT(!syscall(SYS_capset, &hdr, data), "capset: errno %d",
		    errno);
	TEST_ASSERT(!setrlimit(RLIMIT_MEMLOCK, &rl), "setrlimit: errno %d",
		    errno);
}

static void test_tpt(void)
{
	uint64_t base = pinned_pages(), during, mapped, entries;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;

	if (!kvm_check_cap(KVM_CAP_X86_TPT)) {
		ksft_test_result_skip("a: no KVM_CAP_X86_TPT\n");
		return;
	}
	vm = __vm_create_one_vcpu_no_agile(&vcpu, 0, guest_code);
	vm_enable_cap(vm, KVM_CAP_X86_TPT, 0);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, GPA_EXTRA,
				    SLOT_EXTRA, TPT_PAGES, 0);
	buf_gva = vm_vaddr_alloc_page(vm);
	buf_gpa = addr_gva2gpa(vm, buf_gva);
	sync_global_to_guest(vm, buf_gva);
	sync_global_to_guest(vm, buf_gpa);

	expect_stage(vcpu, 1, &uc);
	mapped = uc.args[2];
	entries = uc.args[3];
	during = pinned_pages();
	TEST_ASSERT(vcpu_run_to_ucall(vcpu, &uc) == UCALL_DONE,
		    "ucall %lu, wanted DONE", uc.cmd);
	kvm_vm_free(vm);

	ksft_test_result(mapped == LIMIT && entries == LIMIT &&
			 during == base + LIMIT && pinned_pages() == base,
			 "a: TPT: %ld of %d frames mapped (%lu entries), VmPin %lu pages, %lu before, %lu after\n",
			 (long)mapped, TPT_PAGES, entries, during, base,
			 pinned_pages());
}

static void test_dseg(void)
{
	uint64_t base = pinned_pages(), during, escapes;
	struct kvm_vm *vm;
	int r_big, r;

	if (!(kvm_check_cap(KVM_CAP_X86_DIRECT_SEGMENT) & KVM_X86_DSEG_VMM)) {
		ksft_test_result_skip("b: no VMM direct segment\n");
		return;
	}
	vm = vm_create_barebones();
	vm_agile_off(vm);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, GPA_EXTRA,
				    SLOT_EXTRA, LIMIT + 1, 0);

	r_big = dseg_enable_cap(vm, KVM_X86_DSEG_VMM_ENABLE, GPA_EXTRA,
				(LIMIT + 1) * PAGE);
	r = dseg_enable_cap(vm, KVM_X86_DSEG_VMM_ENABLE, GPA_EXTRA,
			    LIMIT * PAGE);
	TEST_ASSERT(!r, "KVM_X86_DSEG_VMM_ENABLE of %d pages: %d", LIMIT, r);
	escapes = vm_get_stat(vm, "dseg_vmm_escapes");
	during = pinned_pages();
	TEST_ASSERT(!dseg_enable_cap(vm, KVM_X86_DSEG_VMM_DISABLE, 0, 0),
		    "KVM_X86_DSEG_VMM_DISABLE");

	ksft_test_result(r_big == -ENOMEM &&
			 during == base + LIMIT - escapes &&
			 pinned_pages() == base,
			 "b: VMM segment: %d pages: %d (wanted %d), %d pages: VmPin %lu pages with %lu escapes, %lu before, %lu after\n",
			 LIMIT + 1, r_big, -ENOMEM, LIMIT, during, escapes,
			 base, pinned_pages());
	kvm_vm_free(vm);
}

int main(int argc, char *argv[])
{
	ksft_print_header();
	ksft_set_plan(2);
	limit_pinning();
	test_tpt();
	test_dseg();
	ksft_finished();
}
