/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the benchmark workloads (Documentation/workloads.rst):
 * a monotonic clock in seconds, a malloc that dies with the program's
 * name when memory runs out, and memory from /dev/dseg, the guest direct
 * segment of Documentation/direct-segments.rst, optionally as the arena
 * that every xmalloc() is carved from.  Each workload defines PROG before
 * including this file.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef PROG
#error "define PROG, the program's name for messages, first"
#endif

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/*
 * @len bytes from /dev/dseg: physically contiguous memory that the guest
 * kernel maps behind the process's guest direct segment.  NULL, with a
 * message, when there is none (no /dev/dseg, or no contiguous memory).
 */
static inline void *map_dseg(size_t len)
{
	int fd = open("/dev/dseg", O_RDWR);
	void *p;

	if (fd < 0) {
		fprintf(stderr, PROG ": /dev/dseg: %s (no guest direct segment)\n",
			strerror(errno));
		return NULL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, PROG ": mmap /dev/dseg %zu: %s\n", len,
			strerror(errno));
		return NULL;
	}
	return p;
}

/*
 * The arena: once set_arena() has given one, xmalloc() carves every block
 * from it (64-byte aligned) and xfree() of its blocks does nothing, so that
 * all of a workload's data lies in one region.
 */
static char *arena_base __attribute__((unused));
static size_t arena_len __attribute__((unused));
static size_t arena_used __attribute__((unused));

static inline void set_arena(void *base, size_t len)
{
	arena_base = base;
	arena_len = len;
	arena_used = 0;
}

static inline void *xmalloc(size_t len)
{
	void *p;

	if (arena_base) {
		size_t need = (len + 63) & ~(size_t)63;

		if (need > arena_len - arena_used) {
			fprintf(stderr, PROG ": arena of %zu bytes exhausted "
				"(%zu used, %zu more wanted)\n", arena_len,
				arena_used, len);
			exit(2);
		}
		p = arena_base + arena_used;
		arena_used += need;
		return p;
	}
	p = malloc(len ? len : 1);
	if (!p) {
		fprintf(stderr, PROG ": out of memory (%zu bytes)\n", len);
		exit(2);
	}
	return p;
}

static inline void xfree(void *p)
{
	if (arena_base && (char *)p >= arena_base &&
	    (char *)p < arena_base + arena_len)
		return;
	free(p);
}

#endif /* BENCH_UTIL_H */
