// SPDX-License-Identifier: GPL-2.0
/*
 * memcheck: a small, deterministic memory and page-table workload with a
 * checksum, for smoke tests of every paging mode.
 *
 * The parent fills a buffer with a PRNG stream; PROCS children each fork
 * from it (copy-on-write), mmap and munmap scratch regions, mprotect
 * them, write their own pattern and hash what they see.  The result does
 * not depend on scheduling, so the checksum printed in L2 must equal the
 * one printed by the same binary run natively on the build machine.
 *
 * usage: memcheck [MiB] [procs] [rounds]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096UL

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t fnv(uint64_t h, const uint64_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		fprintf(stderr, "memcheck: mmap %zu: %s\n", len, strerror(errno));
		exit(2);
	}
	return p;
}

/* One child: touch the shared buffer (COW), churn scratch mappings. */
static uint64_t child_work(uint64_t *buf, size_t words, int id, int rounds)
{
	uint64_t h = 0xcbf29ce484222325ULL, seed = 0x9e3779b97f4a7c15ULL * (id + 1);
	size_t scratch_len = 64 * PAGE, i;
	int r;

	/* Copy-on-write: every child rewrites a different stride. */
	for (i = id; i < words; i += PAGE / 8 * 3)
		buf[i] ^= xorshift(&seed);
	h = fnv(h, buf, words);

	for (r = 0; r < rounds; r++) {
		uint64_t *s = map(scratch_len);

		for (i = 0; i < scratch_len / 8; i += 8)
			s[i] = xorshift(&seed);
		if (mprotect(s, scratch_len, PROT_READ)) {
			perror("memcheck: mprotect");
			exit(2);
		}
		h = fnv(h, s, scratch_len / 8);
		munmap(s, scratch_len);
	}
	return h;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 32;
	int procs = argc > 2 ? atoi(argv[2]) : 4;
	int rounds = argc > 3 ? atoi(argv[3]) : 16;
	size_t words = mib * 1024 * 1024 / 8, i;
	uint64_t seed = 0x2545f4914f6cdd1dULL, total;
	uint64_t *buf;
	int p;

	if (!mib || procs < 1 || procs > 64 || rounds < 0) {
		fprintf(stderr, "usage: memcheck [MiB] [procs 1..64] [rounds]\n");
		return 2;
	}
	buf = map(words * 8);
	for (i = 0; i < words; i++)
		buf[i] = xorshift(&seed);
	total = fnv(0xcbf29ce484222325ULL, buf, words);

	for (p = 0; p < procs; p++) {
		int fd[2];
		pid_t pid;
		uint64_t h;
		int st;

		if (pipe(fd)) {
			perror("memcheck: pipe");
			return 2;
		}
		pid = fork();
		if (pid < 0) {
			perror("memcheck: fork");
			return 2;
		}
		if (pid == 0) {
			close(fd[0]);
			h = child_work(buf, words, p, rounds);
			if (write(fd[1], &h, sizeof(h)) != sizeof(h))
				_exit(3);
			_exit(0);
		}
		close(fd[1]);
		if (read(fd[0], &h, sizeof(h)) != sizeof(h) ||
		    waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st)) {
			fprintf(stderr, "memcheck: child %d failed\n", p);
			return 1;
		}
		close(fd[0]);
		total = total * 31 + h;
	}
	/* The parent's copy must be untouched by the children's writes. */
	total = fnv(total, buf, words);
	printf("memcheck: mib=%zu procs=%d rounds=%d checksum=%016" PRIx64 "\n",
	       mib, procs, rounds, total);
	return 0;
}
