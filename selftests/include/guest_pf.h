/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest-side helpers of the project's selftests for accesses that may
 * take a #PF: the guest code sets r9 to KVM_EXCEPTION_MAGIC and r11 to
 * where to resume, and pf_handler() (installed for PF_VECTOR) records the
 * error code and CR2 and resumes there with the vector in r9.  Unlike the
 * library's kvm_asm_safe() it does not check RIP, so it also serves a
 * fetch (RIP is the target then) and an access that KVM emulates after
 * the forced-emulation prefix (RIP is past the prefix).
 */
#ifndef SELFTEST_GUEST_PF_H
#define SELFTEST_GUEST_PF_H

#include "processor.h"
#include "ucall_common.h"

#define PF_VECTOR	14

/* The last #PF that pf_handler() took */
static volatile uint64_t pf_ec __maybe_unused, pf_cr2 __maybe_unused;

static inline void invlpg(uint64_t va)
{
	asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline uint64_t read_cr2(void)
{
	uint64_t cr2;

	asm volatile("mov %%cr2, %0" : "=r"(cr2));
	return cr2;
}

static void __maybe_unused pf_handler(struct ex_regs *regs)
{
	GUEST_ASSERT_2(regs->r9 == KVM_EXCEPTION_MAGIC, regs->rip,
		       regs->error_code);
	pf_ec = regs->error_code;
	pf_cr2 = read_cr2();
	regs->rip = regs->r11;
	regs->r9 = regs->vector;
}

/*
 * Jump to the code at @va, which must clear r9 and jump back to r11
 * (xor %r9d, %r9d; jmp *%r11: FETCH_RETURN_CODE).  Returns 0, or the
 * vector of the fault on the fetch.
 */
#define FETCH_RETURN_CODE	{ 0x45, 0x31, 0xc9, 0x41, 0xff, 0xe3 }

static inline uint8_t exec_safe(uint64_t va)
{
	uint8_t vec;

	asm volatile("mov $" __stringify(KVM_EXCEPTION_MAGIC) ", %%r9\n\t"
		     "lea 1f(%%rip), %%r11\n\t"
		     "jmp *%[p]\n\t"
		     "1: movb %%r9b, %[v]\n\t"
		     : [v] "=qm"(vec)
		     : [p] "r"(va)
		     : "r9", "r10", "r11", "memory");
	return vec;
}

#endif /* SELFTEST_GUEST_PF_H */
