/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The little library of the bare-metal tests: serial output, TAP, MSRs,
 * CPUID and the exit through isa-debug-exit.  The tests run at CPL 0 in
 * long mode with the first GiB identity-mapped (boot.S).
 */
#ifndef BAREMETAL_BM_H
#define BAREMETAL_BM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define __aligned(x)	__attribute__((aligned(x)))
#define __noreturn	__attribute__((noreturn))

#define MSR_EFER		0xc0000080
#define EFER_LME		(1ull << 8)
#define EFER_LMA		(1ull << 10)
#define EFER_SVME		(1ull << 12)
#define MSR_VM_HSAVE_PA		0xc0010117

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a" (v), "Nd" (port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a" (v), "Nd" (port));
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a" (lo), "=d" (hi) : "c" (msr));
	return lo | ((uint64_t)hi << 32);
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	asm volatile("wrmsr" : : "c" (msr), "a" ((uint32_t)v),
		     "d" ((uint32_t)(v >> 32)));
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a,
			 uint32_t *b, uint32_t *c, uint32_t *d)
{
	asm volatile("cpuid" : "=a" (*a), "=b" (*b), "=c" (*c), "=d" (*d)
		     : "a" (leaf), "c" (sub));
}

void *memset(void *s, int c, size_t n);
/*
 * Load a host IDT whose one gate is a 64-bit interrupt gate for the #DB
 * handler @handler (vector 1, selector 0x08); every other vector is not
 * present.
 */
void bm_load_db_idt(const char *handler);
void bm_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void __noreturn bm_exit(int status);

/* TAP, as the KVM selftests print it. */
void tap_plan(int n);
void tap_result(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void __noreturn tap_skip_all(const char *why);
int tap_exit_status(void);

#endif /* BAREMETAL_BM_H */
