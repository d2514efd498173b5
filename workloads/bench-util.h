/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the benchmark workloads (Documentation/workloads.rst):
 * a monotonic clock in seconds and a malloc that dies with the program's
 * name when memory runs out.  Each workload defines PROG before including
 * this file.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifndef PROG
#error "define PROG, the program's name for messages, first"
#endif

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline void *xmalloc(size_t len)
{
	void *p = malloc(len ? len : 1);

	if (!p) {
		fprintf(stderr, PROG ": out of memory (%zu bytes)\n", len);
		exit(2);
	}
	return p;
}

#endif /* BENCH_UTIL_H */
