// SPDX-License-Identifier: GPL-2.0
/*
 * tpt-mm: checks of how a Translation Pass-Through guest kernel keeps its
 * TPT tables (arch/x86/mm/tpt.c, Documentation/tpt.rst) when a process's
 * address space comes and goes, when reclaim unmaps pages and when CPUs
 * race to fill one address.  Each case reads /sys/kernel/mm/tpt/stats
 * before and after, and prints one line
 *
 *   tpt-mm: CASE: ok|FAILED: what was measured
 *
 * The cases:
 *
 *   tables [ROUNDS]   map one page at a fresh 1 GiB-aligned address,
 *                     touch it and unmap it, ROUNDS times (default 512).
 *                     Each round needs a page directory and a page table
 *                     of its own, in the normal tables and in the TPT
 *                     tables; munmap frees the normal ones, and the TPT
 *                     ones must go with them: the count of TPT tables
 *                     may grow by less than ROUNDS / 16.
 *   reclaim [PAGES]   touch PAGES anonymous pages (default 4096), then,
 *                     while a thread keeps the mm loaded on CPU 1 (so
 *                     that reclaim batches the flush), have reclaim swap
 *                     one out (MADV_PAGEOUT; needs
 *                     active swap, else the case says "skipped"): the
 *                     zap that goes with the unmap must clear that one
 *                     page's TPT leaf, not every leaf of the process
 *                     (zapped_entries may grow by at most 8); the page
 *                     must read back what was written.
 *   race [SECONDS]    two threads on two CPUs (default 6 s): one drops
 *                     a shared page with MADV_DONTNEED and writes it
 *                     again, the other reads and writes it, so that both
 *                     fault on it and often find it already filled by
 *                     the other: no fallback and no rebuild may follow
 *                     (fallbacks and rebuilds unchanged, active still 1).
 *   pressure [SECONDS]
 *                     (default 12) three processes, each with a data
 *                     thread and a churn thread, for SECONDS: the data
 *                     threads fill their share of more anonymous memory
 *                     than is available (MemAvailable plus up to 48 MiB,
 *                     at most half the free swap), so that reclaim swaps,
 *                     and verify and rewrite it in passes; the churn
 *                     threads map and unmap 1-64 pages and 2 MiB huge
 *                     pages, touch them, make them read-only and writable
 *                     again, and fork children that check and exit.  No
 *                     data may differ, the swap must have been used
 *                     (SwapFree fell), and no fallback or rebuild may
 *                     follow.
 *                     Prints passes, churn rounds and the TPT stats as
 *                     rates per second; with TPT off (the stats'
 *                     active 0) it runs the same and skips the TPT
 *                     checks, for a comparison.
 *
 * usage: tpt-mm CASE [ARG]; exits 0 when the case passed or was skipped,
 * 1 when it failed, 2 on a usage or setup error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif

#define STATS		"/sys/kernel/mm/tpt/stats"
#define PAGE		4096UL

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("tpt-mm: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n", stderr);
	va_end(ap);
	exit(2);
}

/* The value of @name in the TPT stats; -1 when there is none. */
static long stat_opt(const char *name)
{
	char key[64];
	long val;
	FILE *f = fopen(STATS, "r");

	if (!f)
		die("%s: %s", STATS, strerror(errno));
	while (fscanf(f, "%63s %ld", key, &val) == 2) {
		if (!strcmp(key, name)) {
			fclose(f);
			return val;
		}
	}
	fclose(f);
	return -1;
}

/* The same for a statistic every TPT guest kernel has. */
static long stat_of(const char *name)
{
	long val = stat_opt(name);

	if (val < 0)
		die("%s has no %s", STATS, name);
	return val;
}

static int verdict(const char *name, int ok, const char *fmt, ...)
{
	va_list ap;

	printf("tpt-mm: %s: %s: ", name, ok ? "ok" : "FAILED");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return ok ? 0 : 1;
}

static int case_tables(long rounds)
{
	/* 32 TiB up: far from anything the process has mapped. */
	const unsigned long base = 32UL << 40;
	long t0, t1, f0, f1, i;

	t0 = stat_of("tables");
	f0 = stat_opt("tables_freed");
	for (i = 0; i < rounds; i++) {
		unsigned long addr = base + ((unsigned long)i << 30);
		volatile long *p;

		p = mmap((void *)addr, PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			 -1, 0);
		if (p == MAP_FAILED || (unsigned long)p != addr)
			die("mmap at %#lx: %s", addr, strerror(errno));
		*p = i;
		if (*p != i)
			return verdict("tables", 0, "round %ld read %ld", i, *p);
		if (munmap((void *)p, PAGE))
			die("munmap at %#lx: %s", addr, strerror(errno));
	}
	t1 = stat_of("tables");
	f1 = stat_opt("tables_freed");
	return verdict("tables", t1 - t0 < rounds / 16,
		       "%ld rounds: tables %ld -> %ld (grew by %ld, limit %ld), tables_freed +%ld",
		       rounds, t0, t1, t1 - t0, rounds / 16, f1 - f0);
}

