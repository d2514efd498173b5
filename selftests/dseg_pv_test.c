// SPDX-License-Identifier: GPL-2.0-only
/*
 * dseg_pv_test: the paravirtual side of direct segments, KVM_FEATURE_DSEG
 * with KVM_HC_DSEG_VMM_INFO (the Dual Direct handshake) and
 * KVM_HC_DSEG_BALLOON (self-ballooning), Documentation/direct-segments.rst.
 *
 *   a. KVM_GET_SUPPORTED_CPUID offers KVM_FEATURE_DSEG exactly when
 *      KVM_CAP_X86_DIRECT_SEGMENT offers VMM segments.
 *   b. KVM_HC_DSEG_VMM_INFO tells the guest the VMM segment's range and
 *      escapes while it is on, and nothing before it is enabled and after
 *      it is disabled.
 *   c. Without KVM_CAP_EXIT_HYPERCALL, KVM_HC_DSEG_BALLOON returns
 *      -KVM_EOPNOTSUPP and does not exit; with it, the call exits to
 *      userspace with the guest's a0 and the guest gets what userspace
 *      answers; INFO reports KVM_DSEG_INFO_BALLOON.
 *   d. Bad arguments (misaligned or page-crossing INFO buffer, a buffer
 *      outside guest memory, a zero or unaligned BALLOON size) get
 *      -KVM_EINVAL or -KVM_EFAULT and no exit.
 *   e. 10000 hypercalls with random arguments return 0 or an error
 *      code, exit only for a valid BALLOON, and leave the host intact.
 *   f. Without the feature bit in the guest's CPUID (enforced, in a new
 *      VM: CPUID cannot change after KVM_RUN) both hypercalls return
 *      -KVM_ENOSYS.
 *
 * Needs no contiguous memory: the VMM segment of (b) is 8 ordinary
 * pages, which KVM escapes where they are out of line.  Under shadow
 * paging only (a) runs.
 */
#include <stdlib.h>
#include <string.h>
#include <linux/kvm_para.h>

#include "kvm_util.h"
#include "processor.h"
#include "mmuvirt_util.h"

#define SEG_PAGES	8
#define NR_RANDOM	10000

/* What the guest does next: one hypercall, set by the host. */
static struct {
	uint64_t nr, a0;
} cmd;

static void guest_code(void)
{
	for (;;)
		GUEST_SYNC(kvm_hypercall(cmd.nr, cmd.a0, 0, 0, 0));
}

static struct kvm_vm *vm;
static struct kvm_vcpu *vcpu;
static vm_vaddr_t info_gva;
static vm_paddr_t info_gpa;
/*
 * Run one hypercall in the guest.  An exit to userspace for it is
 * answered with @answer and counted in *@exits.
 */
static int64_t hypercall(uint64_t nr, uint64_t a0, int64_t answer,
			 int *exits)
{
	struct kvm_run *run = vcpu->run;
	struct ucall uc;

	cmd.nr = nr;
	cmd.a0 = a0;
	sync_global_to_guest(vm, cmd);
	for (;;) {
		vcpu_run(vcpu);
		if (run->exit_reason != KVM_EXIT_HYPERCALL)
			break;
		TEST_ASSERT(run->hypercall.nr == KVM_HC_DSEG_BALLOON &&
			    run->hypercall.args[0] == a0 &&
			    run->hypercall.longmode == 1,
			    "hypercall exit nr %llu a0 0x%llx longmode %u for nr %lu a0 0x%lx",
			    run->hypercall.nr, run->hypercall.args[0],
			    run->hypercall.longmode, nr, a0);
		run->hypercall.ret = answer;
		(*exits)++;
	}
	TEST_ASSERT(get_ucall(vcpu, &uc) == UCALL_SYNC,
		    "exit reason %u (%s), wanted the guest's SYNC",
		    run->exit_reason, exit_reason_str(run->exit_reason));
	return (int64_t)uc.args[1];
}

static struct kvm_dseg_vmm_info *info(void)
{
	return addr_gva2hva(vm, info_gva);
}

/* INFO into the guest's buffer; the buffer is poisoned first. */
static int64_t hc_info(void)
{
	int exits = 0;
	int64_t r;

	memset(info(), 0xa5, sizeof(*info()));
	r = hypercall(KVM_HC_DSEG_VMM_INFO, info_gpa, 0, &exits);
	TEST_ASSERT(!exits, "KVM_HC_DSEG_VMM_INFO exited to userspace");
	return r;
}

/* A VM whose guest runs hypercalls, with an INFO buffer and 8 pages after. */
static void create_vm(bool pv_feature)
{
	struct kvm_cpuid_entry2 *e;

	vm = vm_create_one_vcpu_no_agile(&vcpu, guest_code);
	info_gva = vm_vaddr_alloc(vm, (1 + SEG_PAGES) * PAGE_SIZE,
				  KVM_UTIL_MIN_VADDR);
	info_gpa = addr_gva2gpa(vm, info_gva);
	TEST_ASSERT(addr_gva2gpa(vm, info_gva + SEG_PAGES * PAGE_SIZE) ==
		    info_gpa + SEG_PAGES * PAGE_SIZE,
		    "the guest pages are not contiguous in guest-physical memory");
	if (pv_feature)
		return;
	vcpu_enable_cap(vcpu, KVM_CAP_ENFORCE_PV_FEATURE_CPUID, 1);
	e = vcpu_get_cpuid_entry(vcpu, KVM_CPUID_FEATURES);
	e->eax &= ~(1u << KVM_FEATURE_DSEG);
	vcpu_set_cpuid(vcpu);
}

