// SPDX-License-Identifier: GPL-2.0
/*
 * pt-storm: a deterministic page-table churn workload with a checksum, for
 * guests whose kernel mirrors every change of a process's page tables
 * into tables of its own: the dual page tables of a Translation
 * Pass-Through guest (Documentation/tpt.rst).  A mirror that misses a
 * change leaves a stale translation, and a stale translation shows up
 * here as data that is not what this process last wrote at that place.
 *
 * PROCS worker processes run at once.  Each keeps a long-lived region for
 * the whole run and, in every round:
 *
 *   - maps a small region (1-16 pages, read before it is written: it must
 *     be zero), a medium one (32-128 pages) and one or two 2 MiB pages,
 *     2 MiB-aligned with MADV_HUGEPAGE; writes a pattern that depends on
 *     the process, the round, the region and the page;
 *   - makes part of the medium and of the huge region read-only (a store
 *     there must fault), reads them, makes them writable again and
 *     rewrites them;
 *   - punches holes with munmap (a load there must fault), drops pages
 *     with MADV_DONTNEED (they must read zero, also inside a huge page)
 *     and maps a hole again with MAP_FIXED (it must read zero);
 *   - moves the small region with mremap, growing it (the old address
 *     must fault, the data must follow, the new pages read zero);
 *   - forks a child that checks everything it inherited, writes its own
 *     data over much of it (copy-on-write) and unmaps the huge region,
 *     while the parent rewrites the small region; the parent must then
 *     still see its own data everywhere;
 *   - forks and execs itself (/proc/self/exe --exec-child) for a fresh
 *     process that maps, checks, protects and unmaps a region of its own
 *     and exits with a status that carries its checksum;
 *   - unmaps the round's regions.
 *
 * 16 words of every page are written and checked (the first, the last
 * and 14 between): enough to tell any page from any other.  Each check
 * folds the words it read into the process's checksum; the checksums of
 * the children and of the workers are folded in a fixed order, so the
 * result depends only on the arguments and on the data read, never on
 * scheduling or addresses: it must equal the one printed by the same
 * binary run natively on the build machine.  Every difference is printed
 * (process, round, what, page, word, address, expected, got; the first
 * 10 of each process) and counted.
 *
 * usage: pt-storm [rounds] [procs]   (default 8 4)
 *
 * Prints "pt-storm: rounds=R procs=P checksum=<16 hex digits> errors=N"
 * and exits 0 when nothing differed, 1 when something did, 2 on a usage
 * error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE		4096UL
#define HPAGE		(2UL << 20)
#define PAGE_WORDS	(PAGE / 8)
#define HPAGE_PAGES	(HPAGE / PAGE)
#define SLOTS		16	/* words written and checked per page */
#define MAX_SHOWN	10	/* differences printed per process */
#define LONG_PAGES	64	/* the long-lived region of a worker */

#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

/* Page states besides the version of the data written there. */
#define ZERO		(-1)	/* mapped, not written since: reads 0 */
#define HOLE		(-2)	/* not mapped */

#define EXEC_MODE	"--exec-child"

static int proc_id = -1, round_no = -1;
static uint64_t errors;
static unsigned int shown;

struct region {
	const char *name;
	uint64_t *base;
	size_t pages;
	uint64_t id;	/* the pattern depends on it, not on the address */
	int *state;	/* per page: data version, ZERO or HOLE */
};

