/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the project's KVM selftests, on top of the upstream
 * KVM selftest library.
 */
#ifndef SELFTEST_MMUVIRT_UTIL_H
#define SELFTEST_MMUVIRT_UTIL_H

#include "kvm_util.h"
#include "ucall_common.h"

/*
 * Run @vcpu until its next ucall and return the ucall's command.  A guest
 * assertion fails the test with the assertion's first two arguments.
 */
static inline uint64_t vcpu_run_to_ucall(struct kvm_vcpu *vcpu,
					 struct ucall *uc)
{
	uint64_t cmd;

	vcpu_run(vcpu);
	TEST_ASSERT(vcpu->run->exit_reason == KVM_EXIT_IO,
		    "exit_reason %u (%s), wanted KVM_EXIT_IO",
		    vcpu->run->exit_reason,
		    exit_reason_str(vcpu->run->exit_reason));

	cmd = get_ucall(vcpu, uc);
	if (cmd == UCALL_ABORT)
		REPORT_GUEST_ASSERT_2(*uc, "values: 0x%lx, 0x%lx");
	return cmd;
}

#endif /* SELFTEST_MMUVIRT_UTIL_H */
