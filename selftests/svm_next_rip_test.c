// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_next_rip_test
 *
 * The emulated CPU offers NRIP save (CPUID 0x8000000a EDX[3]): on a
 * #VMEXIT for an intercepted instruction it stores the address of the
 * next instruction in the VMCB's next_rip, and on any other #VMEXIT it
 * clears it (AMD APM vol. 2, "State Saved on Exit").  KVM skips
 * intercepted instructions with next_rip instead of decoding them, and
 * passes next_rip on to nested hypervisors, which is what this test
 * observes: L1 runs L2, intercepts VMMCALL, a CPUID with a redundant
 * prefix, RDMSR, #UD and #BP, and checks next_rip after each exit.  L1
 * then resumes L2 at next_rip, so a wrong value also derails L2.
 *
 * INT3 must exit through the #BP exception intercept (not the INTn one),
 * with next_rip past it.
 *
 * QEMU 7.2's TCG has no NRIP save and treats INT3 as INTn for SVM;
 * qemu-patches/ fixes both.
 */
#include <stdio.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "svm_util.h"
#include "mmuvirt_util.h"

#define L2_GUEST_STACK_SIZE	64
#define TEST_MSR		0x10	/* MSR_IA32_TSC */

/* Labels after each intercepted instruction of l2_guest_code(). */
extern char l2_after_vmmcall[], l2_after_cpuid[], l2_after_rdmsr[],
	    l2_at_ud2[], l2_after_int3[];

static noinline void l2_guest_code(void)
{
	asm volatile("vmmcall\n"
		     "l2_after_vmmcall:\n\t"
		     /* CPUID with a CS override: 3 bytes, not 2. */
		     ".byte 0x2e, 0x0f, 0xa2\n"
		     "l2_after_cpuid:\n\t"
		     "rdmsr\n"
		     "l2_after_rdmsr:\n"
		     "l2_at_ud2:\n\t"
		     "ud2\n\t"
		     "int3\n"
		     "l2_after_int3:\n\t"
		     "vmmcall\n\t"
		     : : "a" (0), "c" (TEST_MSR) : "rbx", "rdx", "memory");
}

/* Run L2 to its next exit and check the exit code and next_rip. */
static void l1_expect_exit(struct svm_test_data *svm, uint64_t exit_code,
			   uint64_t next_rip)
{
	struct vmcb *vmcb = svm->vmcb;

	run_guest(vmcb, svm->vmcb_gpa);
	GUEST_ASSERT_2(vmcb->control.exit_code == exit_code,
		       vmcb->control.exit_code, exit_code);
	GUEST_ASSERT_2(vmcb->control.next_rip == next_rip,
		       vmcb->control.next_rip, next_rip);
}

static void l1_guest_code(struct svm_test_data *svm)
{
	unsigned long l2_guest_stack[L2_GUEST_STACK_SIZE];
	struct vmcb *vmcb = svm->vmcb;

	generic_svm_setup(svm, l2_guest_code,
			  &l2_guest_stack[L2_GUEST_STACK_SIZE]);
	vmcb->control.intercept |= BIT_ULL(INTERCEPT_CPUID) |
				   BIT_ULL(INTERCEPT_MSR_PROT);
	vmcb->control.intercept_exceptions |= BIT(UD_VECTOR) | BIT(BP_VECTOR);
	/* Two bits per MSR in the first 2K of the map: read, then write. */
	((uint8_t *)svm->msr)[TEST_MSR * 2 / 8] |= 1 << (TEST_MSR * 2 % 8);

	l1_expect_exit(svm, SVM_EXIT_VMMCALL, (uint64_t)l2_after_vmmcall);
	vmcb->save.rip = vmcb->control.next_rip;
	l1_expect_exit(svm, SVM_EXIT_CPUID, (uint64_t)l2_after_cpuid);
	vmcb->save.rip = vmcb->control.next_rip;
	l1_expect_exit(svm, SVM_EXIT_MSR, (uint64_t)l2_after_rdmsr);
	vmcb->save.rip = vmcb->control.next_rip;
	/* An exception other than #BP, #OF or #BR clears next_rip. */
	l1_expect_exit(svm, SVM_EXIT_EXCP_BASE + UD_VECTOR, 0);
	GUEST_ASSERT_2(vmcb->save.rip == (uint64_t)l2_at_ud2,
		       vmcb->save.rip, (uint64_t)l2_at_ud2);
	vmcb->save.rip += 2;
	/* INT3 is the #BP exception for SVM, and saves next_rip. */
	l1_expect_exit(svm, SVM_EXIT_EXCP_BASE + BP_VECTOR,
		       (uint64_t)l2_after_int3);
	GUEST_DONE();
}

int main(int argc, char *argv[])
{
	struct kvm_vcpu *vcpu;
	vm_vaddr_t svm_gva;
	struct kvm_vm *vm;
	struct ucall uc;
	uint64_t cmd;

	TEST_REQUIRE(kvm_cpu_has(X86_FEATURE_SVM));
	TEST_ASSERT(kvm_cpu_has(X86_FEATURE_NRIPS),
		    "KVM does not offer NRIP save: the emulated CPU lacks it");

	ksft_print_header();
	ksft_set_plan(1);

	vm = vm_create_with_one_vcpu(&vcpu, l1_guest_code);
	vcpu_alloc_svm(vm, &svm_gva);
	vcpu_args_set(vcpu, 1, svm_gva);

	cmd = vcpu_run_to_ucall(vcpu, &uc);
	TEST_ASSERT(cmd == UCALL_DONE, "unexpected ucall %lu", cmd);
	ksft_test_result_pass("next_rip after VMMCALL, CPUID, RDMSR, #UD and INT3\n");

	kvm_vm_free(vm);
	ksft_exit_pass();
}