static bool cpuid_has_dseg(void)
{
	const struct kvm_cpuid_entry2 *e =
		get_cpuid_entry(kvm_get_supported_cpuid(), KVM_CPUID_FEATURES, 0);

	return e->eax & (1u << KVM_FEATURE_DSEG);
}

static void test_info(void)
{
	vm_paddr_t seg = info_gpa + PAGE_SIZE;
	uint64_t esc;
	int64_t r;

	case_ok = true;
	r = hc_info();
	CHECK(!r && info()->flags == 0 && !info()->base && !info()->limit,
	      "before enable: r %ld flags 0x%llx [0x%llx, 0x%llx)", r,
	      info()->flags, info()->base, info()->limit);

	r = dseg_enable_cap(vm, KVM_X86_DSEG_VMM_ENABLE, seg,
			    SEG_PAGES * PAGE_SIZE);
	TEST_ASSERT(!r, "VMM segment over [0x%lx, +%lu pages): %s", seg,
		    (unsigned long)SEG_PAGES, strerror(-r));
	esc = vm_get_stat(vm, "dseg_vmm_escapes");
	r = hc_info();
	CHECK(!r && info()->flags == KVM_DSEG_INFO_ON &&
	      info()->base == seg &&
	      info()->limit == seg + SEG_PAGES * PAGE_SIZE &&
	      info()->escapes == esc,
	      "on: r %ld flags 0x%llx [0x%llx, 0x%llx) escapes %llu, wanted [0x%lx, 0x%lx) escapes %lu",
	      r, info()->flags, info()->base, info()->limit, info()->escapes,
	      seg, seg + SEG_PAGES * PAGE_SIZE, esc);

	TEST_ASSERT(!dseg_enable_cap(vm, KVM_X86_DSEG_VMM_DISABLE, 0, 0),
		    "KVM_X86_DSEG_VMM_DISABLE");
	r = hc_info();
	CHECK(!r && info()->flags == 0 && !info()->base && !info()->limit,
	      "after disable: r %ld flags 0x%llx [0x%llx, 0x%llx)", r,
	      info()->flags, info()->base, info()->limit);
	ksft_test_result(case_ok, "b: INFO reports the VMM segment: [0x%lx, 0x%lx), %lu escapes\n",
			 seg, seg + SEG_PAGES * PAGE_SIZE, esc);
}

static void test_balloon(void)
{
	int exits = 0;
	int64_t r;

	case_ok = true;
	r = hypercall(KVM_HC_DSEG_BALLOON, 2UL << 20, 0, &exits);
	CHECK(r == -KVM_EOPNOTSUPP && !exits,
	      "without the exit: r %ld, %d exits, wanted -KVM_EOPNOTSUPP", r,
	      exits);

	TEST_ASSERT(kvm_check_cap(KVM_CAP_EXIT_HYPERCALL) &
		    (1 << KVM_HC_DSEG_BALLOON),
		    "KVM_CAP_EXIT_HYPERCALL does not offer KVM_HC_DSEG_BALLOON: 0x%x",
		    kvm_check_cap(KVM_CAP_EXIT_HYPERCALL));
	vm_enable_cap(vm, KVM_CAP_EXIT_HYPERCALL, 1 << KVM_HC_DSEG_BALLOON);

	r = hc_info();
	CHECK(!r && info()->flags == KVM_DSEG_INFO_BALLOON,
	      "INFO with the exit: r %ld flags 0x%llx", r, info()->flags);
	r = hypercall(KVM_HC_DSEG_BALLOON, 2UL << 20, 1UL << 30, &exits);
	CHECK(r == 1L << 30 && exits == 1,
	      "with the exit: r %ld, %d exits, wanted 0x40000000 and 1", r,
	      exits);
	r = hypercall(KVM_HC_DSEG_BALLOON, 4UL << 20, -KVM_E2BIG, &exits);
	CHECK(r == -KVM_E2BIG && exits == 2,
	      "userspace refuses: r %ld, %d exits, wanted -KVM_E2BIG", r,
	      exits);
	ksft_test_result(case_ok, "c: BALLOON exits to userspace only when enabled, %d exits\n",
			 exits);
}

