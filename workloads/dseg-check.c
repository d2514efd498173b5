// SPDX-License-Identifier: GPL-2.0
/*
 * dseg-check: the guest kernel's /dev/dseg (Documentation/direct-segments.rst,
 * "The guest side") keeps its promises.  Run in an L2 guest booted with
 * run-l2 -g (and -d for Dual Direct), under mmu-count in L1 to see the
 * guest segment's hits:
 *
 *   - the mapping is zeroed, and data written through it reads back, also
 *     after a fork whose child maps a /dev/dseg of its own and churns it;
 *   - the child does not inherit the mapping: touching it there faults;
 *   - a second mapping in one process is refused (EBUSY), and so are
 *     mprotect() to read-only (EACCES), munmap() of a part (EINVAL),
 *     mremap() to grow (EFAULT) and to move (EINVAL);
 *   - DSEG_IOC_ESCAPE moves pages of the mapping to new frames and out of
 *     the segment (the escape filter) with their data: 32 pages, then
 *     ENOSPC; again for an escaped page is 0; a misaligned address or one
 *     outside the mapping is EINVAL; the data of the whole mapping is
 *     intact afterwards and new data reads back (the escape-filter hits
 *     show in mmu-count's dseg_escapes);
 *   - mapping and unmapping again and again neither fails nor leaks: the
 *     contiguous memory comes back each time;
 *   - with more than one CPU: threads of the process that already run on
 *     the other CPUs when it maps /dev/dseg get the segment too (their
 *     CPU's DSEG_CTL and DSEG_BASE, read through /dev/cpu/N/msr while
 *     they spin there), not only at their next switch to another mm;
 *   - the memory is pinned, so it is not for everybody: /dev/dseg is
 *     root's (a process of user nobody may not open it), and without
 *     CAP_IPC_LOCK a mapping counts against RLIMIT_MEMLOCK: with a limit
 *     of 1 MiB, 2 MiB are refused and 512 KiB show as VmLck while mapped.
 *
 * usage: dseg-check [MiB] (default 16).  Prints one RESULT line with
 * check=passed or check=failed and exits 0 or 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#define PAGE	4096UL

/* <asm/dseg.h> of the patched kernel (patches/guest-linux/) */
#ifndef DSEG_IOC_ESCAPE
#define DSEG_IOC_ESCAPE		_IOW('D', 1, uint64_t)
#endif
#define DSEG_MAX_ESCAPES	32

/* The guest segment MSRs (Documentation/hw/mmu-extensions.rst) */
#define MSR_DSEG_CTL		0xc0011f30
#define MSR_DSEG_BASE		0xc0011f31
#define DSEG_CTL_EN		1ull
#define MAX_CPUS		64

static int failures;

