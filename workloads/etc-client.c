// SPDX-License-Identifier: GPL-2.0
/*
 * etc-client: a memcached load generator for the Facebook ETC workload
 * (Atikoglu et al., SIGMETRICS 2012, with the parameters mutilate uses),
 * on libmemcached, one connection, self-checking.
 *
 * Keys are the numbers 0..K-1, written in decimal and zero-padded to a
 * length drawn once per key, through a hash of its number, from
 * GEV(30.7984, 8.20449, 0.078688) (rounded, at least the number's digits,
 * at most 250).  Value i version v has a length drawn, through a hash of
 * (i, v), from the ETC table for 0..14 bytes and otherwise from Generalized
 * Pareto(15, 214.476, 0.348238) (at most 512 KiB), and content generated
 * from the same hash, so the client can regenerate any value it wrote.
 *
 * Every key is first SET to version 0 (the preload, untimed).  Then each
 * request is a SET (probability 0.033, i.e. GET:SET about 30:1) or a GET
 * of a uniformly chosen key.  Without -q the client runs closed-loop, one
 * request after the other; with -q QPS it runs open-loop: request k is due
 * at the sum of k inter-arrival gaps drawn from Generalized Pareto(0,
 * 16.0292 us, 0.154971) rescaled so that their mean is 1/QPS, and its
 * latency counts from the time it was due, so a server that falls behind
 * shows the queueing delay instead of hiding it (one connection can have
 * only one request in flight).
 *
 * Verification: every GET must return exactly the last value the client
 * SET for that key (misses count separately and must be 0, which needs a
 * memcached with room for the whole key space: allow 400 bytes a key;
 * -m 64 holds 150,000 keys), every request must succeed, and a final
 * sweep (untimed; -S skips it) GETs every key and checks it the same way.
 *
 * usage: etc-client [-s host] [-p port] [-k keys] [-n requests | -d secs]
 *                   [-q qps] [-u update-ratio] [-r seed] [-t timeout-ms]
 *                   [-B] [-S]
 *   defaults: 127.0.0.1:11211, 10000 keys, 40000 requests, closed loop,
 *   update ratio 0.033, seed 1, timeout 60000 ms, ASCII protocol (-B:
 *   binary)
 *
 * Build: gcc -O2 -Wall -o etc-client etc-client.c -lmemcached -lm
 * (Debian ships no static libmemcached, so the binary is dynamic.)
 *
 * Last line: RESULT: name=etc-client ... check=passed|failed; the exit
 * status is 1 when the check failed, 2 on a usage or connection error.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <libmemcached/memcached.h>

#define PROG "etc-client"
#include "bench-util.h"

#define MAX_KEY		250
#define MAX_VALUE	(512 * 1024)

/* ETC key size: GEV(location, scale, shape). */
#define KEY_MU		30.7984
#define KEY_SIGMA	8.20449
#define KEY_XI		0.078688
/* ETC value size above 14 bytes: Generalized Pareto(location, scale, shape). */
#define VAL_MU		15.0
#define VAL_SIGMA	214.476
#define VAL_XI		0.348238
/* ETC inter-arrival: Generalized Pareto(0, scale in seconds, shape). */
#define IA_SIGMA	16.0292e-6
#define IA_XI		0.154971

/* P(value size = 0..14 bytes); the rest of the mass is the Pareto part. */
static const double val_small[15] = {
	0.00536, 0.00047, 0.17820, 0.09239, 0.00018, 0.02740, 0.00065, 0.00606,
	0.00023, 0.00837, 0.00837, 0.08989, 0.00092, 0.00326, 0.01980,
};

struct sample {
	double us;
	int set;
};

static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	rng_state += 0x9e3779b97f4a7c15ULL;
	return mix64(rng_state);
}

