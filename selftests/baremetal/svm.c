// SPDX-License-Identifier: GPL-2.0-only
/*
 * SVM for the bare-metal tests (svm.h).  The guest is 32-bit code at CPL 0
 * with paging off, using boot.S's GDT (selector 0x18 code, 0x10 data), or
 * 64-bit code with paging after vmcb_long_mode() (selector 0x08); it
 * exits on VMMCALL, HLT and shutdown, so a test reads the VMCB after each
 * svm_run() and never has to resume it.
 */
#include "svm.h"

uint8_t vmcb[4096] __aligned(4096);
static uint8_t hsave[4096] __aligned(4096);
static uint8_t guest_stack[4096] __aligned(16);

extern const char bm_gdt[];

/* Skip the whole test unless the CPU has SVM and these 0x8000000a EDX bits. */
void svm_require(uint32_t features)
{
	uint32_t a, b, c, d;

	cpuid(0x80000001, 0, &a, &b, &c, &d);
	if (!(c & (1u << 2)))
		tap_skip_all("no SVM");
	cpuid(0x8000000a, 0, &a, &b, &c, &d);
	if ((d & features) != features)
		tap_skip_all("SVM features missing");
}

/*
 * Does CPUID 0x8000_0030 EAX, the project's MMU extensions
 * (Documentation/hw/mmu-extensions.rst), announce @bit?
 */
bool mmu_ext_has(uint32_t bit)
{
	uint32_t a, b, c, d;

	cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a < 0x80000030)
		return false;
	cpuid(0x80000030, 0, &a, &b, &c, &d);
	return a & bit;
}

/* Skip the whole test unless the MMU extension @bit, called @name, is there. */
void mmu_ext_require(uint32_t bit, const char *name)
{
	uint32_t a, b, c, d;

	cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a < 0x80000030)
		tap_skip_all("no CPUID 0x80000030");
	if (!mmu_ext_has(bit))
		tap_skip_all(name);
}

void svm_enable(void)
{
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, (uint64_t)hsave);
}

static void vmcb_seg(unsigned int off, uint16_t sel, uint16_t attrib)
{
	*(volatile uint16_t *)(vmcb + off) = sel;
	*(volatile uint16_t *)(vmcb + off + 2) = attrib;
	vmcb_w32(off + 4, 0xffffffff);
	vmcb_w64(off + 8, 0);
}

/* A flat 32-bit guest at @guest_rip; nested paging from @ncr3 unless 0. */
void vmcb_init(const void *guest_rip, uint64_t ncr3)
{
	memset(vmcb, 0, sizeof(vmcb));
	vmcb_w32(VMCB_INTERCEPT_MISC1, MISC1_HLT | MISC1_SHUTDOWN);
	vmcb_w32(VMCB_INTERCEPT_MISC2, MISC2_VMRUN | MISC2_VMMCALL);
	vmcb_w32(VMCB_ASID, 1);
	vmcb_w32(VMCB_TLB_CONTROL, 1);
	if (ncr3) {
		vmcb_w64(VMCB_NP_ENABLE, 1);
		vmcb_w64(VMCB_NCR3, ncr3);
	}
	vmcb_seg(VMCB_CS, 0x18, 0xc9b);
	vmcb_seg(VMCB_SS, 0x10, 0xc93);
	vmcb_seg(VMCB_DS, 0x10, 0xc93);
	vmcb_seg(VMCB_ES, 0x10, 0xc93);
	vmcb_w32(VMCB_GDTR + 4, 31);
	vmcb_w64(VMCB_GDTR + 8, (uint64_t)bm_gdt);
	vmcb_w64(VMCB_EFER, EFER_SVME);
	vmcb_w64(VMCB_CR0, 0x11);		/* PE, ET */
	vmcb_w64(VMCB_CR3, 0);
	vmcb_w64(VMCB_CR4, 0);
	vmcb_w64(VMCB_DR7, 0x400);
	vmcb_w64(VMCB_DR6, 0xffff0ff0);
	vmcb_w64(VMCB_RFLAGS, 0x2);
	vmcb_w64(VMCB_RIP, (uint64_t)guest_rip);
	vmcb_w64(VMCB_RSP, (uint64_t)guest_stack + sizeof(guest_stack));
	vmcb_w64(VMCB_G_PAT, 0x0007040600070406ull);
}

/*
 * Turn the guest that vmcb_init() made into 64-bit code at CPL 0 with
 * 4-level paging from @cr3: boot.S's GDT selector 0x08.
 */
void vmcb_long_mode(uint64_t cr3)
{
	vmcb_seg(VMCB_CS, 0x08, 0xa9b);
	vmcb_w64(VMCB_EFER, EFER_SVME | EFER_LME | EFER_LMA);
	vmcb_w64(VMCB_CR0, 0x80000011);		/* PG, PE, ET */
	vmcb_w64(VMCB_CR4, 0x20);		/* PAE */
	vmcb_w64(VMCB_CR3, cr3);
}

/* VMRUN the VMCB; returns EXITCODE.  The guest changes no GPR. */
uint64_t svm_run(void)
{
	asm volatile("clgi\n\t"
		     "vmrun\n\t"
		     "stgi"
		     : : "a" ((uint64_t)vmcb)
		     : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
		       "r11", "r12", "r13", "r14", "r15", "memory", "cc");
	return vmcb_r64(VMCB_EXITCODE);
}
