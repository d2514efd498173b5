// SPDX-License-Identifier: GPL-2.0
/*
 * gups: HPCC RandomAccess (GUPS), single process, self-checking.
 *
 * A table of 2^n 64-bit words, Table[i] = i, is updated with
 * Table[ran & (size - 1)] ^= ran, where ran walks the standard LFSR stream
 * ran' = (ran << 1) ^ (ran < 0 ? 0x7 : 0) (the powers of x modulo
 * x^64 + x^2 + x + 1, period 1317624576693539401).  As in the reference,
 * 128 streams are interleaved, stream s starting at element s * U / 128 of
 * the sequence (U updates in all), computed here with square-and-multiply
 * in GF(2)[x].  Only the update loop is timed.  Verification replays the
 * same updates, which undoes them (XOR), and counts the entries that are
 * not back to i: the run passes when at most 1% differ (with one thread
 * there are no races, so any difference at all points at lost memory).
 *
 * The table is mmap()ed and, by default, madvise()d MADV_NOHUGEPAGE: with
 * 4 KiB pages nearly every update misses the TLB and walks the page tables,
 * which is the cost this workload exists to expose.  -p thp asks for
 * transparent huge pages instead, -p sys leaves the system's policy, and
 * -p dseg maps the table from /dev/dseg: physically contiguous memory
 * that the CPU's guest direct segment translates with no page walk
 * (Documentation/direct-segments.rst); without /dev/dseg the run fails.
 *
 * The default is the standard run, 4 x table-size updates on a 64 MiB
 * table (about 0.3 s of updates and 0.6 s in all natively on the project's
 * machine); -u scales the update count and -n the table.
 *
 * usage: gups [-n log2-words] [-u updates|Nx] [-p 4k|thp|sys|dseg]
 *   -n  log2 of the table size in 64-bit words (default 23: 64 MiB)
 *   -u  number of updates, or a multiple of the table size such as 4x
 *       (default 4x, the standard); rounded down to a multiple of 128
 *   -p  page size policy of the table (default 4k)
 *
 * Last line: RESULT: name=gups ... gups=<GUP/s> ... check=passed|failed;
 * the exit status is 1 when the check failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PROG "gups"
#include "bench-util.h"

#define POLY	0x7ULL
#define PERIOD	1317624576693539401ULL
#define NSTREAM	128
#define HUGE_2M	(2UL << 20)

static uint64_t lfsr_next(uint64_t r)
{
	return (r << 1) ^ ((int64_t)r < 0 ? POLY : 0);
}

/* a * b in GF(2)[x] modulo x^64 + x^2 + x + 1 (Horner over b's bits). */
static uint64_t gf_mul(uint64_t a, uint64_t b)
{
	uint64_t r = 0;
	int i;

	for (i = 63; i >= 0; i--) {
		r = lfsr_next(r);
		if ((b >> i) & 1)
			r ^= a;
	}
	return r;
}

/*
 * Element n of the stream that starts at 1, i.e. x^n mod P (the semantics
 * of the reference's HPCC_starts; n is taken modulo the period first).
 */
static uint64_t stream_start(uint64_t n)
{
	uint64_t result = 1, base = 2;

	n %= PERIOD;
	while (n) {
		if (n & 1)
			result = gf_mul(result, base);
		base = gf_mul(base, base);
		n >>= 1;
	}
	return result;
}

/* The jump-ahead must agree with stepping the LFSR, and x^PERIOD = 1. */
static int stream_selftest(void)
{
	uint64_t r = 1, n;

	for (n = 0; n < 1000; n++) {
		if (stream_start(n) != r)
			return -1;
		r = lfsr_next(r);
	}
	for (n = 0; n < 1000; n++)
		r = lfsr_next(r);
	if (stream_start(2000) != r || stream_start(PERIOD) != 1 ||
	    stream_start(PERIOD + 5) != stream_start(5))
		return -1;
	return 0;
}