static void test_bad_input(void)
{
	int exits = 0;
	int64_t r;

	case_ok = true;
	r = hypercall(KVM_HC_DSEG_VMM_INFO, info_gpa + 4, 0, &exits);
	CHECK(r == -KVM_EINVAL, "misaligned buffer: %ld", r);
	r = hypercall(KVM_HC_DSEG_VMM_INFO, info_gpa + PAGE_SIZE - 8, 0,
		      &exits);
	CHECK(r == -KVM_EINVAL, "buffer across a page: %ld", r);
	r = hypercall(KVM_HC_DSEG_VMM_INFO, 1UL << 38, 0, &exits);
	CHECK(r == -KVM_EFAULT, "buffer outside guest memory: %ld", r);
	r = hypercall(KVM_HC_DSEG_BALLOON, 0, 0, &exits);
	CHECK(r == -KVM_EINVAL, "BALLOON of 0 bytes: %ld", r);
	r = hypercall(KVM_HC_DSEG_BALLOON, 4095, 0, &exits);
	CHECK(r == -KVM_EINVAL, "BALLOON of 4095 bytes: %ld", r);
	CHECK(!exits, "%d exits for bad arguments", exits);
	ksft_test_result(case_ok, "d: bad arguments get errors, no exits\n");
}

/* f: a new VM whose guest CPUID lacks KVM_FEATURE_DSEG, enforced. */
static void test_no_feature(void)
{
	int exits = 0;
	int64_t r;

	case_ok = true;
	create_vm(false);
	vm_enable_cap(vm, KVM_CAP_EXIT_HYPERCALL, 1 << KVM_HC_DSEG_BALLOON);
	r = hc_info();
	CHECK(r == -KVM_ENOSYS, "INFO without KVM_FEATURE_DSEG: %ld", r);
	r = hypercall(KVM_HC_DSEG_BALLOON, 2UL << 20, 0, &exits);
	CHECK(r == -KVM_ENOSYS && !exits,
	      "BALLOON without KVM_FEATURE_DSEG: %ld, %d exits", r, exits);
	kvm_vm_free(vm);
	ksft_test_result(case_ok, "f: no KVM_FEATURE_DSEG, no hypercalls\n");
}

static void test_random(void)
{
	static const int64_t errs[] = {
		-KVM_EINVAL, -KVM_EFAULT, -KVM_EOPNOTSUPP, -KVM_E2BIG,
	};
	uint64_t before = vcpu_stat(vcpu, "dseg_hypercalls");
	int i, j, exits = 0, want_exits = 0, refused = 0;
	uint64_t nr, a0;
	int64_t r;

	case_ok = true;
	srandom(1);
	for (i = 0; i < NR_RANDOM; i++) {
		nr = random() & 1 ? KVM_HC_DSEG_BALLOON : KVM_HC_DSEG_VMM_INFO;
		a0 = (uint64_t)random() << 33 ^ (uint64_t)random();
		switch (random() % 4) {
		case 0:
			a0 &= ~(PAGE_SIZE - 1);
			break;
		case 1:
			a0 = info_gpa + (a0 & (PAGE_SIZE - 1));
			break;
		case 2:
			a0 &= 0xffffffff;
			break;
		}
		/*
		 * INFO writes wherever a0 points: only into its own page or
		 * above guest memory, never over the guest's code or tables.
		 */
		if (nr == KVM_HC_DSEG_VMM_INFO &&
		    (a0 & ~(PAGE_SIZE - 1)) != info_gpa)
			a0 |= 1UL << 36;
		if (nr == KVM_HC_DSEG_BALLOON && a0 && !(a0 & (PAGE_SIZE - 1)))
			want_exits++;
		r = hypercall(nr, a0, -KVM_E2BIG, &exits);
		for (j = 0; j < ARRAY_SIZE(errs) && r != errs[j]; j++)
			;
		CHECK(!r || j < ARRAY_SIZE(errs),
		      "nr %lu a0 0x%lx returned %ld", nr, a0, r);
		if (r)
			refused++;
	}
	CHECK(exits == want_exits, "%d exits, wanted %d", exits, want_exits);
	CHECK(vcpu_stat(vcpu, "dseg_hypercalls") - before == NR_RANDOM,
	      "dseg_hypercalls counted %lu of %d",
	      vcpu_stat(vcpu, "dseg_hypercalls") - before, NR_RANDOM);
	ksft_test_result(case_ok, "e: %d random hypercalls: %d errors, %d exits\n",
			 NR_RANDOM, refused, exits);
}

int main(int argc, char *argv[])
{
	int caps;

	ksft_print_header();
	caps = kvm_check_cap(KVM_CAP_X86_DIRECT_SEGMENT);
	ksft_print_msg("KVM_CAP_X86_DIRECT_SEGMENT 0x%x, KVM_FEATURE_DSEG %s\n",
		       caps, cpuid_has_dseg() ? "offered" : "not offered");
	if (!(caps & KVM_X86_DSEG_VMM)) {
		ksft_set_plan(1);
		ksft_test_result(!cpuid_has_dseg(),
				 "a: no VMM segments, no KVM_FEATURE_DSEG\n");
		ksft_finished();
	}
	ksft_set_plan(6);
	ksft_test_result(cpuid_has_dseg(),
			 "a: VMM segments, KVM_FEATURE_DSEG offered\n");

	create_vm(true);
	test_info();
	test_balloon();
	test_bad_input();
	test_random();
	kvm_vm_free(vm);

	test_no_feature();
	ksft_finished();
}
