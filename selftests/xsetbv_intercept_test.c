// SPDX-License-Identifier: GPL-2.0-only
/*
 * xsetbv_intercept_test
 *
 * KVM intercepts XSETBV in every SVM guest to track the guest's XCR0: it
 * switches XCR0 around VMRUN with it and derives CPUID leaf 0xd from it.
 * The emulated CPU must therefore deliver the XSETBV intercept (exit code
 * 0x8d).  QEMU 7.2's TCG did not, and an L2 Linux then warned "XSAVE
 * consistency problem" at boot; qemu-patches/ fixes it.
 *
 * The guest enables SSE and, where offered, AVX state with XSETBV.  KVM
 * must then report the new XCR0 through KVM_GET_XCRS, and CPUID 0xd.0
 * EBX in the guest must be the XSAVE size for that XCR0.
 */
#include <stdio.h>
#include <string.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "mmuvirt_util.h"

#define XCR0_FP		(1ull << 0)
#define XCR0_SSE	(1ull << 1)
#define XCR0_YMM	(1ull << 2)

static void guest_xsetbv(uint32_t index, uint64_t value)
{
	asm volatile("xsetbv" : : "a" ((uint32_t)value),
		     "d" ((uint32_t)(value >> 32)), "c" (index));
}

static void guest_code(void)
{
	uint32_t eax, ebx, ecx, edx, ymm_size = 0, ymm_offset = 0;
	uint64_t supported, xcr0;

	set_cr4(get_cr4() | X86_CR4_OSXSAVE);

	__cpuid(0xd, 0, &eax, &ebx, &ecx, &edx);
	supported = eax | ((uint64_t)edx << 32);
	xcr0 = XCR0_FP | XCR0_SSE | (supported & XCR0_YMM);
	if (xcr0 & XCR0_YMM)
		__cpuid(0xd, 2, &ymm_size, &ymm_offset, &ecx, &edx);

	guest_xsetbv(0, xcr0);

	/* What KVM derived from the XCR0 it saw, and what it should be. */
	__cpuid(0xd, 0, &eax, &ebx, &ecx, &edx);
	GUEST_SYNC_ARGS(1, xcr0, ebx,
			(xcr0 & XCR0_YMM) ? ymm_offset + ymm_size : 576, 0);
	GUEST_DONE();
}

int main(int argc, char *argv[])
{
	struct kvm_vcpu *vcpu;
	struct kvm_xcrs xcrs;
	struct kvm_vm *vm;
	struct ucall uc;
	uint64_t xcr0, cmd;

	TEST_REQUIRE(kvm_cpu_has(X86_FEATURE_XSAVE));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_XCRS));

	ksft_print_header();
	ksft_set_plan(2);

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	cmd = vcpu_run_to_ucall(vcpu, &uc);
	TEST_ASSERT(cmd == UCALL_SYNC, "unexpected ucall %lu", cmd);
	xcr0 = uc.args[2];

	memset(&xcrs, 0, sizeof(xcrs));
	vcpu_xcrs_get(vcpu, &xcrs);
	TEST_ASSERT(xcrs.nr_xcrs >= 1 && xcrs.xcrs[0].xcr == 0,
		    "KVM_GET_XCRS returned %u XCRs, first is XCR%u",
		    xcrs.nr_xcrs, xcrs.xcrs[0].xcr);
	TEST_ASSERT(xcrs.xcrs[0].value == xcr0,
		    "guest set XCR0 to 0x%lx, KVM has 0x%llx: XSETBV was not intercepted",
		    xcr0, xcrs.xcrs[0].value);
	ksft_test_result_pass("KVM saw the guest's XSETBV (XCR0 0x%lx)\n", xcr0);

	TEST_ASSERT(uc.args[3] == uc.args[4],
		    "CPUID 0xd.0 EBX is %lu for XCR0 0x%lx, expected %lu",
		    uc.args[3], xcr0, uc.args[4]);
	ksft_test_result_pass("CPUID 0xd.0 EBX follows XCR0 (%lu bytes)\n",
			      uc.args[3]);

	kvm_vm_free(vm);
	ksft_exit_pass();
}