static int swap_active(void)
{
	char line[256];
	int n = 0;
	FILE *f = fopen("/proc/swaps", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n > 1;	/* a header line, then one per swap area */
}

/* Whether the page at @addr is swapped out (/proc/self/pagemap bit 62). */
static int swapped_out(const void *addr)
{
	uint64_t e = 0;
	FILE *f = fopen("/proc/self/pagemap", "r");

	if (!f)
		die("/proc/self/pagemap: %s", strerror(errno));
	if (fseek(f, (unsigned long)addr / PAGE * sizeof(e), SEEK_SET) ||
	    fread(&e, sizeof(e), 1, f) != 1)
		die("reading /proc/self/pagemap: %s", strerror(errno));
	fclose(f);
	return !!(e & (1ULL << 62));
}

/* Run the calling thread on @cpu only. */
static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static volatile int spin_stop, spinning;

/* Keeps the mm loaded on CPU 1, so that reclaim batches its flush. */
static void *spinner(void *arg)
{
	pin_to_cpu(1);
	spinning = 1;
	while (!spin_stop)
		;
	return NULL;
}

static int case_reclaim(long pages)
{
	long z0, z1, zaps0, zaps1, i, victim = pages / 2;
	pthread_t spin;
	int spun = 0;
	long *p;

	if (!swap_active()) {
		printf("tpt-mm: reclaim: skipped: no active swap (/proc/swaps)\n");
		return 0;
	}
	p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		die("mmap of %ld pages: %s", pages, strerror(errno));
	madvise(p, pages * PAGE, MADV_NOHUGEPAGE);
	for (i = 0; i < pages; i++)
		p[i * (PAGE / sizeof(long))] = i ^ 0x5a5a5a5aL;

	/*
	 * Reclaim defers the flush of an unmap to one batch (the path to
	 * check) only when the mm is loaded on another CPU too.
	 */
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1 &&
	    !pthread_create(&spin, NULL, spinner, NULL)) {
		pin_to_cpu(0);
		spun = 1;
		while (!spinning)
			;
	}
	z0 = stat_of("zapped_entries");
	zaps0 = stat_of("zaps");
	if (madvise((char *)p + victim * PAGE, PAGE, MADV_PAGEOUT))
		die("MADV_PAGEOUT: %s", strerror(errno));
	z1 = stat_of("zapped_entries");
	zaps1 = stat_of("zaps");
	if (spun) {
		spin_stop = 1;
		pthread_join(spin, NULL);
	}
	if (!swapped_out((char *)p + victim * PAGE))
		return verdict("reclaim", 0,
			       "MADV_PAGEOUT did not swap page %ld out (zapped %ld TPT leaves meanwhile)",
			       victim, z1 - z0);
	if (p[victim * (PAGE / sizeof(long))] != (victim ^ 0x5a5a5a5aL))
		return verdict("reclaim", 0, "page %ld read back %#lx, wrote %#lx",
			       victim, p[victim * (PAGE / sizeof(long))],
			       victim ^ 0x5a5a5a5aL);
	return verdict("reclaim", z1 - z0 <= 8,
		       "swapping out 1 of %ld touched pages%s zapped %ld TPT leaves in %ld zap(s) (limit 8); the page read back intact",
		       pages, spun ? ", a thread on CPU 1," : "", z1 - z0,
		       zaps1 - zaps0);
}

struct racer {
	volatile long *page;
	int cpu;
	int dropper;
	volatile int *stop;
	long rounds;
};

static void *race_thread(void *arg)
{
	struct racer *r = arg;

	pin_to_cpu(r->cpu);
	while (!*r->stop) {
		if (r->dropper)
			madvise((void *)r->page, PAGE, MADV_DONTNEED);
		r->page[r->dropper ? 0 : 1] = r->rounds;
		(void)r->page[r->dropper ? 1 : 0];
		r->rounds++;
	}
	return NULL;
}

