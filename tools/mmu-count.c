// SPDX-License-Identifier: GPL-2.0
/*
 * mmu-count: run a command and print the page-walk counters (MMUCNT) of
 * the emulated CPU that it caused, like "perf stat -a" for page walks.
 *
 * The counters are per CPU and count everything that runs on a CPU: the
 * host bank the walks made outside SVM guest mode (native programs and
 * the L1 kernel), the guest bank the walks made in guest mode (every L2
 * guest).  mmu-count resets both banks on every online CPU, runs the
 * command, and sums each bank over the CPUs.  The hardware interface is
 * in Documentation/hw/mmu-extensions.rst, the use of this tool in
 * Documentation/mmu-counters.rst.
 *
 * usage: mmu-count [-b host|guest|both] [-f text|csv] [-q] [-o FILE]
 *                  -- CMD [ARG...]
 *
 * Exits with the command's exit status (128 + signal if it was killed),
 * 2 on a usage error or when the CPU has no counters, 1 when the
 * counters cannot be reset or read, 126/127 when CMD cannot be run.
 * Needs root and /dev/cpu/N/msr (CONFIG_X86_MSR).
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmucnt.h"

#define MAX_CPUS		4096

/* Field names as printed, in MSR order. */
static const char *const field_name[NR_COUNTERS_ALL] = {
	"walks", "fetch_walks", "stlb_hits", "refs_guest", "refs_nested",
	"faults", "large", "dseg_checks", "dseg_guest_hits", "dseg_vmm_hits",
	"dseg_escapes", "dseg_false_escapes", "tpt_refs_tag", "tpt_walks",
	"tpt_tag_faults", NULL, "agile_walks", "agile_refs_shadow",
	"agile_switch_l0", "agile_switch_l1", "agile_switch_l2",
	"agile_switch_l3", "agile_switch_l4", "agile_switch_l5",
	"refs_guest_mem", "refs_guest_pwc", "refs_nested_mem",
	"refs_nested_pwc", "refs_nested_ntlb", "ntlb_hits", "ntlb_misses",
};

/*
 * The counters a bank has: the base ones, the direct-segment ones with
 * DSEG_CPUID_BIT, the TPT ones with TPT_CPUID_BIT, the agile paging
 * ones with AGILE_CPUID_BIT and those of the page-walk caches with
 * PWC_CPUID_BIT or NTLB_CPUID_BIT (without, they read what refs_guest
 * and refs_nested do, or 0 on a QEMU without them); a bit per index.
 */
static uint32_t counters = (1u << NR_COUNTERS) - 1;

static int has_counter(int i)
{
	return counters & (1u << i);
}

enum { BANK_HOST = 1, BANK_GUEST = 2, BANK_BOTH = 3 };

struct cpu {
	int id;
	int fd;
};

static const char *prog = "mmu-count";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-b host|guest|both] [-f text|csv] [-q] [-o FILE] -- CMD [ARG...]\n"
		"\n"
		"Run CMD and print the page walks of the emulated CPU's MMU counters\n"
		"(MMUCNT) summed over every online CPU: the host bank counts walks\n"
		"outside SVM guest mode (native programs, the L1 kernel), the guest\n"
		"bank walks in guest mode (L2 guests).  Both banks of every CPU are\n"
		"reset before CMD starts, so everything running meanwhile counts.\n"
		"\n"
		"  -b BANK  host, guest or both (default both)\n"
		"  -f FMT   text (default): one line per bank;\n"
		"           csv: a header line and one row per bank\n"
		"  -q       only the counter lines: no summary line, no csv header\n"
		"  -o FILE  write the counter lines to FILE instead of stderr\n"
		"  -h       this help\n"
		"\n"
		"Exit status: CMD's (128 + signal if killed); 2 for a usage error or\n"
		"a CPU without counters; 1 if the counters cannot be read; 126/127\n"
		"if CMD cannot be run.  Needs root and /dev/cpu/N/msr.\n",
		prog);
}

