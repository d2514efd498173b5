// SPDX-License-Identifier: GPL-2.0-only
/*
 * fpu_load_vmexit_test
 *
 * A #VMEXIT must leave the CPU in host mode with nested paging off, whatever
 * the other CPUs do meanwhile.  QEMU 7.2's TCG kept the IGNNE# pin of the
 * first CPU in that CPU's hflags2 and cleared it from whichever vCPU thread
 * loaded an FPU status word (FXRSTOR, XRSTOR, FLDENV, FRSTOR), with a plain
 * read-modify-write.  The first CPU's own update of hflags2 at #VMEXIT could
 * then be undone: it went on in host mode with nested paging still on, took a
 * nested page fault on its next instruction fetch, and that #VMEXIT from host
 * mode wrote the host's RIP, RAX and CR3 into the guest's VMCB.  An L2 Linux
 * then resumed at the host's RIP and hung, in about one boot in ten.
 * qemu-patches/0008 gives IGNNE# a field of its own.
 *
 * The vCPU runs on CPU 0, the first CPU of the emulated machine, and exits to
 * KVM on every CPUID of a long loop, while a thread on CPU 1 loads FPU state
 * with FXRSTOR as fast as it can.  The guest must get to GUEST_DONE with its
 * loop count and sum intact, and no exit but the ucalls may reach user space.
 * The race is one of timing, but a wide one: on stock QEMU the guest ended
 * in a triple fault in 5 of 5 runs under nested paging.  Under shadow
 * paging, where no NPT flag can leak into the host, stock QEMU passed.
 *
 *   fpu_load_vmexit_test [-n ITERATIONS]   (default 20000)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/sysinfo.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "mmuvirt_util.h"

#define DEFAULT_ITERATIONS	20000

static bool loader_stop;
static uint64_t loader_loads;	/* written before the join, read after */

static void guest_code(uint64_t n)
{
	uint64_t i, sum = 0;
	uint32_t eax, ebx, ecx, edx;

	for (i = 0; i < n; i++) {
		/* Every CPUID is a #VMEXIT that KVM handles in the kernel. */
		__cpuid(0, 0, &eax, &ebx, &ecx, &edx);
		sum += i;
	}
	GUEST_ASSERT_2(i == n && sum == n * (n - 1) / 2, i, sum);
	GUEST_DONE();
}

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;
	int r;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	r = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	TEST_ASSERT(r == 0, "pinning to CPU %d failed: %d", cpu, r);
}

/* Load the same legacy FPU/SSE state over and over, on CPU 1. */
static void *fpu_loader(void *arg)
{
	uint8_t area[512] __aligned(16);
	uint64_t loads = 0;

	pin_to_cpu(1);
	asm volatile("fxsave64 %0" : "=m" (area));
	while (!READ_ONCE(loader_stop)) {
		asm volatile("fxrstor64 %0" : : "m" (area));
		loads++;
	}
	loader_loads = loads;
	return NULL;
}

int main(int argc, char *argv[])
{
	uint64_t n = DEFAULT_ITERATIONS, cmd;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	pthread_t loader;
	int opt, r;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		switch (opt) {
		case 'n':
			n = strtoull(optarg, NULL, 0);
			break;
		default:
			printf("usage: %s [-n ITERATIONS]\n", argv[0]);
			exit(KSFT_SKIP);
		}
	}
	TEST_REQUIRE(get_nprocs() >= 2);

	ksft_print_header();
	ksft_set_plan(1);

	pin_to_cpu(0);
	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	vcpu_args_set(vcpu, 1, n);

	r = pthread_create(&loader, NULL, fpu_loader, NULL);
	TEST_ASSERT(r == 0, "pthread_create: %d", r);

	cmd = vcpu_run_to_ucall(vcpu, &uc);

	WRITE_ONCE(loader_stop, true);
	pthread_join(loader, NULL);

	TEST_ASSERT(cmd == UCALL_DONE,
		    "got ucall %lu after %lu FXRSTORs on CPU 1, wanted DONE",
		    cmd, loader_loads);
	TEST_ASSERT(loader_loads > 0, "the FXRSTOR thread never ran");
	ksft_test_result_pass("%lu CPUID exits on CPU 0 beside %lu FXRSTORs on CPU 1\n",
			      n, loader_loads);

	kvm_vm_free(vm);
	ksft_exit_pass();
}
