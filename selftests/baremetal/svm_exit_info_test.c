// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_exit_info_test: what the emulated CPU writes into the VMCB at #VMEXIT,
 * checked on bare metal (no L1 kernel) so that the hypervisor's own state
 * can be chosen freely: paging off or on, EFER.NXE clear, CR4.SMEP set.
 *
 *   1. a VMMCALL intercept stores EXITCODE 0x81 (control case)
 *   2. a VMCB without the VMRUN intercept fails VMRUN with VMEXIT_INVALID,
 *      the 64-bit -1 in EXITCODE ("VMRUN", consistency checks)
 *   3. as 2, for ASID 0
 *   4. with nested paging, a VMMCALL still exits with 0x81 (control case)
 *   5. a reserved bit in a nested PML4E gives #NPF with EXITINFO1 P|RSVD|US
 *      and bit 32 (fault on the final guest-physical address), EXITINFO2
 *      the address ("Nested Page Fault", its error code is as for #PF, and
 *      nested accesses are user accesses)
 *   6. as 5, for a nested PDPTE
 *   7. a not-present nested PDE, host with CR4.SMEP and EFER.NXE clear: the
 *      fetch sets I/D in EXITINFO1, which is defined when NX or SMEP is on
 *   8. as 7 with SMEP off: I/D stays clear
 *
 * The guest runs in 32-bit protected mode with paging off, so its first
 * instruction fetch is the first access that nested paging translates.
 */
#include "bm.h"

#define SVM_EXIT_VMMCALL	0x81
#define SVM_EXIT_HLT		0x78
#define SVM_EXIT_NPF		0x400
#define SVM_EXIT_INVALID	(~0ull)

/* VMCB control area (offsets from the AMD APM, appendix B) */
#define VMCB_INTERCEPT_MISC1	0x00c
#define VMCB_INTERCEPT_MISC2	0x010
#define VMCB_ASID		0x058
#define VMCB_TLB_CONTROL	0x05c
#define VMCB_EXITCODE		0x070
#define VMCB_EXITINFO1		0x078
#define VMCB_EXITINFO2		0x080
#define VMCB_NP_ENABLE		0x090
#define VMCB_NCR3		0x0b0
/* VMCB state save area */
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
#define VMCB_G_PAT		0x668

#define MISC1_HLT		(1u << 24)
#define MISC1_SHUTDOWN		(1u << 31)
#define MISC2_VMRUN		(1u << 0)
#define MISC2_VMMCALL		(1u << 1)

#define PTE_P			(1ull << 0)
#define PTE_RW			(1ull << 1)
#define PTE_US			(1ull << 2)
#define PTE_PS			(1ull << 7)
#define PTE_RSVD51		(1ull << 51)	/* above MAXPHYADDR */

#define PF_P			(1ull << 0)
#define PF_US			(1ull << 2)
#define PF_RSVD			(1ull << 3)
#define PF_ID			(1ull << 4)
#define NPF_FINAL_GPA		(1ull << 32)

#define CR4_SMEP		(1ull << 20)

static uint8_t vmcb[4096] __aligned(4096);
static uint8_t hsave[4096] __aligned(4096);
static uint64_t npt_pml4[512] __aligned(4096);
static uint64_t npt_pdpt[512] __aligned(4096);
static uint64_t npt_pd[512] __aligned(4096);
static uint8_t guest_stack[4096] __aligned(16);

extern const char bm_gdt[];
extern const char guest_vmmcall[];

/* The guest: 32-bit code, paging off. */
asm(".pushsection .text\n"
    ".code32\n"
    "guest_vmmcall:\n"
    "	vmmcall\n"
    "	hlt\n"
    ".code64\n"
    ".popsection");

static void vmcb_w16(unsigned int off, uint16_t v)
{
	*(volatile uint16_t *)(vmcb + off) = v;
}

static void vmcb_w32(unsigned int off, uint32_t v)
{
	*(volatile uint32_t *)(vmcb + off) = v;
}

static void vmcb_w64(unsigned int off, uint64_t v)
{
	*(volatile uint64_t *)(vmcb + off) = v;
}

static uint64_t vmcb_r64(unsigned int off)
{
	return *(volatile uint64_t *)(vmcb + off);
}

static void vmcb_seg(unsigned int off, uint16_t sel, uint16_t attrib)
{
	vmcb_w16(off, sel);
	vmcb_w16(off + 2, attrib);
	vmcb_w32(off + 4, 0xffffffff);
	vmcb_w64(off + 8, 0);
}