static int case_race(long seconds)
{
	long fb0, fb1, rb0, rb1, active;
	volatile int stop = 0;
	struct racer r[2];
	pthread_t t[2];
	void *page;
	int i;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("tpt-mm: race: skipped: one CPU\n");
		return 0;
	}
	page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	fb0 = stat_of("fallbacks");
	rb0 = stat_of("rebuilds");
	for (i = 0; i < 2; i++) {
		r[i] = (struct racer){ .page = page, .cpu = i, .dropper = !i,
				       .stop = &stop };
		if (pthread_create(&t[i], NULL, race_thread, &r[i]))
			die("pthread_create failed");
	}
	sleep(seconds);
	stop = 1;
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	/* A fallback is rebuilt at the poll, each second. */
	sleep(2);
	fb1 = stat_of("fallbacks");
	rb1 = stat_of("rebuilds");
	active = stat_of("active");
	return verdict("race", fb1 == fb0 && rb1 == rb0 && active == 1,
		       "%ld drops and %ld accesses in %ld s: fallbacks +%ld, rebuilds +%ld, active %ld",
		       r[0].rounds, r[1].rounds, seconds, fb1 - fb0, rb1 - rb0,
		       active);
}

/* A value of /proc/meminfo (kB) or /proc/vmstat; -1 when missing. */
static long proc_value(const char *file, const char *name)
{
	char key[64];
	long val;
	FILE *f = fopen(file, "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld%*[^\n]", key, &val) == 2) {
		size_t n = strlen(key);

		if (n && key[n - 1] == ':')
			key[n - 1] = 0;
		if (!strcmp(key, name)) {
			fclose(f);
			return val;
		}
	}
	fclose(f);
	return -1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct presser {
	long *mem;
	size_t words;
	int id;
	double end;
	long passes, churns, errors;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15ULL;
	return x ^ (x >> 29);
}

/* Fill, then verify and rewrite in passes until the end. */
static void *press_data(void *arg)
{
	struct presser *p = arg;
	size_t i, step = PAGE / sizeof(long) / 4;
	long pass;

	for (pass = 0; ; pass++) {
		for (i = 0; i < p->words; i += step) {
			long want = mix(i ^ ((uint64_t)p->id << 56) ^
					((uint64_t)(pass - 1) << 40));

			if (pass && p->mem[i] != want) {
				if (p->errors++ < 5)
					printf("tpt-mm: pressure: process %d pass %ld word %zu: %#lx, want %#lx\n",
					       p->id, pass, i, p->mem[i], want);
			}
			p->mem[i] = mix(i ^ ((uint64_t)p->id << 56) ^
					((uint64_t)pass << 40));
		}
		p->passes = pass;
		if (now() > p->end)
			return NULL;
	}
}

/* Map, touch, protect and unmap at varied strides; fork now and then. */
static void *press_churn(void *arg)
{
	struct presser *p = arg;
	unsigned int seed = p->id * 7919 + 1;
	long round;

	for (round = 0; now() < p->end; round++) {
		int huge = !(round % 8);
		size_t len = huge ? 4UL << 20 : (1 + rand_r(&seed) % 64) * PAGE;
		char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		size_t off;

		if (m == MAP_FAILED)
			continue;
		if (huge) {
			/* A 2 MiB-aligned 2 MiB inside, as a huge page. */
			char *h = (char *)(((unsigned long)m + (2UL << 20) - 1) &
					   ~((2UL << 20) - 1));

			madvise(h, 2UL << 20, MADV_HUGEPAGE);
		}
		for (off = 0; off < len; off += PAGE)
			m[off] = (char)(round + off / PAGE);
		mprotect(m, len / 2, PROT_READ);
		for (off = 0; off < len / 2; off += PAGE)
			if (m[off] != (char)(round + off / PAGE))
				p->errors++;
		mprotect(m, len / 2, PROT_READ | PROT_WRITE);
		if (!(round % 32)) {
			pid_t pid;

			fflush(stdout);
			pid = fork();
			if (pid == 0) {
				for (off = 0; off < len; off += PAGE)
					if (m[off] != (char)(round + off / PAGE))
						_exit(1);
				memset(m, 0x5a, len);
				_exit(0);
			}
			if (pid > 0) {
				int status;

				if (waitpid(pid, &status, 0) != pid ||
				    !WIFEXITED(status) || WEXITSTATUS(status))
					p->errors++;
			}
		}
		munmap(m, len);
		p->churns = round + 1;
	}
	return NULL;
}