/*
 * The counters exist when CPUID 0x8000_0030 does (maximum extended leaf)
 * and announces them in EAX bit 0.  Returns the leaf's EBX-EDX (the
 * modeled TLB's geometry) through @geo.
 */
static int have_mmucnt(uint32_t geo[3])
{
	uint32_t eax, ebx, ecx, edx;

	__cpuid(0x80000000u, eax, ebx, ecx, edx);
	if (eax < MMUCNT_LEAF)
		return 0;
	__cpuid(MMUCNT_LEAF, eax, ebx, ecx, edx);
	geo[0] = ebx;
	geo[1] = ecx;
	geo[2] = edx;
	if (eax & DSEG_CPUID_BIT)
		counters |= ((1u << NR_COUNTERS_DSEG) - 1) &
			    ~((1u << NR_COUNTERS) - 1);
	if (eax & TPT_CPUID_BIT)
		counters |= ((1u << NR_COUNTERS_TPT) - 1) &
			    ~((1u << NR_COUNTERS_DSEG) - 1);
	if (eax & AGILE_CPUID_BIT)
		counters |= ((1u << NR_COUNTERS_AGILE) - 1) &
			    ~((1u << CNT_AGILE_WALKS) - 1);
	if (eax & (PWC_CPUID_BIT | NTLB_CPUID_BIT))
		counters |= ((1u << NR_COUNTERS_ALL) - 1) &
			    ~((1u << CNT_REFS_GUEST_MEM) - 1);
	return !!(eax & MMUCNT_CPUID_BIT);
}

/*
 * Parse the online CPU list ("0-3,5") into @ids; returns the number of
 * CPUs or -1.
 */
static int online_cpus(int *ids, int max)
{
	const char *path = "/sys/devices/system/cpu/online";
	char buf[4096], *p, *end;
	int n = 0;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	if (!fgets(buf, sizeof(buf), f)) {
		fprintf(stderr, "%s: %s: empty\n", prog, path);
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';

	for (p = buf; *p; p = end) {
		long lo, hi;

		errno = 0;
		lo = strtol(p, &end, 10);
		hi = lo;
		if (end != p && *end == '-') {
			p = end + 1;
			hi = strtol(p, &end, 10);
		}
		if (end == p || errno || lo < 0 || hi < lo ||
		    (*end && *end != ',')) {
			fprintf(stderr, "%s: %s: cannot parse '%s'\n",
				prog, path, buf);
			return -1;
		}
		for (; lo <= hi; lo++) {
			if (n == max) {
				fprintf(stderr, "%s: more than %d CPUs\n",
					prog, max);
				return -1;
			}
			ids[n++] = lo;
		}
		if (*end == ',')
			end++;
	}
	return n;
}

static int open_msr(int cpu)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	switch (errno) {
	case ENOENT:
	case ENXIO:
	case ENODEV:
		fprintf(stderr, "%s: %s: %s (needs CONFIG_X86_MSR or 'modprobe msr')\n",
			prog, path, strerror(errno));
		break;
	case EACCES:
	case EPERM:
		fprintf(stderr, "%s: %s: %s (needs root: CAP_SYS_RAWIO)\n",
			prog, path, strerror(errno));
		break;
	default:
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
	}
	return -1;
}

/* Explain a failed MSR access; EIO is the #GP of a missing MSR. */
static void msr_error(const struct cpu *c, const char *op, uint32_t msr,
		      int err)
{
	if (err == EIO)
		fprintf(stderr, "%s: cpu %d: %s of MSR 0x%x raised #GP: the CPU has no page-walk counters (MMUCNT)\n",
			prog, c->id, op, msr);
	else if (err == EPERM)
		fprintf(stderr, "%s: cpu %d: %s of MSR 0x%x: %s (msr.allow_writes=off?)\n",
			prog, c->id, op, msr, strerror(err));
	else
		fprintf(stderr, "%s: cpu %d: %s of MSR 0x%x: %s\n",
			prog, c->id, op, msr, err ? strerror(err) : "short transfer");
}