#define CHECK(cond, fmt, ...)						\
do {									\
	if (!(cond)) {							\
		printf("dseg-check: FAILED %s: " fmt "\n", #cond,	\
		       ##__VA_ARGS__);					\
		failures++;						\
	}								\
} while (0)

static uint64_t *map_dseg(size_t len)
{
	int fd = open("/dev/dseg", O_RDWR);
	void *p;

	if (fd < 0)
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static int escape(int fd, const void *p)
{
	uint64_t addr = (uintptr_t)p;

	return ioctl(fd, DSEG_IOC_ESCAPE, &addr) ? errno : 0;
}

/*
 * Escape DSEG_MAX_ESCAPES pages spread over the mapping (which holds the
 * pattern of @seed), and the cases that must fail.  Returns how many
 * pages were escaped.
 */
static int escape_pages(uint64_t *t, size_t len, int fd)
{
	size_t pages = len / PAGE, step = pages / DSEG_MAX_ESCAPES, i;
	char *c = (char *)t;
	int n = 0, e;

	if (!step)
		step = 1;
	for (i = 0; i < pages && n < DSEG_MAX_ESCAPES; i += step) {
		e = escape(fd, c + i * PAGE);
		CHECK(!e, "escape of page %zu: %s", i, strerror(e));
		if (!e)
			n++;
	}
	e = escape(fd, c);
	CHECK(!e, "escape of an escaped page: %s, wanted success", strerror(e));
	if (n == DSEG_MAX_ESCAPES && step > 1) {
		e = escape(fd, c + PAGE);
		CHECK(e == ENOSPC, "escape %d: %s, wanted ENOSPC",
		      DSEG_MAX_ESCAPES + 1, strerror(e));
	}
	e = escape(fd, c + 8);
	CHECK(e == EINVAL, "escape of a misaligned address: %s, wanted EINVAL",
	      strerror(e));
	e = escape(fd, c + len);
	CHECK(e == EINVAL, "escape past the mapping: %s, wanted EINVAL",
	      strerror(e));
	return n;
}

static uint64_t pattern(uint64_t i, uint64_t seed)
{
	return (i + 1) * 0x9e3779b97f4a7c15ULL ^ seed;
}

static void fill(uint64_t *t, size_t words, uint64_t seed)
{
	size_t i;

	for (i = 0; i < words; i++)
		t[i] = pattern(i, seed);
}

/* Index of the first word that is not the pattern, or @words. */
static size_t verify(const uint64_t *t, size_t words, uint64_t seed)
{
	size_t i;

	for (i = 0; i < words; i++)
		if (t[i] != pattern(i, seed))
			break;
	return i;
}

/* The child: no inherited mapping, but one of its own works. */
static int child(uint64_t *parent_map, size_t len)
{
	size_t words = len / 8, bad;
	pid_t pid = fork();
	uint64_t *t;
	int status;

	/* A grandchild touches the parent's range: it must fault. */
	if (pid == 0) {
		volatile uint64_t v = parent_map[0];

		(void)v;
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid ||
	    !WIFSIGNALED(status) || WTERMSIG(status) != SIGSEGV) {
		printf("dseg-check: FAILED the forked child read the parent's segment memory (status 0x%x)\n",
		       status);
		return 1;
	}
	t = map_dseg(len);
	if (!t) {
		printf("dseg-check: FAILED the child's own /dev/dseg: %s\n",
		       strerror(errno));
		return 1;
	}
	fill(t, words, 0x1234);
	bad = verify(t, words, 0x1234);
	if (bad != words) {
		printf("dseg-check: FAILED the child's data differs at word %zu\n",
		       bad);
		return 1;
	}
	return 0;
}

static volatile int spin_stop, spinning;

/* A thread that spins on CPU (long)arg, never leaving the process's mm */
static void *spinner(void *arg)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET((long)arg, &set);
	if (sched_setaffinity(0, sizeof(set), &set) ||
	    sched_getcpu() != (long)arg)
		return (void *)1;
	__atomic_add_fetch(&spinning, 1, __ATOMIC_SEQ_CST);
	while (!spin_stop)
		__asm__ volatile("pause");
	return NULL;
}

static int read_msr(int cpu, uint32_t msr, uint64_t *val)
{
	char path[64];
	int fd, r;

	snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno;
	r = pread(fd, val, sizeof(*val), msr) == sizeof(*val) ? 0 : errno;
	close(fd);
	return r;
}

/*
 * Threads already running on the other CPUs when the process maps
 * /dev/dseg must translate through the segment as well: the kernel must
 * load it there, not wait for their next switch to another mm.
 */
static void check_threads(size_t len)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN), cpu;
	pthread_t th[MAX_CPUS];
	uint64_t ctl, base;
	cpu_set_t set;
	void *ret;
	int r;
	uint64_t *t;

	if (ncpu < 2) {
		printf("dseg-check: threads: skipped, 1 CPU\n");
		return;
	}
	if (ncpu > MAX_CPUS)
		ncpu = MAX_CPUS;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	CHECK(!sched_setaffinity(0, sizeof(set), &set), "pin to CPU 0: %s",
	      strerror(errno));
	spin_stop = 0;
	spinning = 0;
	for (cpu = 1; cpu < ncpu; cpu++)
		CHECK(!pthread_create(&th[cpu], NULL, spinner, (void *)cpu),
		      "thread for CPU %ld", cpu);
	while (__atomic_load_n(&spinning, __ATOMIC_SEQ_CST) < ncpu - 1)
		sched_yield();

	t = map_dseg(len);
	CHECK(t, "mapping with %ld threads: %s", ncpu - 1, strerror(errno));
	for (cpu = 1; t && cpu < ncpu; cpu++) {
		r = read_msr(cpu, MSR_DSEG_CTL, &ctl);
		if (!r)
			r = read_msr(cpu, MSR_DSEG_BASE, &base);
		CHECK(!r, "/dev/cpu/%ld/msr: %s", cpu, strerror(r));
		if (r)
			continue;
		CHECK((ctl & DSEG_CTL_EN) && base == (uintptr_t)t,
		      "CPU %ld, where a thread of the process runs: DSEG_CTL 0x%" PRIx64 " DSEG_BASE 0x%" PRIx64 ", wanted the segment at %p on",
		      cpu, ctl, base, (void *)t);
	}
	spin_stop = 1;
	for (cpu = 1; cpu < ncpu; cpu++) {
		pthread_join(th[cpu], &ret);
		CHECK(!ret, "the thread for CPU %ld did not run there", cpu);
	}
	if (t)
		munmap(t, len);
	printf("dseg-check: threads: checked the segment on %ld other CPU(s)\n",
	       ncpu - 1);
}

/* Drop CAP_IPC_LOCK from this process's effective and permitted sets. */
static int drop_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[0].effective &= ~(1u << CAP_IPC_LOCK);
	data[0].permitted &= ~(1u << CAP_IPC_LOCK);
	return syscall(SYS_capset, &hdr, data);
}