/* A flat 32-bit protected-mode guest at guest_vmmcall, paging off. */
static void vmcb_init(bool npt)
{
	memset(vmcb, 0, sizeof(vmcb));
	vmcb_w32(VMCB_INTERCEPT_MISC1, MISC1_HLT | MISC1_SHUTDOWN);
	vmcb_w32(VMCB_INTERCEPT_MISC2, MISC2_VMRUN | MISC2_VMMCALL);
	vmcb_w32(VMCB_ASID, 1);
	vmcb_w32(VMCB_TLB_CONTROL, 1);
	if (npt) {
		vmcb_w64(VMCB_NP_ENABLE, 1);
		vmcb_w64(VMCB_NCR3, (uint64_t)npt_pml4);
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
	vmcb_w64(VMCB_RIP, (uint64_t)guest_vmmcall);
	vmcb_w64(VMCB_RSP, (uint64_t)guest_stack + sizeof(guest_stack));
	vmcb_w64(VMCB_G_PAT, 0x0007040600070406ull);
}

/* Nested tables identity-mapping the first GiB with 2 MiB user pages. */
static void npt_init(void)
{
	int i;

	memset(npt_pml4, 0, sizeof(npt_pml4));
	memset(npt_pdpt, 0, sizeof(npt_pdpt));
	npt_pml4[0] = (uint64_t)npt_pdpt | PTE_P | PTE_RW | PTE_US;
	npt_pdpt[0] = (uint64_t)npt_pd | PTE_P | PTE_RW | PTE_US;
	for (i = 0; i < 512; i++)
		npt_pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_RW | PTE_US |
			    PTE_PS;
}

static uint64_t run_guest(void)
{
	asm volatile("clgi\n\t"
		     "vmrun\n\t"
		     "stgi"
		     : : "a" ((uint64_t)vmcb)
		     : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
		       "r11", "r12", "r13", "r14", "r15", "memory", "cc");
	return vmcb_r64(VMCB_EXITCODE);
}

static void check_exit(const char *what, uint64_t want_code,
		       uint64_t want_info1, uint64_t want_info2)
{
	uint64_t code = run_guest();
	uint64_t info1 = vmcb_r64(VMCB_EXITINFO1);
	uint64_t info2 = vmcb_r64(VMCB_EXITINFO2);
	bool ok = code == want_code;

	if (want_code == SVM_EXIT_NPF)
		ok = ok && info1 == want_info1 && info2 == want_info2;
	tap_result(ok, "%s: EXITCODE 0x%lx EXITINFO1 0x%lx EXITINFO2 0x%lx "
		   "(want 0x%lx 0x%lx 0x%lx)", what, code, info1, info2,
		   want_code, want_info1, want_info2);
}

static void set_smep(bool on)
{
	uint64_t cr4;

	asm volatile("mov %%cr4, %0" : "=r" (cr4));
	cr4 = on ? cr4 | CR4_SMEP : cr4 & ~CR4_SMEP;
	asm volatile("mov %0, %%cr4" : : "r" (cr4));
}

int main(void)
{
	uint64_t gpa = (uint64_t)guest_vmmcall;
	uint64_t fetch_fault = PF_US | NPF_FINAL_GPA;
	uint32_t a, b, c, d;

	cpuid(0x80000001, 0, &a, &b, &c, &d);
	if (!(c & (1u << 2)))
		tap_skip_all("no SVM");
	cpuid(0x8000000a, 0, &a, &b, &c, &d);
	if (!(d & 1))
		tap_skip_all("no nested paging");
	cpuid(7, 0, &a, &b, &c, &d);
	if (!(b & (1u << 7)))
		tap_skip_all("no SMEP");

	tap_plan(8);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, (uint64_t)hsave);

	vmcb_init(false);
	check_exit("VMMCALL", SVM_EXIT_VMMCALL, 0, 0);

	vmcb_init(false);
	vmcb_w32(VMCB_INTERCEPT_MISC2, MISC2_VMMCALL);
	check_exit("no VMRUN intercept", SVM_EXIT_INVALID, 0, 0);

	vmcb_init(false);
	vmcb_w32(VMCB_ASID, 0);
	check_exit("ASID 0", SVM_EXIT_INVALID, 0, 0);

	npt_init();
	vmcb_init(true);
	check_exit("VMMCALL under nested paging", SVM_EXIT_VMMCALL, 0, 0);

	npt_init();
	npt_pml4[0] |= PTE_RSVD51;
	vmcb_init(true);
	check_exit("reserved bit in a nested PML4E", SVM_EXIT_NPF,
		   PF_P | PF_RSVD | fetch_fault, gpa);

	npt_init();
	npt_pdpt[0] |= PTE_RSVD51;
	vmcb_init(true);
	check_exit("reserved bit in a nested PDPTE", SVM_EXIT_NPF,
		   PF_P | PF_RSVD | fetch_fault, gpa);

	npt_init();
	npt_pd[gpa >> 21] = 0;
	set_smep(true);
	vmcb_init(true);
	check_exit("not-present nested PDE, host SMEP", SVM_EXIT_NPF,
		   fetch_fault | PF_ID, gpa);

	set_smep(false);
	vmcb_init(true);
	check_exit("not-present nested PDE, no host SMEP or NX", SVM_EXIT_NPF,
		   fetch_fault, gpa);

	return tap_exit_status();
}