/* The finalizer of splitmix64. */
static uint64_t mix(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t rnd(uint64_t *s)
{
	*s += 0x9e3779b97f4a7c15ULL;
	return mix(*s);
}

static uint64_t fold(uint64_t h, uint64_t v)
{
	h ^= v;
	return h * FNV_PRIME;
}

/* Word @s of the SLOTS of a page: 0, 34, 68, ... 511. */
static size_t slot_word(int s)
{
	return s * (PAGE_WORDS / SLOTS) + s * (PAGE_WORDS / SLOTS - 1) / (SLOTS - 1);
}

/* What a page holds depends on the process, the region, its version. */
static uint64_t page_tag(const struct region *rg, size_t page)
{
	return mix(((uint64_t)proc_id << 48) ^ (rg->id << 16) ^
		   (uint64_t)rg->state[page]);
}

/* Word @s of the page: never 0 but by a 2^-64 chance. */
static uint64_t pattern(uint64_t tag, size_t page, int s)
{
	return mix(tag ^ (page * SLOTS + s));
}

static void say(const char *fmt, ...)
{
	va_list ap;

	if (proc_id < 0)
		fprintf(stderr, "pt-storm: ");
	else if (round_no < 0)
		fprintf(stderr, "pt-storm: proc %d: ", proc_id);
	else
		fprintf(stderr, "pt-storm: proc %d round %d: ", proc_id,
			round_no);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A check that failed: count it, print the first MAX_SHOWN. */
#define report(...)							\
do {									\
	errors++;							\
	if (shown++ < MAX_SHOWN)					\
		say(__VA_ARGS__);					\
	else if (shown == MAX_SHOWN + 1)				\
		say("more differences, not shown");			\
} while (0)

/* A setup failure (no memory, no fork): the process gives up. */
#define die(...)							\
do {									\
	say(__VA_ARGS__);						\
	_exit(2);							\
} while (0)

/* Probing an address that must (or must not) fault. */
static sigjmp_buf probe_env;
static volatile sig_atomic_t probing;

static void on_fault(int sig)
{
	if (probing)
		siglongjmp(probe_env, 1);
	/* A real fault: die of it when the access restarts. */
	signal(sig, SIG_DFL);
}

static void catch_faults(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fault;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/* 1 when a load (@write 0) or a load and store (@write 1) of @p faults. */
static int faults(volatile uint64_t *p, int write)
{
	if (sigsetjmp(probe_env, 1)) {
		probing = 0;
		return 1;
	}
	probing = 1;
	if (write)
		*p = *p;
	else
		(void)*p;
	probing = 0;
	return 0;
}

static uint64_t *page_addr(const struct region *rg, size_t page)
{
	return rg->base + page * PAGE_WORDS;
}

static void *xmmap(void *addr, size_t len, int prot, int flags)
{
	void *p = mmap(addr, len, prot, flags | MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED)
		die("mmap of %zu bytes: %s", len, strerror(errno));
	return p;
}

static void xmprotect(struct region *rg, size_t first, size_t n, int prot)
{
	if (mprotect(page_addr(rg, first), n * PAGE, prot))
		die("mprotect of %s pages %zu-%zu: %s", rg->name, first,
		    first + n - 1, strerror(errno));
}

/*
 * Map @pages fresh pages; with @huge, 2 MiB-aligned (@pages a multiple of
 * 512) and madvised MADV_HUGEPAGE, which fails harmlessly without THP.
 */
static void region_map(struct region *rg, const char *name, uint64_t id,
		       size_t pages, int huge)
{
	size_t len = pages * PAGE, i;
	char *p, *a;

	rg->name = name;
	rg->id = id;
	rg->pages = pages;
	rg->state = malloc(pages * sizeof(*rg->state));
	if (!rg->state)
		die("out of memory");
	for (i = 0; i < pages; i++)
		rg->state[i] = ZERO;
	if (!huge) {
		rg->base = xmmap(NULL, len, PROT_READ | PROT_WRITE, 0);
		return;
	}
	p = xmmap(NULL, len + HPAGE, PROT_READ | PROT_WRITE, 0);
	a = (char *)(((uintptr_t)p + HPAGE - 1) & ~(HPAGE - 1));
	if (a > p)
		munmap(p, a - p);
	munmap(a + len, p + HPAGE - a);
	madvise(a, len, MADV_HUGEPAGE);
	rg->base = (uint64_t *)a;
}

/*
 * Say on stderr, once per process, that the kernel backs this process's
 * anonymous memory with transparent huge pages while the huge region is
 * filled, so that a caller can tell that huge pages were part of the
 * churn.  Not part of the checksum: THP depends on the kernel and on
 * free memory.
 */
static void note_thp(void)
{
	static int noted;
	char line[128];
	long kb = 0;
	FILE *f;

	if (noted)
		return;
	f = fopen("/proc/self/smaps_rollup", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	if (kb > 0) {
		fprintf(stderr, "pt-storm-thp: AnonHugePages %ld kB in pid %d\n",
			kb, (int)getpid());
		noted = 1;
	}
}

static void region_unmap(struct region *rg)
{
	munmap(rg->base, rg->pages * PAGE);
	free(rg->state);
	rg->state = NULL;
}

/* Write version @ver to every @step-th page of [first, first + n), holes left out. */
static void fill_step(struct region *rg, size_t first, size_t n, size_t step,
		      int ver)
{
	size_t pg;
	int s;

	for (pg = first; pg < first + n; pg += step) {
		uint64_t *w = page_addr(rg, pg), tag;

		if (rg->state[pg] == HOLE)
			continue;
		rg->state[pg] = ver;
		tag = page_tag(rg, pg);
		for (s = 0; s < SLOTS; s++)
			w[slot_word(s)] = pattern(tag, pg, s);
	}
}

static void fill(struct region *rg, size_t first, size_t n, int ver)
{
	fill_step(rg, first, n, 1, ver);
}

/* Check every mapped page of @rg; fold what was read into @h. */
static uint64_t verify(const struct region *rg, const char *when, uint64_t h)
{
	size_t pg;
	int s;

	for (pg = 0; pg < rg->pages; pg++) {
		const volatile uint64_t *w = page_addr(rg, pg);
		uint64_t tag;

		if (rg->state[pg] == HOLE)
			continue;
		tag = page_tag(rg, pg);
		for (s = 0; s < SLOTS; s++) {
			uint64_t got = w[slot_word(s)];
			uint64_t want = rg->state[pg] == ZERO ? 0 :
					pattern(tag, pg, s);

			if (got != want)
				report("%s: %s page %zu word %zu at %p: expected %016" PRIx64 ", got %016" PRIx64,
				       when, rg->name, pg, slot_word(s),
				       (void *)&w[slot_word(s)], want, got);
			h = fold(h, got);
		}
	}
	return h;
}

/* Unmap [first, first + n) of @rg: a load there must fault. */
static void punch(struct region *rg, size_t first, size_t n)
{
	size_t pg;

	if (munmap(page_addr(rg, first), n * PAGE))
		die("munmap of %s pages %zu-%zu: %s", rg->name, first,
		    first + n - 1, strerror(errno));
	for (pg = first; pg < first + n; pg++)
		rg->state[pg] = HOLE;
	if (!faults(page_addr(rg, first), 0))
		report("a load from the unmapped %s page %zu at %p did not fault",
		       rg->name, first, (void *)page_addr(rg, first));
}

/* Drop [first, first + n) of @rg with MADV_DONTNEED: it must read zero. */
static void drop(struct region *rg, size_t first, size_t n)
{
	size_t pg;

	if (madvise(page_addr(rg, first), n * PAGE, MADV_DONTNEED))
		die("MADV_DONTNEED of %s pages %zu-%zu: %s", rg->name, first,
		    first + n - 1, strerror(errno));
	for (pg = first; pg < first + n; pg++)
		rg->state[pg] = ZERO;
}

/* Make [first, first + n) of @rg read-only, check it, make it writable. */
static uint64_t protect(struct region *rg, size_t first, size_t n,
			const char *when, int ver, uint64_t h)
{
	xmprotect(rg, first, n, PROT_READ);
	if (!faults(page_addr(rg, first + n - 1), 1))
		report("a store to the read-only %s page %zu at %p did not fault",
		       rg->name, first + n - 1,
		       (void *)page_addr(rg, first + n - 1));
	if (faults(page_addr(rg, first), 0))
		report("a load from the read-only %s page %zu at %p faulted",
		       rg->name, first, (void *)page_addr(rg, first));
	h = verify(rg, when, h);
	xmprotect(rg, first, n, PROT_READ | PROT_WRITE);
	fill(rg, first, n, ver);
	return h;
}

struct result {
	uint64_t hash;
	uint64_t errors;
};

static void send_result(int fd, uint64_t h)
{
	struct result res = { h, errors };

	if (write(fd, &res, sizeof(res)) != sizeof(res))
		_exit(2);
}

static void describe(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(buf, len, "status 0x%x", st);
}

/* Wait for the child @pid that sends its result on @fd; fold it into @h. */
static uint64_t collect(pid_t pid, int fd, const char *what, uint64_t h)
{
	struct result res;
	char how[64];
	ssize_t n = read(fd, &res, sizeof(res));
	int st;

	close(fd);
	if (waitpid(pid, &st, 0) != pid)
		die("waitpid: %s", strerror(errno));
	if (n != sizeof(res)) {
		describe(st, how, sizeof(how));
		report("the %s sent no result (%s)", what, how);
		return h;
	}
	errors += res.errors;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != (res.errors ? 1 : 0)) {
		describe(st, how, sizeof(how));
		report("the %s ended with %s", what, how);
	}
	return fold(h, res.hash);
}

/*
 * The exec'd child (pt-storm --exec-child PROC ROUND): a fresh address
 * space.  Exits with 64 + the low 5 bits of its checksum (64 to 95, apart
 * from 126 and 127 of a failed exec) when everything held, 1 when
 * something differed.
 */
static int exec_child(int p, int r)
{
	uint64_t s = mix(((uint64_t)p << 32 | r) ^ 0xe0ec), h = FNV_OFFSET;
	size_t n = 8 + rnd(&s) % 57;
	struct region x;

	proc_id = p;
	round_no = r;
	catch_faults();
	region_map(&x, "exec", (uint64_t)r * 8 + 4, n, 0);
	h = verify(&x, "exec: fresh", h);
	fill(&x, 0, n, 1);
	h = protect(&x, 0, n, "exec: read-only", 2, h);
	punch(&x, n / 2, n - n / 2);
	h = verify(&x, "exec: half unmapped", h);
	region_unmap(&x);
	return errors ? 1 : 64 | (h & 31);
}

/* The copy-on-write child of a round: check, overwrite, unmap. */
static void cow_child(struct region *lr, struct region *a, struct region *b,
		      struct region *hr, int fd)
{
	uint64_t h = FNV_OFFSET;

	h = verify(lr, "child: inherited", h);
	h = verify(a, "child: inherited", h);
	h = verify(b, "child: inherited", h);
	h = verify(hr, "child: inherited", h);
	fill(b, 0, b->pages, 4);
	fill_step(hr, 0, hr->pages, 2, 4);
	fill_step(a, 1, a->pages - 1, 2, 4);
	fill_step(lr, 3, lr->pages - 3, 5, 4);
	h = verify(lr, "child: written", h);
	h = verify(a, "child: written", h);
	h = verify(b, "child: written", h);
	h = verify(hr, "child: written", h);
	region_unmap(hr);
	send_result(fd, h);
	_exit(errors ? 1 : 0);
}

static uint64_t round_work(int r, struct region *lr, uint64_t h)
{
	uint64_t s = mix((uint64_t)proc_id << 32 | r);
	size_t na = 1 + rnd(&s) % 16, nb = 32 + rnd(&s) % 97;
	size_t nh = (1 + (proc_id + r) % 2) * HPAGE_PAGES;
	size_t b0, bn, h0, hn, c0, cn, d0, dn, e0, en, hp, g, pg;
	struct region a, b, hr;
	uint64_t *old, *dest;
	char arg_p[16], arg_r[16];
	int fd[2], st, *state;
	pid_t pid;

	/* Map and fill; the small region is read first: it must be zero. */
	region_map(&a, "small", (uint64_t)r * 8 + 1, na, 0);
	region_map(&b, "medium", (uint64_t)r * 8 + 2, nb, 0);
	region_map(&hr, "huge", (uint64_t)r * 8 + 3, nh, 1);
	h = verify(&a, "fresh", h);
	fill(&a, 0, na, 1);
	fill(&b, 0, nb, 1);
	fill(&hr, 0, nh, 1);
	note_thp();
	h = verify(lr, "long-lived", h);
	fill_step(lr, r % 8, lr->pages - r % 8, 8, r + 2);
	h = verify(lr, "long-lived rewritten", h);
	h = verify(&a, "filled", h);
	h = verify(&b, "filled", h);
	h = verify(&hr, "filled", h);

	/* Read-only and back, inside a huge page too. */
	b0 = rnd(&s) % (nb / 2);
	bn = 1 + rnd(&s) % (nb / 4);
	h = protect(&b, b0, bn, "read-only", 2, h);
	h0 = rnd(&s) % (HPAGE_PAGES - 64);
	hn = 1 + rnd(&s) % 64;
	h = protect(&hr, h0, hn, "read-only", 2, h);

	/* Holes, dropped pages, a hole mapped again. */
	c0 = nb / 2 + rnd(&s) % (nb / 4);
	cn = 1 + rnd(&s) % 4;
	punch(&b, c0, cn);
	hp = rnd(&s) % (HPAGE_PAGES / 2);
	punch(&hr, hp, 1);
	d0 = rnd(&s) % (nb / 2 - 8);
	dn = 1 + rnd(&s) % 8;
	drop(&b, d0, dn);
	e0 = HPAGE_PAGES / 2 + rnd(&s) % (HPAGE_PAGES / 4);
	en = 1 + rnd(&s) % 64;
	drop(&hr, e0, en);
	h = verify(&b, "holes", h);
	h = verify(&hr, "holes", h);
	xmmap(page_addr(&b, c0), cn * PAGE, PROT_READ | PROT_WRITE, MAP_FIXED);
	for (pg = c0; pg < c0 + cn; pg++)
		b.state[pg] = ZERO;
	h = verify(&b, "hole mapped again", h);
	fill(&b, c0, cn, 3);
	fill(&b, d0, dn, 3);
	fill(&hr, e0, en, 3);

	/* Move the small region and grow it. */
	g = 1 + rnd(&s) % 8;
	dest = xmmap(NULL, (na + g) * PAGE, PROT_NONE, 0);
	old = a.base;
	if (mremap(old, na * PAGE, (na + g) * PAGE,
		   MREMAP_MAYMOVE | MREMAP_FIXED, dest) != dest)
		die("mremap of %zu pages to %zu: %s", na, na + g,
		    strerror(errno));
	a.base = dest;
	if (!faults(old, 0))
		report("a load from the small region's old address %p did not fault",
		       (void *)old);
	state = realloc(a.state, (na + g) * sizeof(*state));
	if (!state)
		die("out of memory");
	a.state = state;
	for (pg = na; pg < na + g; pg++)
		a.state[pg] = ZERO;
	a.pages = na + g;
	h = verify(&a, "moved", h);
	fill(&a, na, g, 1);

	/*
	 * Copy-on-write: the child overwrites much of what it inherited
	 * while the parent rewrites the small region; each keeps its own.
	 */
	if (pipe(fd))
		die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(fd[0]);
		errors = 0;
		shown = 0;
		cow_child(lr, &a, &b, &hr, fd[1]);
	}
	close(fd[1]);
	fill(&a, 0, a.pages, 5);
	h = collect(pid, fd[0], "copy-on-write child", h);
	h = verify(lr, "after the child", h);
	h = verify(&a, "after the child", h);
	h = verify(&b, "after the child", h);
	h = verify(&hr, "after the child", h);

	/* A fresh process: fork and exec this program. */
	snprintf(arg_p, sizeof(arg_p), "%d", proc_id);
	snprintf(arg_r, sizeof(arg_r), "%d", r);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		execl("/proc/self/exe", "pt-storm", EXEC_MODE, arg_p, arg_r,
		      (char *)NULL);
		say("exec /proc/self/exe: %s", strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		die("waitpid: %s", strerror(errno));
	if (WIFEXITED(st) && (WEXITSTATUS(st) & ~31) == 64) {
		h = fold(h, WEXITSTATUS(st));
	} else {
		char how[64];

		describe(st, how, sizeof(how));
		report("the exec'd child ended with %s", how);
	}

	region_unmap(&a);
	region_unmap(&b);
	region_unmap(&hr);
	return h;
}

static void worker(int p, int rounds, int fd)
{
	uint64_t h = FNV_OFFSET;
	struct region lr;
	int r;

	proc_id = p;
	catch_faults();
	region_map(&lr, "long-lived", 0, LONG_PAGES, 0);
	fill(&lr, 0, LONG_PAGES, 1);
	for (r = 0; r < rounds; r++) {
		round_no = r;
		h = round_work(r, &lr, h);
	}
	round_no = -1;
	h = verify(&lr, "end", h);
	send_result(fd, h);
	_exit(errors ? 1 : 0);
}

int main(int argc, char **argv)
{
	int rounds, procs, p, fd[64];
	uint64_t total = FNV_OFFSET;
	pid_t pid[64];
	char what[32];

	if (argc == 4 && !strcmp(argv[1], EXEC_MODE))
		return exec_child(atoi(argv[2]), atoi(argv[3]));
	rounds = argc > 1 ? atoi(argv[1]) : 8;
	procs = argc > 2 ? atoi(argv[2]) : 4;
	if (argc > 3 || rounds < 1 || rounds > 10000 || procs < 1 ||
	    procs > 64) {
		fprintf(stderr, "usage: pt-storm [rounds 1..10000] [procs 1..64]\n");
		return 2;
	}
	fflush(stdout);
	for (p = 0; p < procs; p++) {
		int pfd[2];

		if (pipe(pfd)) {
			perror("pt-storm: pipe");
			return 2;
		}
		pid[p] = fork();
		if (pid[p] < 0) {
			perror("pt-storm: fork");
			return 2;
		}
		if (pid[p] == 0) {
			close(pfd[0]);
			worker(p, rounds, pfd[1]);
		}
		close(pfd[1]);
		fd[p] = pfd[0];
	}
	/* In process order, whatever order they finish in. */
	for (p = 0; p < procs; p++) {
		snprintf(what, sizeof(what), "worker %d", p);
		total = collect(pid[p], fd[p], what, total);
	}
	printf("pt-storm: rounds=%d procs=%d checksum=%016" PRIx64 " errors=%" PRIu64 "\n",
	       rounds, procs, total, errors);
	return errors ? 1 : 0;
}