static int msr_read(const struct cpu *c, uint32_t msr, uint64_t *val)
{
	ssize_t r = pread(c->fd, val, sizeof(*val), msr);

	if (r == sizeof(*val))
		return 0;
	msr_error(c, "read", msr, r < 0 ? errno : 0);
	return -1;
}

static int msr_write(const struct cpu *c, uint32_t msr, uint64_t val)
{
	ssize_t r = pwrite(c->fd, &val, sizeof(val), msr);

	if (r == sizeof(val))
		return 0;
	msr_error(c, "write", msr, r < 0 ? errno : 0);
	return -1;
}

/*
 * The MSR of counter @i of the bank whose first MSR is @base: the agile
 * paging counters and those of the page-walk caches have MSRs of their
 * own.
 */
static uint32_t counter_msr(uint32_t base, int i)
{
	if (i < CNT_AGILE_WALKS)
		return base + i;
	if (i >= CNT_REFS_GUEST_MEM)
		return (base == MSR_MMUCNT_HOST ? MSR_MMUCNT_CACHE_HOST :
			MSR_MMUCNT_CACHE_GUEST) + i - CNT_REFS_GUEST_MEM;
	return (base == MSR_MMUCNT_HOST ? MSR_MMUCNT_AGILE_HOST :
		MSR_MMUCNT_AGILE_GUEST) + i - CNT_AGILE_WALKS;
}

/* Add the bank at MSR @base of @c to @sum. */
static int read_bank(const struct cpu *c, uint32_t base,
		     uint64_t sum[NR_COUNTERS_ALL])
{
	uint64_t v;
	int i;

	for (i = 0; i < NR_COUNTERS_ALL; i++) {
		if (!has_counter(i))
			continue;
		if (msr_read(c, counter_msr(base, i), &v))
			return -1;
		sum[i] += v;
	}
	return 0;
}

/* References per walk, both dimensions; 0 when nothing walked. */
static double refs_per_walk(const uint64_t cnt[NR_COUNTERS_ALL])
{
	if (!cnt[CNT_WALKS])
		return 0;
	return (double)(cnt[CNT_REFS_GUEST] + cnt[CNT_REFS_NESTED]) /
	       cnt[CNT_WALKS];
}

static void print_bank(FILE *out, int csv, const char *bank,
		       const uint64_t cnt[NR_COUNTERS_ALL])
{
	int i;

	if (csv) {
		fprintf(out, "%s", bank);
		for (i = 0; i < NR_COUNTERS_ALL; i++)
			if (has_counter(i))
				fprintf(out, ",%" PRIu64, cnt[i]);
		fprintf(out, ",%.2f\n", refs_per_walk(cnt));
		return;
	}
	fprintf(out, "%s: bank=%s", prog, bank);
	for (i = 0; i < NR_COUNTERS_ALL; i++)
		if (has_counter(i))
			fprintf(out, " %s=%" PRIu64, field_name[i], cnt[i]);
	fprintf(out, " refs_per_walk=%.2f\n", refs_per_walk(cnt));
}

static void print_csv_header(FILE *out)
{
	int i;

	fprintf(out, "bank");
	for (i = 0; i < NR_COUNTERS_ALL; i++)
		if (has_counter(i))
			fprintf(out, ",%s", field_name[i]);
	fprintf(out, ",refs_per_walk\n");
}

