/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the project's KVM selftests, on top of the upstream
 * KVM selftest library.
 */
#ifndef SELFTEST_MMUVIRT_UTIL_H
#define SELFTEST_MMUVIRT_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"
#include "mmucnt.h"

/*
 * CPUID leaf 0x8000_0030 of the emulated CPU's MMU extensions
 * (tools/mmucnt.h); skips the test when the CPU has no such leaf.
 */
static inline void mmu_ext_cpuid(uint32_t *eax, uint32_t *ebx, uint32_t *ecx,
				 uint32_t *edx)
{
	cpuid(0x80000000u, eax, ebx, ecx, edx);
	__TEST_REQUIRE(*eax >= MMUCNT_LEAF,
		       "no CPUID leaf 0x%x (maximum extended leaf 0x%x)",
		       MMUCNT_LEAF, *eax);
	cpuid(MMUCNT_LEAF, eax, ebx, ecx, edx);
}

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

/*
 * Run @vcpu to its next ucall, which must be GUEST_SYNC(@stage) (or
 * GUEST_SYNC_ARGS with @stage first); *@uc holds it.
 */
static inline void expect_stage(struct kvm_vcpu *vcpu, uint64_t stage,
				struct ucall *uc)
{
	uint64_t cmd = vcpu_run_to_ucall(vcpu, uc);

	TEST_ASSERT(cmd == UCALL_SYNC && uc->args[1] == stage,
		    "got ucall %lu stage %lu, wanted SYNC stage %lu",
		    cmd, uc->args[1], stage);
}

/* Open a parameter of kvm_amd, e.g. "npt", with open(2)'s @flags */
static inline int kvm_amd_param_open(const char *name, int flags)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/sys/module/kvm_amd/parameters/%s",
		 name);
	fd = open(path, flags);
	TEST_ASSERT(fd >= 0, "%s: kvm_amd is not loaded or has no %s (errno %d)",
		    path, name, errno);
	return fd;
}

/* A boolean parameter of kvm_amd */
static inline bool kvm_amd_param_bool(const char *name)
{
	int fd = kvm_amd_param_open(name, O_RDONLY);
	char c = 0;

	TEST_ASSERT(read(fd, &c, 1) == 1, "read kvm_amd %s parameter", name);
	close(fd);
	return c == 'Y' || c == '1';
}

/* An unsigned integer parameter of kvm_amd */
static inline unsigned long kvm_amd_param_ulong(const char *name)
{
	int fd = kvm_amd_param_open(name, O_RDONLY);
	char buf[32] = "";
	ssize_t n;

	n = read(fd, buf, sizeof(buf) - 1);
	TEST_ASSERT(n > 0, "read kvm_amd %s parameter: %zd", name, n);
	close(fd);
	return strtoul(buf, NULL, 10);
}

/* Set a writable (0644) parameter of kvm_amd, as root */
static inline void kvm_amd_param_set(const char *name, unsigned long val)
{
	int fd = kvm_amd_param_open(name, O_WRONLY);
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%lu\n", val);

	TEST_ASSERT(write(fd, buf, len) == len,
		    "kvm_amd %s = %lu: errno %d", name, val, errno);
	close(fd);
}

/* Does kvm_amd run with nested paging (npt=1)? */

static inline bool kvm_amd_npt(void)
{
	return kvm_amd_param_bool("npt");
}

/*
 * One KVM_CAP_X86_DIRECT_SEGMENT operation @op with its arguments on @vm:
 * 0 or -errno.
 */
static inline int dseg_enable_cap(struct kvm_vm *vm, uint64_t op,
				  uint64_t a1, uint64_t a2)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_DIRECT_SEGMENT,
		.args = { op, a1, a2 },
	};

	return __vm_ioctl(vm, KVM_ENABLE_CAP, &cap) ? -errno : 0;
}

