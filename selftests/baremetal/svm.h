/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SVM for the bare-metal tests: one VMCB, a flat 32-bit protected-mode
 * guest with paging off, and VMRUN.  The offsets are the AMD APM's
 * (vol. 2, appendix B, "Layout of VMCB").
 */
#ifndef BAREMETAL_SVM_H
#define BAREMETAL_SVM_H

#include "bm.h"

/* Page-table entry bits (APM vol. 2, 5.3-5.4), shared by the tests' tables */
#define PTE_P			(1ull << 0)
#define PTE_RW			(1ull << 1)
#define PTE_US			(1ull << 2)
#define PTE_A			(1ull << 5)
#define PTE_D			(1ull << 6)
#define PTE_PS			(1ull << 7)
#define PTE_BIT8		(1ull << 8)	/* reserved in PML4Es on AMD */
#define PTE_NX			(1ull << 63)

#define SVM_EXIT_READ_CR0	0x000
#define SVM_EXIT_WRITE_CR0	0x010
#define SVM_EXIT_READ_DR0	0x020
#define SVM_EXIT_EXCP_BASE	0x040
#define SVM_EXIT_SWINT		0x075
#define SVM_EXIT_HLT		0x078
#define SVM_EXIT_INVLPG		0x079
#define SVM_EXIT_VMMCALL	0x081
#define SVM_EXIT_NPF		0x400
#define SVM_EXIT_TPT_TAG	0x480	/* Documentation/hw/mmu-extensions.rst */
#define SVM_EXIT_INVALID	(~0ull)

/* Control area */
#define VMCB_INTERCEPT_CR	0x000	/* reads 15:0, writes 31:16 */
#define VMCB_INTERCEPT_DR	0x004	/* reads 15:0, writes 31:16 */
#define VMCB_INTERCEPT_EXC	0x008	/* bit n: exception vector n */
#define VMCB_INTERCEPT_MISC1	0x00c
#define VMCB_INTERCEPT_MISC2	0x010
#define VMCB_ASID		0x058
#define VMCB_TLB_CONTROL	0x05c
#define VMCB_EXITCODE		0x070
#define VMCB_EXITINFO1		0x078
#define VMCB_EXITINFO2		0x080
#define VMCB_NP_ENABLE		0x090
#define VMCB_NCR3		0x0b0
/* Translation Pass-Through (Documentation/hw/mmu-extensions.rst) */
#define VMCB_TPT_CTL		0x240
#define VMCB_TPT_TAG		0x248
#define VMCB_TPT_CR3		0x250
#define VMCB_TPT_FAULT_VA	0x258
/* Agile paging (Documentation/hw/mmu-extensions.rst) */
#define VMCB_AGILE_CTL		0x260
#define VMCB_AGILE_SCR3		0x268
/* State save area */
#define VMCB_ES			0x400
#define VMCB_CS			0x410
#define VMCB_SS			0x420
#define VMCB_DS			0x430
#define VMCB_GDTR		0x460
#define VMCB_EFER		0x4d0
#define VMCB_CR4		0x548
#define VMCB_CR3		0x550
#define VMCB_CR0		0x558
#define VMCB_DR7		0x560
#define VMCB_DR6		0x568
#define VMCB_RFLAGS		0x570
#define VMCB_RIP		0x578
#define VMCB_RSP		0x5d8
#define VMCB_RAX		0x5f8
#define VMCB_G_PAT		0x668

#define MISC1_INTN		(1u << 21)
#define MISC1_HLT		(1u << 24)
#define MISC1_INVLPG		(1u << 25)
#define MISC1_SHUTDOWN		(1u << 31)
#define MISC2_VMRUN		(1u << 0)
#define MISC2_VMMCALL		(1u << 1)

/* CPUID 0x8000000a EDX */
#define SVM_FEAT_NPT		(1u << 0)
#define SVM_FEAT_DECODEASSISTS	(1u << 7)

extern uint8_t vmcb[4096];

void svm_require(uint32_t features);
bool mmu_ext_has(uint32_t bit);
void mmu_ext_require(uint32_t bit, const char *name);
void svm_enable(void);
void vmcb_init(const void *guest_rip, uint64_t ncr3);
void vmcb_long_mode(uint64_t cr3);
uint64_t svm_run(void);

static inline void vmcb_w32(unsigned int off, uint32_t v)
{
	*(volatile uint32_t *)(vmcb + off) = v;
}

static inline void vmcb_w64(unsigned int off, uint64_t v)
{
	*(volatile uint64_t *)(vmcb + off) = v;
}

static inline uint64_t vmcb_r64(unsigned int off)
{
	return *(volatile uint64_t *)(vmcb + off);
}

#endif /* BAREMETAL_SVM_H */
