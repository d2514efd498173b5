/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * MSRs of one host CPU through /dev/cpu/N/msr, for the tests that read the
 * emulated CPU's page-walk counters (tools/mmucnt.h) around a guest run.
 * The counters are per CPU: msr_dev_open() pins the test to the CPU whose
 * MSRs it opens, so the vCPU runs there too.
 */
#ifndef SELFTEST_MSR_DEV_H
#define SELFTEST_MSR_DEV_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"

static int msr_fd = -1;

static inline void msr_dev_open(int cpu)
{
	cpu_set_t cpus;
	char path[64];

	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	TEST_ASSERT(!sched_setaffinity(0, sizeof(cpus), &cpus),
		    "pin to CPU %d: %s", cpu, strerror(errno));
	snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
	msr_fd = open(path, O_RDWR);
	TEST_ASSERT(msr_fd >= 0, "open %s: %s (CONFIG_X86_MSR, root)", path,
		    strerror(errno));
}

/* 0, or -EIO when the MSR raised #GP. */
static inline int __msr_read(uint32_t msr, uint64_t *val)
{
	ssize_t r = pread(msr_fd, val, sizeof(*val), msr);

	return r == sizeof(*val) ? 0 : r < 0 ? -errno : -EIO;
}

static inline int __msr_write(uint32_t msr, uint64_t val)
{
	ssize_t r = pwrite(msr_fd, &val, sizeof(val), msr);

	return r == sizeof(val) ? 0 : r < 0 ? -errno : -EIO;
}

static inline uint64_t msr_read(uint32_t msr)
{
	uint64_t val = 0;
	int r = __msr_read(msr, &val);

	TEST_ASSERT(!r, "rdmsr 0x%x: %s", msr, strerror(-r));
	return val;
}

static inline void msr_write(uint32_t msr, uint64_t val)
{
	int r = __msr_write(msr, val);

	TEST_ASSERT(!r, "wrmsr 0x%x <- 0x%lx: %s", msr, val, strerror(-r));
}

#endif /* SELFTEST_MSR_DEV_H */