/* A vCPU statistic by name, from the vCPU's binary stats fd. */
static inline uint64_t vcpu_stat(struct kvm_vcpu *vcpu, const char *name)
{
	struct kvm_stats_header header;
	struct kvm_stats_desc *descs, *d;
	uint64_t val = ~0UL;
	int fd = vcpu_get_stats_fd(vcpu), i;

	read_stats_header(fd, &header);
	descs = read_stats_descriptors(fd, &header);
	for (i = 0; i < header.num_desc; i++) {
		d = get_stats_descriptor(descs, i, &header);
		if (!strcmp(d->name, name)) {
			read_stat_data(fd, &header, d, &val, 1);
			break;
		}
	}
	free(descs);
	close(fd);
	TEST_ASSERT(val != ~0UL, "no vCPU stat %s", name);
	return val;
}

/*
 * KVM_CAP_X86_AGILE_PAGING on @vm: agile paging @on (1) or off (0), the
 * scan interval @ms and the highest level of a table in nested mode
 * @max_level (0 keeps either), with @flags.  Returns the ioctl's result,
 * errno set on failure.
 */
static inline int agile_cap(struct kvm_vm *vm, uint64_t on, uint64_t ms,
			    uint64_t max_level, uint32_t flags)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_AGILE_PAGING,
		.flags = flags,
		.args = { on, ms, max_level },
	};

	return __vm_ioctl(vm, KVM_ENABLE_CAP, &cap);
}

/*
 * A VM with one vCPU (and @extra_pages of memory for memslot 0, as
 * __vm_create_with_one_vcpu()) that runs without agile paging: for a
 * design that agile paging excludes (TPT, a VMM direct segment) or a test
 * of nested paging itself.  kvm_amd.agile=1 makes every new VM agile;
 * turn agile paging off while the VM has no vCPU yet, as a VMM that wants
 * one of those does.
 */
static inline void vm_agile_off(struct kvm_vm *vm)
{
	if (kvm_check_cap(KVM_CAP_X86_AGILE_PAGING))
		TEST_ASSERT(!agile_cap(vm, 0, 0, 0, 0),
			    "KVM_CAP_X86_AGILE_PAGING off: errno %d", errno);
}

static inline struct kvm_vm *__vm_create_one_vcpu_no_agile(struct kvm_vcpu **vcpu,
							   uint64_t extra_pages,
							   void *guest_code)
{
	struct kvm_vm *vm = __vm_create(VM_MODE_DEFAULT, 1, extra_pages);

	vm_agile_off(vm);
	*vcpu = vm_vcpu_add(vm, 0, guest_code);
	return vm;
}

static inline struct kvm_vm *vm_create_one_vcpu_no_agile(struct kvm_vcpu **vcpu,
							 void *guest_code)
{
	return __vm_create_one_vcpu_no_agile(vcpu, 0, guest_code);
}

/* Frames tagged for any TPT VM, kvm.tpt_tagged_frames */
static inline long tpt_tagged_frames(void)
{
	int fd = open("/sys/module/kvm/parameters/tpt_tagged_frames", O_RDONLY);
	char s[32] = "";

	TEST_ASSERT(fd >= 0, "no kvm.tpt_tagged_frames");
	TEST_ASSERT(read(fd, s, sizeof(s) - 1) > 0, "read tpt_tagged_frames");
	close(fd);
	return strtol(s, NULL, 10);
}

/*
 * A failed CHECK() of a test case prints the values and fails the case,
 * not the whole test, so that one run reports every case: set case_ok at
 * the start of a case and report it at the end.
 */
static bool case_ok __maybe_unused;

#define CHECK(cond, fmt, ...)						\
do {									\
	if (!(cond)) {							\
		ksft_print_msg("FAILED '%s': " fmt "\n", #cond,		\
			       ##__VA_ARGS__);				\
		case_ok = false;					\
	}								\
} while (0)

#endif /* SELFTEST_MMUVIRT_UTIL_H */