/* Run @argv; returns its exit status as a shell reports it, or -1. */
static int run(char *argv[])
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;
	int status;
	pid_t pid;

	/* Like time(1): ^C goes to the command, and we still report. */
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);

	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: %s: %s\n", prog, argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "%s: waitpid: %s\n", prog,
				strerror(errno));
			return -1;
		}
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);

	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int main(int argc, char *argv[])
{
	uint64_t host[NR_COUNTERS_ALL] = { 0 }, guest[NR_COUNTERS_ALL] = { 0 };
	int banks = BANK_BOTH, csv = 0, quiet = 0, ncpus, i, opt, status;
	static int ids[MAX_CPUS];
	const char *outfile = NULL;
	struct cpu *cpus;
	uint32_t geo[3] = { 0 };
	FILE *out = stderr;

	while ((opt = getopt(argc, argv, "+b:f:qo:h")) != -1) {
		switch (opt) {
		case 'b':
			if (!strcmp(optarg, "host"))
				banks = BANK_HOST;
			else if (!strcmp(optarg, "guest"))
				banks = BANK_GUEST;
			else if (!strcmp(optarg, "both"))
				banks = BANK_BOTH;
			else {
				fprintf(stderr, "%s: -b %s: not host, guest or both\n",
					prog, optarg);
				return 2;
			}
			break;
		case 'f':
			if (!strcmp(optarg, "text"))
				csv = 0;
			else if (!strcmp(optarg, "csv"))
				csv = 1;
			else {
				fprintf(stderr, "%s: -f %s: not text or csv\n",
					prog, optarg);
				return 2;
			}
			break;
		case 'q':
			quiet = 1;
			break;
		case 'o':
			outfile = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s: no command given\n", prog);
		usage(stderr);
		return 2;
	}

	if (!have_mmucnt(geo)) {
		fprintf(stderr, "%s: the CPU has no page-walk counters: CPUID 0x%x EAX bit 0 (mmu-counters) is 0 or the leaf is absent\n",
			prog, MMUCNT_LEAF);
		return 2;
	}

	ncpus = online_cpus(ids, MAX_CPUS);
	if (ncpus <= 0)
		return 1;
	cpus = calloc(ncpus, sizeof(*cpus));
	if (!cpus) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	for (i = 0; i < ncpus; i++) {
		cpus[i].id = ids[i];
		cpus[i].fd = open_msr(ids[i]);
		if (cpus[i].fd < 0)
			return 1;
	}
	if (outfile) {
		out = fopen(outfile, "w");
		if (!out) {
			fprintf(stderr, "%s: %s: %s\n", prog, outfile,
				strerror(errno));
			return 1;
		}
	}

	/* Reset both banks and enable counting on every CPU. */
	for (i = 0; i < ncpus; i++)
		if (msr_write(&cpus[i], MSR_MMUCNT_CTL,
			      MMUCNT_CTL_RESET | MMUCNT_CTL_EN))
			return 1;

	status = run(&argv[optind]);
	if (status < 0)
		return 1;

	for (i = 0; i < ncpus; i++) {
		if (read_bank(&cpus[i], MSR_MMUCNT_HOST, host) ||
		    read_bank(&cpus[i], MSR_MMUCNT_GUEST, guest))
			return 1;
		close(cpus[i].fd);
	}

	if (!quiet) {
		if (csv) {
			print_csv_header(out);
		} else {
			fprintf(out, "%s: %s: status=%d cpus=%d tlb: l1d=%u l2d=%u/%u-way l1i=%u l2i=%u/%u-way",
				prog, argv[optind], status, ncpus,
				geo[0] & 0xffff, geo[0] >> 16, geo[2] & 0xff,
				geo[1] & 0xffff, geo[1] >> 16,
				(geo[2] >> 8) & 0xff);
			/* EDX[23:16], [31:24]: 0 while the cache is off */
			if ((geo[2] >> 16) & 0xff)
				fprintf(out, " pwc=%u", (geo[2] >> 16) & 0xff);
			if (geo[2] >> 24)
				fprintf(out, " ntlb=%u", geo[2] >> 24);
			fputc('\n', out);
		}
	}
	if (banks & BANK_HOST)
		print_bank(out, csv, "host", host);
	if (banks & BANK_GUEST)
		print_bank(out, csv, "guest", guest);
	if (fflush(out) || (out != stderr && fclose(out))) {
		fprintf(stderr, "%s: %s: %s\n", prog,
			outfile ? outfile : "stderr", strerror(errno));
		return 1;
	}
	free(cpus);
	return status;
}