static int press_process(int id, size_t bytes, double seconds, int fd)
{
	struct presser p = { .id = id, .end = now() + seconds };
	pthread_t t[2];

	p.mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p.mem == MAP_FAILED)
		return 2;
	p.words = bytes / sizeof(long);
	pthread_create(&t[0], NULL, press_data, &p);
	pthread_create(&t[1], NULL, press_churn, &p);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	if (write(fd, &p, sizeof(p)) != sizeof(p))
		return 2;
	return p.errors ? 1 : 0;
}

static int case_pressure(long seconds)
{
	static const char *const stats[] = {
		"fills_user", "prefills", "zaps", "zapped_entries", "tables",
		"tables_freed", "spares_used", "fallbacks", "rebuilds",
	};
	long before[9], after[9], avail, swapfree, swapmin, sf, active;
	long passes = 0, churns = 0, errors = 0;
	int procs = 3, i, fds[2], failed = 0, status;
	size_t total, share;
	struct presser p;
	double t0, dt;
	char line[512];
	int len = 0;

	avail = proc_value("/proc/meminfo", "MemAvailable");
	swapfree = proc_value("/proc/meminfo", "SwapFree");
	if (avail < 0 || swapfree <= 0) {
		printf("tpt-mm: pressure: skipped: no swap (SwapFree %ld kB)\n",
		       swapfree);
		return 0;
	}
	total = (avail + (swapfree / 2 < 48 << 10 ? swapfree / 2 : 48 << 10)) *
		1024UL;
	share = total / procs & ~(PAGE - 1);
	active = stat_of("active");
	for (i = 0; i < 9; i++)
		before[i] = stat_opt(stats[i]);
	swapmin = swapfree;
	if (pipe(fds))
		die("pipe: %s", strerror(errno));
	t0 = now();
	fflush(stdout);
	for (i = 0; i < procs; i++) {
		if (fork() == 0) {
			close(fds[0]);
			_exit(press_process(i, share, seconds, fds[1]));
		}
	}
	close(fds[1]);
	/* The swap in use at its peak: what reclaim wrote out. */
	while (now() < t0 + seconds) {
		sf = proc_value("/proc/meminfo", "SwapFree");
		if (sf >= 0 && sf < swapmin)
			swapmin = sf;
		usleep(250000);
	}
	for (i = 0; i < procs; i++) {
		if (read(fds[0], &p, sizeof(p)) == sizeof(p)) {
			passes += p.passes;
			churns += p.churns;
			errors += p.errors;
		}
	}
	for (i = 0; i < procs; i++) {
		if (wait(&status) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			failed++;
	}
	dt = now() - t0;
	for (i = 0; i < 9; i++) {
		after[i] = stat_opt(stats[i]);
		len += snprintf(line + len, sizeof(line) - len, " %s=%.0f/s",
				stats[i], (after[i] - before[i]) / dt);
	}
	printf("tpt-mm: pressure: TPT %s, %d processes x %zu MiB (MemAvailable %ld MiB, SwapFree %ld MiB) for %.1f s: %ld passes, %ld churn rounds (%.1f/s), up to %ld MiB swapped out;%s\n",
	       active ? "on" : "off", procs, share >> 20, avail >> 10,
	       swapfree >> 10, dt, passes, churns, churns / dt,
	       (swapfree - swapmin) >> 10, line);
	if (errors || failed)
		return verdict("pressure", 0, "%ld data error(s), %d process(es) failed",
			       errors, failed);
	if (swapmin >= swapfree)
		return verdict("pressure", 0, "nothing was swapped out: no reclaim pressure");
	if (!active)
		return verdict("pressure", 1, "TPT off: data intact, up to %ld kB swapped out",
			       swapfree - swapmin);
	return verdict("pressure", after[7] == before[7] && after[8] == before[8] &&
		       stat_of("active") == 1,
		       "data intact under reclaim, up to %ld kB swapped out; fallbacks +%ld, rebuilds +%ld, tables %ld -> %ld",
		       swapfree - swapmin, after[7] - before[7],
		       after[8] - before[8], before[4], after[4]);
}

int main(int argc, char **argv)
{
	long arg = argc > 2 ? strtol(argv[2], NULL, 0) : 0;

	if (argc < 2)
		die("usage: tpt-mm tables|reclaim|race|pressure [ARG]");
	if (!strcmp(argv[1], "tables"))
		return case_tables(arg > 0 ? arg : 512);
	if (!strcmp(argv[1], "reclaim"))
		return case_reclaim(arg > 0 ? arg : 4096);
	if (!strcmp(argv[1], "race"))
		return case_race(arg > 0 ? arg : 6);
	if (!strcmp(argv[1], "pressure"))
		return case_pressure(arg > 0 ? arg : 12);
	die("unknown case '%s'", argv[1]);
	return 2;
}
