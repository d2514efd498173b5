// SPDX-License-Identifier: GPL-2.0
/*
 * Print the TSC rate of this machine in kHz.
 *
 * QEMU's TCG derives the emulated TSC from the host TSC, so L1 must be
 * told this rate with tsc_early_khz=: its own calibration under TCG is
 * unreliable, and an L2 may then hang while calibrating.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	double best = 0;
	int i;

	/* Take the median-ish of a few short samples: the shortest wins. */
	for (i = 0; i < 5; i++) {
		struct timespec d = { 0, 50 * 1000 * 1000 };
		double t0 = now();
		uint64_t c0 = __rdtsc();
		double t1;
		uint64_t c1;

		nanosleep(&d, NULL);
		c1 = __rdtsc();
		t1 = now();
		if (i == 0 || (c1 - c0) / (t1 - t0) < best)
			best = (c1 - c0) / (t1 - t0);
	}
	printf("%.0f\n", best / 1000);
	return 0;
}
