// SPDX-License-Identifier: GPL-2.0
/*
 * Print the TSC rate of this machine in kHz.
 *
 * QEMU's TCG derives the emulated TSC from the host TSC, so L1 is told
 * this rate with tsc_early_khz=: its own calibration under TCG is
 * unreliable, and an L2 may then hang while calibrating.  The value must
 * be close: L1 refines its TSC rate a second after boot, and if the two
 * differ by more than KVM's tolerance (250 ppm) KVM loses its master
 * clock and kvmclock in guests jumps.
 *
 * Each sample reads the clock between two TSC reads and is thrown away
 * when they are far apart (we were preempted); the median of the samples
 * is printed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <x86intrin.h>

#define SAMPLES		9
#define MAX_GAP		20000	/* cycles between the bracketing TSC reads */

/* Read the clock and the TSC at (nearly) the same time. */
static int stamp(double *t, uint64_t *tsc)
{
	struct timespec ts;
	uint64_t a, b;

	a = __rdtsc();
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	b = __rdtsc();
	*t = ts.tv_sec + ts.tv_nsec / 1e9;
	*tsc = a + (b - a) / 2;
	return b - a < MAX_GAP;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	struct timespec d = { 0, 100 * 1000 * 1000 };
	double rate[SAMPLES], t0, t1;
	uint64_t c0, c1;
	int n = 0, tries = 0;

	while (n < SAMPLES && tries++ < 10 * SAMPLES) {
		if (!stamp(&t0, &c0))
			continue;
		nanosleep(&d, NULL);
		if (!stamp(&t1, &c1))
			continue;
		rate[n++] = (c1 - c0) / (t1 - t0);
	}
	if (n == 0) {
		fprintf(stderr, "tsc-khz: no undisturbed sample\n");
		return 1;
	}
	qsort(rate, n, sizeof(rate[0]), cmp);
	printf("%.0f\n", rate[n / 2] / 1000);
	return 0;
}
