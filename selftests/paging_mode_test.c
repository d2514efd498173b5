// SPDX-License-Identifier: GPL-2.0-only
/*
 * paging_mode_test
 *
 * Foundation check for the L1 host: KVM runs in the paging mode the
 * harness asked for (nested paging, shadow paging, or agile paging for
 * every VM with kvm_amd.agile=1), and a
 * guest that touches many pages sees exactly what the host sees through
 * that MMU, both ways, with every page mapped by KVM.
 *
 * usage: paging_mode_test [-m nested|shadow|agile] [-p pages]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "mmuvirt_util.h"

#define TEST_SLOT	10
#define TEST_GPA	0xc0000000UL
#define TEST_GVA	0xc0000000UL
#define PAGE		4096UL

static uint64_t pattern(uint64_t seed, uint64_t i)
{
	return (seed ^ (i * 0x9e3779b97f4a7c15ULL)) | 1;
}

/*
 * Stage 1: write one word per page at an offset that moves through the
 * page, so that every cache line and page of the region is touched.
 * Stage 2: read back what the host wrote in between.
 */
static void guest_code(uint64_t npages, uint64_t seed)
{
	uint64_t i, sum = 0, want = 0;

	for (i = 0; i < npages; i++) {
		volatile uint64_t *p = (uint64_t *)(TEST_GVA + i * PAGE +
						    (i * 64) % PAGE);
		*p = pattern(seed, i);
	}
	GUEST_SYNC(1);

	for (i = 0; i < npages; i++) {
		volatile uint64_t *p = (uint64_t *)(TEST_GVA + i * PAGE);

		sum += *p;
		want += ~pattern(seed, i);
	}
	GUEST_ASSERT_EQ(sum, want);
	GUEST_DONE();
}

static const char *kvm_amd_mode(void)
{
	__TEST_REQUIRE(!access("/sys/module/kvm_amd", F_OK),
		       "kvm_amd is not loaded");
	if (!kvm_amd_npt())
		return "shadow";
	return kvm_amd_param_bool("agile") ? "agile" : "nested";
}

static void run_stage(struct kvm_vcpu *vcpu, uint64_t want)
{
	struct ucall uc;
	uint64_t cmd = vcpu_run_to_ucall(vcpu, &uc);

	TEST_ASSERT(cmd == want, "got ucall %lu, wanted ucall %lu", cmd, want);
	if (cmd == UCALL_SYNC)
		TEST_ASSERT(uc.args[1] == 1, "got SYNC stage %lu, wanted 1",
			    uc.args[1]);
}

int main(int argc, char *argv[])
{
	const char *want_mode = NULL, *mode;
	uint64_t npages = 1024, seed = 0x5eed0f1a2b3c4d5eULL, i, mapped;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int opt;

	while ((opt = getopt(argc, argv, "m:p:")) != -1) {
		switch (opt) {
		case 'm':
			want_mode = optarg;
			break;
		case 'p':
			npages = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [-m nested|shadow|agile] [-p pages]\n",
				argv[0]);
			exit(KSFT_FAIL);
		}
	}
	TEST_ASSERT(npages >= 1 && npages <= 65536,
		    "pages %lu out of range 1..65536", npages);

	ksft_print_header();
	ksft_set_plan(3);

	mode = kvm_amd_mode();
	if (want_mode)
		TEST_ASSERT(!strcmp(mode, want_mode),
			    "kvm_amd runs in %s mode, the harness asked for %s",
			    mode, want_mode);
	ksft_test_result_pass("kvm_amd paging mode is %s\n", mode);

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA,
				    TEST_SLOT, npages, 0);
	virt_map(vm, TEST_GVA, TEST_GPA, npages);
	vcpu_args_set(vcpu, 2, npages, seed);

	run_stage(vcpu, UCALL_SYNC);
	for (i = 0; i < npages; i++) {
		uint64_t *p = addr_gpa2hva(vm, TEST_GPA + i * PAGE +
					       (i * 64) % PAGE);

		TEST_ASSERT(*p == pattern(seed, i),
			    "page %lu: host sees 0x%lx, guest wrote 0x%lx",
			    i, *p, pattern(seed, i));
		*(uint64_t *)addr_gpa2hva(vm, TEST_GPA + i * PAGE) =
			~pattern(seed, i);
	}
	mapped = vm_get_stat(vm, "pages_4k") +
		 512 * vm_get_stat(vm, "pages_2m") +
		 512 * 512 * vm_get_stat(vm, "pages_1g");
	TEST_ASSERT(mapped >= npages,
		    "KVM maps %lu 4K-equivalent pages, guest touched %lu",
		    mapped, npages);
	ksft_test_result_pass("guest writes seen by host (%lu pages, %lu mapped)\n",
			      npages, mapped);

	run_stage(vcpu, UCALL_DONE);
	ksft_test_result_pass("host writes seen by guest\n");

	kvm_vm_free(vm);
	ksft_exit_pass();
}
