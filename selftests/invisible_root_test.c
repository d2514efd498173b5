// SPDX-License-Identifier: GPL-2.0-only
/*
 * invisible_root_test
 *
 * A vCPU whose CR3 points outside every memslot, while an exception is
 * being injected into it, must shut down (KVM_EXIT_SHUTDOWN) and must not
 * trip a host WARN.  This is what upstream set_memory_region_test's
 * "DELETE of in-use region" does at random: the guest's page tables go
 * away with memslot 0 while KVM is delivering a #PF that its shadow walk
 * of those tables raised.
 *
 * A shadow MMU (kvm_amd.npt=0, or agile paging, whose root is a shadow
 * table) checks the root's gfn when it allocates the root, after the
 * event has been written into the VMCB, and asks for a triple fault when
 * no memslot holds it.  SVM then puts the event back in the queue as
 * injected, and kvm_multiple_exception() warned because a triple fault
 * was already pending (WARN_ON_ONCE(kvm_is_exception_pending())).
 *
 *   1. CR3 outside memory, no event: KVM_EXIT_SHUTDOWN (control)
 *   2. CR3 outside memory, a #PF injected: KVM_EXIT_SHUTDOWN, and the
 *      kernel's taint has no W (a WARN) that it did not have before
 *
 * The VM runs on agile paging when kvm_amd has nested paging and the
 * agile capability, on shadow paging when kvm_amd.npt=0; with nested
 * paging alone the root is a TDP table and there is nothing to test.
 */
#include <stdio.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "mmuvirt_util.h"

#define TAINT_WARN	9

/* Far above the test VM's memory, below MAXPHYADDR */
#define ROOT_GPA	0x40000000ull

static void guest_code(void)
{
	GUEST_DONE();
}

static unsigned long kernel_taint(void)
{
	FILE *f = fopen("/proc/sys/kernel/tainted", "r");
	unsigned long t = 0;

	TEST_ASSERT(f, "/proc/sys/kernel/tainted: errno %d", errno);
	TEST_ASSERT(fscanf(f, "%lu", &t) == 1, "/proc/sys/kernel/tainted");
	fclose(f);
	return t;
}

static struct kvm_vm *make_vm(bool agile, struct kvm_vcpu **vcpu)
{
	struct kvm_vm *vm = vm_create(1);
	struct kvm_sregs sregs;

	if (agile)
		TEST_ASSERT(!agile_cap(vm, 1, 0, 0, 0),
			    "KVM_CAP_X86_AGILE_PAGING on: errno %d", errno);
	*vcpu = vm_vcpu_add(vm, 0, guest_code);

	vcpu_sregs_get(*vcpu, &sregs);
	sregs.cr3 = ROOT_GPA;
	vcpu_sregs_set(*vcpu, &sregs);
	return vm;
}

static void inject_pf(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_events events;

	vcpu_events_get(vcpu, &events);
	events.exception.injected = 1;
	events.exception.nr = PF_VECTOR;
	events.exception.has_error_code = 1;
	events.exception.error_code = 0;
	events.flags = 0;
	vcpu_events_set(vcpu, &events);
}

static void run_case(bool agile, bool with_event, const char *name)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = make_vm(agile, &vcpu);
	unsigned long taint = kernel_taint();
	uint32_t reason;

	if (with_event)
		inject_pf(vcpu);
	vcpu_run(vcpu);
	reason = vcpu->run->exit_reason;
	kvm_vm_free(vm);

	TEST_ASSERT(reason == KVM_EXIT_SHUTDOWN,
		    "%s: exit_reason %u (%s), wanted KVM_EXIT_SHUTDOWN",
		    name, reason, exit_reason_str(reason));
	if (taint & BIT(TAINT_WARN))
		ksft_print_msg("%s: the kernel had warned before this case; a new WARN cannot be told apart (the console scan can)\n",
			       name);
	else
		TEST_ASSERT(!(kernel_taint() & BIT(TAINT_WARN)),
			    "%s: the host kernel WARNed (taint 0x%lx, was 0x%lx)",
			    name, kernel_taint(), taint);
	ksft_test_result_pass("%s\n", name);
}

int main(void)
{
	bool agile;

	agile = kvm_amd_npt();
	__TEST_REQUIRE(!agile || kvm_check_cap(KVM_CAP_X86_AGILE_PAGING),
		       "nested paging without agile paging: the root is a TDP table");

	ksft_print_header();
	ksft_set_plan(2);
	ksft_print_msg("the VM runs on %s paging\n", agile ? "agile" : "shadow");
	run_case(agile, false, "1 CR3 outside memory: shutdown");
	run_case(agile, true, "2 CR3 outside memory, #PF being injected: shutdown, no WARN");
	ksft_finished();
}