/* Uniform in the open interval (0, 1). */
static double unit(uint64_t x)
{
	return ((x >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Generalized Pareto by inversion. */
static double gpareto(double mu, double sigma, double xi, double u)
{
	return mu + sigma * (pow(1 - u, -xi) - 1) / xi;
}

/* Key i: its decimal number, zero-padded to a GEV length fixed per key. */
static size_t make_key(char *buf, uint64_t i)
{
	double u = unit(mix64(i ^ 0x6b79000000000000ULL));
	double x = KEY_MU + KEY_SIGMA * (pow(-log(u), -KEY_XI) - 1) / KEY_XI;
	int len = (int)lround(x), digits = snprintf(NULL, 0, "%" PRIu64, i);

	if (len < digits)
		len = digits;
	if (len > MAX_KEY)
		len = MAX_KEY;
	return snprintf(buf, MAX_KEY + 1, "%0*" PRIu64, len, i);
}

/* Value of key i, version v: ETC length and content from hash(i, v). */
static size_t make_value(char *buf, uint64_t i, uint64_t v)
{
	uint64_t h = mix64(mix64(i) ^ v), s = h;
	double u = unit(h), p = 0;
	size_t len, k;
	int b;

	for (b = 0; b < 15; b++) {
		p += val_small[b];
		if (u < p)
			break;
	}
	if (b < 15) {
		len = b;
	} else {
		double x = gpareto(VAL_MU, VAL_SIGMA, VAL_XI,
				   (u - p) / (1 - p));

		len = x < MAX_VALUE ? (size_t)x : MAX_VALUE;
	}
	for (k = 0; k < len; k++) {
		if (k % 8 == 0)
			s = mix64(s);
		buf[k] = 'a' + (s >> (k % 8 * 8)) % 26;
	}
	return len;
}

static int cmp_sample(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorted latencies of one request type; p-th percentile by nearest rank. */
static double pct(const double *x, size_t n, double p)
{
	size_t r = (size_t)ceil(p / 100 * n);

	return n ? x[r ? r - 1 : 0] : 0;
}

struct stats {
	size_t n;
	double avg, std, min, p50, p90, p95, p99, p999, max;
};

static void summarize(struct stats *st, const struct sample *s, size_t n,
		      int which)
{
	double *x = xmalloc(n * sizeof(*x)), sum = 0, sq = 0;
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (which < 0 || s[i].set == which)
			x[k++] = s[i].us;
	qsort(x, k, sizeof(*x), cmp_sample);
	for (i = 0; i < k; i++) {
		sum += x[i];
		sq += x[i] * x[i];
	}
	st->n = k;
	st->avg = k ? sum / k : 0;
	st->std = k ? sqrt(fmax(0, sq / k - st->avg * st->avg)) : 0;
	st->min = k ? x[0] : 0;
	st->max = k ? x[k - 1] : 0;
	st->p50 = pct(x, k, 50);
	st->p90 = pct(x, k, 90);
	st->p95 = pct(x, k, 95);
	st->p99 = pct(x, k, 99);
	st->p999 = pct(x, k, 99.9);
	free(x);
}

static void print_stats(const char *name, const struct stats *st)
{
	printf("%-6s %8zu %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f\n",
	       name, st->n, st->avg, st->std, st->min, st->p50, st->p90,
	       st->p95, st->p99, st->p999, st->max);
}

/* Wait until t (CLOCK_MONOTONIC seconds): sleep the bulk, spin the rest. */
static void wait_until(double t)
{
	double left = t - now();

	if (left > 200e-6) {
		struct timespec ts;
		double w = t - 100e-6;

		ts.tv_sec = (time_t)w;
		ts.tv_nsec = (long)((w - ts.tv_sec) * 1e9);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	while (now() < t)
		;
}

/*
 * GET key i and compare with version ver.  Returns 0 if right, 1 on a
 * miss, 2 on a wrong value, 3 on an error.
 */
static int get_check(memcached_st *mc, const char *key, size_t klen,
		     uint64_t i, uint64_t ver, char *expect, double *t_end)
{
	memcached_return_t rc;
	size_t vlen = 0, elen;
	uint32_t flags;
	char *val;
	int ret;

	val = memcached_get(mc, key, klen, &vlen, &flags, &rc);
	*t_end = now();
	if (rc == MEMCACHED_NOTFOUND) {
		ret = 1;
	} else if (rc != MEMCACHED_SUCCESS) {
		fprintf(stderr, "etc-client: get %s: %s\n", key,
			memcached_strerror(mc, rc));
		ret = 3;
	} else {
		elen = make_value(expect, i, ver);
		ret = vlen != elen || (elen && (!val || memcmp(val, expect, elen)));
		ret = ret ? 2 : 0;
	}
	free(val);
	return ret;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: etc-client [-s host] [-p port] [-k keys] [-n requests | -d secs]\n"
		"                  [-q qps] [-u update-ratio] [-r seed] [-t timeout-ms]\n"
		"                  [-B] [-S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1";
	int port = 11211, binary = 0, sweep = 1, opt, ok;
	uint64_t nkeys = 10000, nreq = 40000, seed = 1, timeout_ms = 60000;
	uint64_t i, k, *ver, sum, misses = 0, bad = 0, errors = 0, gets = 0;
	uint64_t sets = 0, sweep_bad = 0, ksum = 0, vsum = 0, late = 0;
	double duration = 0, qps = 0, update = 0.033, t0, t_begin, t_end;
	double t_due, preload, secs, ia_scale = IA_SIGMA;
	size_t cap, nsamp = 0, klen, vlen;
	struct stats all, rd, wr;
	struct sample *samp;
	char key[MAX_KEY + 1], *val, *expect;
	memcached_return_t rc;
	memcached_st *mc;

	while ((opt = getopt(argc, argv, "s:p:k:n:d:q:u:r:t:BSh")) != -1) {
		switch (opt) {
		case 's':
			host = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'k':
			nkeys = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			nreq = strtoull(optarg, NULL, 0);
			break;
		case 'd':
			duration = strtod(optarg, NULL);
			break;
		case 'q':
			qps = strtod(optarg, NULL);
			break;
		case 'u':
			update = strtod(optarg, NULL);
			break;
		case 'r':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 't':
			timeout_ms = strtoull(optarg, NULL, 0);
			break;
		case 'B':
			binary = 1;
			break;
		case 'S':
			sweep = 0;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !nkeys || nkeys > 100000000 || port <= 0 ||
	    port > 65535 || (!nreq && duration <= 0) || duration < 0 ||
	    qps < 0 || update < 0 || update > 1 || !timeout_ms)
		usage();
	/* Rescale the ETC gaps (mean IA_SIGMA / (1 - IA_XI)) to mean 1 / qps. */
	if (qps > 0)
		ia_scale = IA_SIGMA * (1 / qps) / (IA_SIGMA / (1 - IA_XI));

	/* Wake up from the open-loop sleeps as close to on time as possible. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

	mc = memcached_create(NULL);
	if (!mc) {
		fprintf(stderr, "etc-client: memcached_create failed\n");
		return 2;
	}
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, binary);
	/* Generous timeouts: under nested emulation a reply can take long. */
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, timeout_ms);
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, timeout_ms);
	rc = memcached_server_add(mc, host, port);
	if (rc != MEMCACHED_SUCCESS) {
		fprintf(stderr, "etc-client: server %s:%d: %s\n", host, port,
			memcached_strerror(mc, rc));
		return 2;
	}

	ver = xmalloc(nkeys * sizeof(*ver));
	val = xmalloc(MAX_VALUE);
	expect = xmalloc(MAX_VALUE);

	printf("etc-client: server %s:%d (%s protocol), libmemcached %s\n",
	       host, port, binary ? "binary" : "ascii", memcached_lib_version());
	fflush(stdout);

	/* Preload: every key at version 0. */
	t0 = now();
	for (i = 0; i < nkeys; i++) {
		klen = make_key(key, i);
		vlen = make_value(val, i, 0);
		ver[i] = 0;
		ksum += klen;
		vsum += vlen;
		rc = memcached_set(mc, key, klen, val, vlen, 0, 0);
		if (rc != MEMCACHED_SUCCESS) {
			fprintf(stderr, "etc-client: preload set %s: %s\n", key,
				memcached_strerror(mc, rc));
			printf("RESULT: name=etc-client keys=%" PRIu64
			       " error=preload check=failed\n", nkeys);
			return 2;
		}
	}
	preload = now() - t0;
	printf("Preload: %" PRIu64 " keys in %.3f s (key size avg %.1f, value size avg %.1f bytes)\n",
	       nkeys, preload, (double)ksum / nkeys, (double)vsum / nkeys);
	if (qps > 0)
		printf("Mode: open loop, target %.1f QPS (ETC inter-arrival)\n", qps);
	else
		printf("Mode: closed loop\n");
	fflush(stdout);

	cap = duration > 0 ? 65536 : nreq;
	samp = xmalloc(cap * sizeof(*samp));
	rng_state = seed;
	sum = 0xcbf29ce484222325ULL;
	t_begin = now();
	t_due = t_begin;
	t_end = t_begin;
	for (k = 0; duration > 0 ? t_end - t_begin < duration : k < nreq; k++) {
		int is_set = unit(rng_next()) < update;
		uint64_t idx = (uint64_t)(((unsigned __int128)rng_next() * nkeys) >> 64);
		double gap = gpareto(0, ia_scale, IA_XI, unit(rng_next()));
		double start = 0;

		klen = make_key(key, idx);
		sum = (sum ^ (idx << 1 | is_set)) * 0x100000001b3ULL;
		if (is_set)
			vlen = make_value(val, idx, ver[idx] + 1);
		if (qps > 0) {
			/*
			 * Behind schedule (the last reply came after this
			 * request was due): the wait counts.  Otherwise count
			 * from the actual send, so that a late wake-up of the
			 * client is not charged to the server.
			 */
			t_due += gap;
			if (t_end > t_due) {
				start = t_due;
				late++;
			} else {
				wait_until(t_due);
			}
		}
		if (!start)
			start = now();
		if (is_set) {
			rc = memcached_set(mc, key, klen, val, vlen, 0, 0);
			t_end = now();
			ver[idx]++;
			sets++;
			if (rc != MEMCACHED_SUCCESS) {
				fprintf(stderr, "etc-client: set %s: %s\n", key,
					memcached_strerror(mc, rc));
				errors++;
			}
		} else {
			int r;

			r = get_check(mc, key, klen, idx, ver[idx], expect, &t_end);
			gets++;
			misses += r == 1;
			bad += r == 2;
			errors += r == 3;
		}
		if (nsamp == cap) {
			cap *= 2;
			samp = realloc(samp, cap * sizeof(*samp));
			if (!samp) {
				fprintf(stderr, "etc-client: out of memory\n");
				return 2;
			}
		}
		samp[nsamp].us = (t_end - start) * 1e6;
		samp[nsamp].set = is_set;
		nsamp++;
	}
	secs = t_end - t_begin;

	/* Untimed sweep: every key must hold the last value written. */
	if (sweep) {
		for (i = 0; i < nkeys; i++) {
			double dummy;
			int r;

			klen = make_key(key, i);
			r = get_check(mc, key, klen, i, ver[i], expect, &dummy);
			sweep_bad += r != 0;
		}
	}
	for (i = 0; i < nkeys; i++)
		sum = (sum ^ ver[i]) * 0x100000001b3ULL;

	summarize(&rd, samp, nsamp, 0);
	summarize(&wr, samp, nsamp, 1);
	summarize(&all, samp, nsamp, -1);
	printf("#type     count      avg      std      min     50th     90th     95th     99th   99.9th      max (us)\n");
	print_stats("read", &rd);
	print_stats("update", &wr);
	print_stats("all", &all);
	printf("Total QPS = %.1f (%zu / %.3fs)\n", secs > 0 ? nsamp / secs : 0,
	       nsamp, secs);
	printf("Misses = %" PRIu64 " (%.1f%%)\n", misses,
	       gets ? 100.0 * misses / gets : 0);
	if (qps > 0)
		printf("Behind schedule = %" PRIu64 " (%.1f%%)\n", late,
		       nsamp ? 100.0 * late / nsamp : 0);
	ok = !misses && !bad && !errors && !sweep_bad;
	printf("Verification: %" PRIu64 " gets checked, %" PRIu64 " wrong values, %" PRIu64
	       " errors, final sweep %s (%" PRIu64 " bad keys) (%s)\n",
	       gets, bad, errors, sweep ? "done" : "skipped", sweep_bad,
	       ok ? "passed" : "failed");
	printf("RESULT: name=etc-client keys=%" PRIu64 " requests=%zu gets=%" PRIu64
	       " sets=%" PRIu64 " target_qps=%.1f qps=%.1f seconds=%.6f"
	       " avg_us=%.1f p50_us=%.1f p90_us=%.1f p95_us=%.1f p99_us=%.1f"
	       " p999_us=%.1f misses=%" PRIu64 " wrong=%" PRIu64 " errors=%" PRIu64
	       " sweep_bad=%" PRIu64 " late=%" PRIu64 " checksum=%016" PRIx64
	       " check=%s\n",
	       nkeys, nsamp, gets, sets, qps, secs > 0 ? nsamp / secs : 0, secs,
	       all.avg, all.p50, all.p90, all.p95, all.p99, all.p999, misses,
	       bad, errors, sweep_bad, late, sum, ok ? "passed" : "failed");
	memcached_free(mc);
	free(samp);
	free(ver);
	free(val);
	free(expect);
	return ok ? 0 : 1;
}