/* VmLck of this process in KiB, -1 when /proc says nothing. */
static long vmlck_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* The child of check_limits() without CAP_IPC_LOCK; returns failures. */
static int limits_child(void)
{
	struct rlimit rl = { .rlim_cur = 1 << 20, .rlim_max = 1 << 20 };
	uint64_t *t;
	long kib;

	CHECK(!drop_ipc_lock(), "dropping CAP_IPC_LOCK: %s", strerror(errno));
	CHECK(!setrlimit(RLIMIT_MEMLOCK, &rl), "RLIMIT_MEMLOCK: %s",
	      strerror(errno));
	t = map_dseg(2 << 20);
	CHECK(!t && (errno == ENOMEM || errno == EAGAIN),
	      "2 MiB with RLIMIT_MEMLOCK 1 MiB and no CAP_IPC_LOCK: %s, wanted ENOMEM",
	      t ? "mapped" : strerror(errno));
	if (t)
		munmap(t, 2 << 20);
	t = map_dseg(512 << 10);
	CHECK(t, "512 KiB with RLIMIT_MEMLOCK 1 MiB: %s", strerror(errno));
	if (t) {
		kib = vmlck_kib();
		CHECK(kib == 512, "VmLck %ld kB while 512 KiB are mapped", kib);
		munmap(t, 512 << 10);
		kib = vmlck_kib();
		CHECK(kib == 0, "VmLck %ld kB after the unmap", kib);
	}
	return failures;
}

/* /dev/dseg pins memory: root's only, and RLIMIT_MEMLOCK counts. */
static void check_limits(void)
{
	int status, fd;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (setuid(65534))
			_exit(2);
		fd = open("/dev/dseg", O_RDWR);
		_exit(fd >= 0 ? 1 : errno == EACCES ? 0 : 3);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid &&
	      WIFEXITED(status) && !WEXITSTATUS(status),
	      "user nobody opening /dev/dseg: status 0x%x (1: it opened, 3: not EACCES), wanted refused",
	      status);

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(limits_child() ? 1 : 0);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid &&
	      WIFEXITED(status) && !WEXITSTATUS(status),
	      "the RLIMIT_MEMLOCK child failed (status 0x%x)", status);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 16;
	size_t len = mib << 20, words = len / 8, i, bad;
	uint64_t *t, *t2;
	int status, round, fd, escaped;
	pid_t pid;

	t = map_dseg(len);
	if (!t) {
		printf("dseg-check: /dev/dseg %zu MiB: %s\n", mib,
		       strerror(errno));
		printf("RESULT: name=dseg-check check=failed\n");
		return 1;
	}
	for (i = 0; i < words && !t[i]; i++)
		;
	CHECK(i == words, "word %zu of the new mapping is not zero", i);
	fill(t, words, 42);

	t2 = map_dseg(PAGE);
	CHECK(!t2 && errno == EBUSY, "a second mapping: %s, wanted EBUSY",
	      t2 ? "mapped" : strerror(errno));
	CHECK(mprotect(t, len, PROT_READ) && errno == EACCES,
	      "mprotect read-only: %s, wanted EACCES", strerror(errno));
	CHECK(munmap(t + words / 2, PAGE) && errno == EINVAL,
	      "munmap of one page: %s, wanted EINVAL", strerror(errno));
	/* Growing fails in mremap() itself (VM_DONTEXPAND), moving in ours. */
	CHECK(mremap(t, len, 2 * len, MREMAP_MAYMOVE) == MAP_FAILED &&
	      errno == EFAULT, "mremap to grow: %s, wanted EFAULT",
	      strerror(errno));
	t2 = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(t2 != MAP_FAILED &&
	      mremap(t, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, t2) ==
	      MAP_FAILED && errno == EINVAL,
	      "mremap to move: %s, wanted EINVAL", strerror(errno));
	if (t2 != MAP_FAILED)
		munmap(t2, len);

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(child(t, len));
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid &&
	      WIFEXITED(status) && !WEXITSTATUS(status),
	      "the child failed (status 0x%x)", status);

	bad = verify(t, words, 42);
	CHECK(bad == words, "the data differs at word %zu after the fork", bad);

	/* Bad frames: escaped pages move, with their data. */
	fd = open("/dev/dseg", O_RDWR);
	CHECK(fd >= 0, "open /dev/dseg: %s", strerror(errno));
	escaped = fd >= 0 ? escape_pages(t, len, fd) : 0;
	bad = verify(t, words, 42);
	CHECK(bad == words, "the data differs at word %zu after %d escapes",
	      bad, escaped);
	fill(t, words, 43);
	bad = verify(t, words, 43);
	CHECK(bad == words, "new data differs at word %zu after %d escapes",
	      bad, escaped);
	if (fd >= 0)
		close(fd);
	CHECK(!munmap(t, len), "munmap: %s", strerror(errno));

	/* Map and unmap: the memory must come back every time. */
	for (round = 0; round < 20; round++) {
		t = map_dseg(len);
		if (!t) {
			CHECK(t, "mapping %d: %s", round, strerror(errno));
			break;
		}
		fill(t, words, round);
		bad = verify(t, words, round);
		CHECK(bad == words, "mapping %d differs at word %zu", round,
		      bad);
		munmap(t, len);
	}

	check_threads(len);
	check_limits();

	printf("RESULT: name=dseg-check mib=%zu escaped=%d failures=%d check=%s\n",
	       mib, escaped, failures, failures ? "failed" : "passed");
	return failures ? 1 : 0;
}