static double clock_secs(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void update(uint64_t *t, uint64_t mask, uint64_t per_stream)
{
	uint64_t ran[NSTREAM], i;
	int s;

	for (s = 0; s < NSTREAM; s++)
		ran[s] = stream_start(per_stream * s);
	for (i = 0; i < per_stream; i++) {
		for (s = 0; s < NSTREAM; s++) {
			uint64_t r = lfsr_next(ran[s]);

			ran[s] = r;
			t[r & mask] ^= r;
		}
	}
}

/* AnonHugePages of this process in KiB, or -1 if /proc is not there. */
static long thp_kib(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: gups [-n log2-words 10..36] [-u updates|Nx] [-p 4k|thp|sys|dseg]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int logn = 23, opt, advice = MADV_NOHUGEPAGE;
	const char *pages = "4k", *ustr = "4x";
	uint64_t size, mask, nupdate, per_stream, i, errors, sum;
	double t0, c0, secs, cpu, init, gups;
	size_t len;
	uint64_t *t;
	char *p = NULL, *end;
	int ok;

	while ((opt = getopt(argc, argv, "n:u:p:h")) != -1) {
		switch (opt) {
		case 'n':
			logn = atoi(optarg);
			break;
		case 'u':
			ustr = optarg;
			break;
		case 'p':
			pages = optarg;
			if (!strcmp(pages, "4k"))
				advice = MADV_NOHUGEPAGE;
			else if (!strcmp(pages, "thp"))
				advice = MADV_HUGEPAGE;
			else if (!strcmp(pages, "sys") || !strcmp(pages, "dseg"))
				advice = -1;
			else
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc || logn < 10 || logn > 36)
		usage();
	size = 1ULL << logn;
	mask = size - 1;

	{
		double u = strtod(ustr, &end);

		if (end == ustr || u <= 0)
			usage();
		if (*end == 'x' && !end[1])
			u *= size;
		else if (*end)
			usage();
		nupdate = (uint64_t)u;
	}
	per_stream = nupdate / NSTREAM;
	nupdate = per_stream * NSTREAM;
	if (!per_stream)
		usage();

	if (stream_selftest()) {
		fprintf(stderr, "gups: LFSR jump-ahead self-test failed\n");
		printf("RESULT: name=gups check=failed\n");
		return 1;
	}

	len = size * sizeof(*t);
	if (!strcmp(pages, "dseg")) {
		t = map_dseg(len);
		if (!t) {
			printf("RESULT: name=gups check=failed\n");
			return 2;
		}
	} else {
		/* Over-allocate by 2 MiB so the table can start on a huge page. */
		p = mmap(NULL, len + HUGE_2M, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) {
			fprintf(stderr, "gups: mmap %zu: %s\n", len,
				strerror(errno));
			return 2;
		}
		t = (uint64_t *)(((uintptr_t)p + HUGE_2M - 1) &
				 ~(HUGE_2M - 1));
	}
	if (advice >= 0 && madvise(t, len, advice))
		fprintf(stderr, "gups: madvise(%s): %s (continuing)\n", pages,
			strerror(errno));

	printf("Main table size   = 2^%d = %" PRIu64 " words (%" PRIu64 " MiB, pages %s)\n",
	       logn, size, (uint64_t)(len >> 20), pages);
	printf("Number of updates = %" PRIu64 " (%.2f x table size)\n",
	       nupdate, (double)nupdate / size);
	fflush(stdout);

	t0 = clock_secs(CLOCK_MONOTONIC);
	for (i = 0; i < size; i++)
		t[i] = i;
	init = clock_secs(CLOCK_MONOTONIC) - t0;

	c0 = clock_secs(CLOCK_PROCESS_CPUTIME_ID);
	t0 = clock_secs(CLOCK_MONOTONIC);
	update(t, mask, per_stream);
	secs = clock_secs(CLOCK_MONOTONIC) - t0;
	cpu = clock_secs(CLOCK_PROCESS_CPUTIME_ID) - c0;
	gups = secs > 0 ? 1e-9 * nupdate / secs : 0;

	/* A checksum of the updated table: the same for every run of -n/-u. */
	sum = 0xcbf29ce484222325ULL;
	for (i = 0; i < size; i++)
		sum = (sum ^ t[i]) * 0x100000001b3ULL;

	printf("CPU time used  = %.6f seconds\n", cpu);
	printf("Real time used = %.6f seconds\n", secs);
	printf("%.9f Billion(10^9) Updates    per second [GUP/s]\n", gups);
	fflush(stdout);

	/* Verification: replaying the stream XORs every update out again. */
	update(t, mask, per_stream);
	errors = 0;
	for (i = 0; i < size; i++)
		errors += t[i] != i;
	ok = errors <= size / 100;
	printf("Found %" PRIu64 " errors in %" PRIu64 " locations (%s).\n",
	       errors, size, ok ? "passed" : "failed");
	printf("RESULT: name=gups log2size=%d table_mib=%" PRIu64 " updates=%" PRIu64
	       " pages=%s thp_kib=%ld init_seconds=%.6f seconds=%.6f cpu_seconds=%.6f"
	       " gups=%.9f errors=%" PRIu64 " checksum=%016" PRIx64 " check=%s\n",
	       logn, (uint64_t)(len >> 20), nupdate, pages, thp_kib(), init, secs,
	       cpu, gups, errors, sum, ok ? "passed" : "failed");
	if (strcmp(pages, "dseg"))
		munmap(p, len + HUGE_2M);
	else
		munmap(t, len);
	return ok ? 0 : 1;
}
