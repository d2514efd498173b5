// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_intr_shadow_test: interrupts and the interrupt shadow of an SVM
 * guest.  The instruction after an STI that sets IF, or after a MOV SS or
 * POP SS, runs in an interrupt shadow, in which no interrupt is
 * recognized.  The shadow is guest state: #VMEXIT saves it in the VMCB's
 * INTERRUPT_SHADOW (0x68 bit 0) and VMRUN loads it from there (AMD APM
 * vol. 2, "Interrupt Shadows", "VMRUN", "#VMEXIT"); a virtual interrupt
 * (V_IRQ) is recognized like a physical one (APM "Virtual Interrupts").
 *
 *   1. V_IRQ with V_INTR_MASKING and guest IF set: taken before the first
 *      guest instruction (control case)
 *   2. guest IF clear, STI: V_IRQ is taken after the instruction that
 *      follows STI, not before it
 *   3. the same with the VINTR intercept: the #VMEXIT comes after that
 *      instruction too (control case)
 *   4. VMRUN with INTERRUPT_SHADOW set and guest IF set: V_IRQ is taken
 *      after the first guest instruction
 *   5. the host's STI shadow does not follow VMRUN into the guest: with
 *      "sti; vmrun" and INTERRUPT_SHADOW clear, V_IRQ is taken before the
 *      first guest instruction
 *   6. a #NPF of an instruction outside any shadow: INTERRUPT_SHADOW 0
 *   7. a #NPF of the instruction after MOV SS: INTERRUPT_SHADOW 1
 *   8. resuming 7 with a V_IRQ and the saved INTERRUPT_SHADOW: the
 *      interrupt comes after the faulting instruction, not before it
 *   9. a #NPF of the instruction after STI, V_IRQ pending all along:
 *      INTERRUPT_SHADOW 1
 *  10. resuming 9: the interrupt comes after that instruction
 *  11. a physical interrupt (APIC self-IPI) delivered to a guest without
 *      V_INTR_MASKING and without the INTR intercept waits for the end of
 *      the STI shadow (control case)
 *  12. VMRUN with INTERRUPT_SHADOW and EVENTINJ of an interrupt through a
 *      trap gate, V_IRQ pending: the event ends the shadow, so the V_IRQ
 *      is taken before the first instruction of the injected handler
 *
 * The guest is 32-bit code at CPL 0 with paging off; its interrupt
 * handler records the return EIP and leaves with VMMCALL.
 */
#include "svm.h"

#define __stringify_1(x)	#x
#define __stringify(x)		__stringify_1(x)

#define VMCB_INT_CTL		0x060
#define VMCB_INT_VECTOR		0x064
#define VMCB_INT_STATE		0x068
#define VMCB_IDTR		0x480

#define V_IRQ			(1u << 8)
#define V_INTR_PRIO(p)		((uint32_t)(p) << 16)
#define V_IGN_TPR		(1u << 20)
#define V_INTR_MASKING		(1u << 24)
#define INTERRUPT_SHADOW	(1u << 0)

#define MISC1_VINTR		(1u << 4)
#define SVM_EXIT_VINTR		0x064

#define IRQ_VECTOR		0x40	/* V_IRQ */
#define APIC_VECTOR		0x41	/* self-IPI, its handler sends EOI */
#define INJ_VECTOR		0x42	/* EVENTINJ, a trap gate */
#define VMCB_EVENTINJ		0x0a8
#define EVENTINJ_VALID		(1u << 31)
#define RFLAGS_IF		(1u << 9)

#define NPF_ADDR		0x10000000u	/* 256 MiB, its own 2 MiB page */

static uint64_t guest_idt[256] __aligned(8);
static uint64_t npt_pml4[512] __aligned(4096);
static uint64_t npt_pdpt[512] __aligned(4096);
static uint64_t npt_pd[512] __aligned(4096);

/* Written by the guest's interrupt handler: the EIP it returns to. */
volatile uint32_t irq_rip;

extern const char guest_irq[], guest_irq_eoi[], guest_nops[], guest_nops_1[];
extern const char guest_sti[], guest_sti_after[];
extern const char guest_npf_plain[], guest_npf_plain_load[];
extern const char guest_movss_npf[], guest_movss_load[], guest_movss_after[];
extern const char guest_sti_npf[], guest_sti_load[], guest_sti_npf_after[];
extern const char guest_phys[], guest_phys_after[];
extern const char guest_inj_handler[];

asm(".pushsection .text\n"
    ".code32\n"
    "guest_irq_eoi:\n"
    "	movl $0, 0xfee000b0\n"		/* APIC EOI */
    "guest_irq:\n"
    "	movl (%esp), %ecx\n"
    "	movl %ecx, irq_rip\n"
    "	vmmcall\n"
    "	hlt\n"
    "guest_nops:\n"
    "	nop\n"
    "guest_nops_1:\n"
    "	nop\n"
    "	nop\n"
    "	vmmcall\n"
    "guest_sti:\n"
    "	sti\n"
    "	nop\n"
    "guest_sti_after:\n"
    "	nop\n"
    "	vmmcall\n"
    "guest_npf_plain:\n"
    "	nop\n"
    "guest_npf_plain_load:\n"
    "	movl " __stringify(NPF_ADDR) ", %ebx\n"
    "	vmmcall\n"
    "guest_movss_npf:\n"
    "	movl %ss, %ecx\n"
    "	movl %ecx, %ss\n"
    "guest_movss_load:\n"
    "	movl " __stringify(NPF_ADDR) ", %ebx\n"
    "guest_movss_after:\n"
    "	nop\n"
    "	vmmcall\n"
    "guest_sti_npf:\n"
    "	sti\n"
    "guest_sti_load:\n"
    "	movl " __stringify(NPF_ADDR) ", %ebx\n"
    "guest_sti_npf_after:\n"
    "	nop\n"
    "	vmmcall\n"
    "guest_inj_handler:\n"
    "	nop\n"
    "	nop\n"
    "	vmmcall\n"
    "guest_phys:\n"
    "	movl $0x1ff, 0xfee000f0\n"	/* APIC SVR: enabled */
    "	movl $0x44000 + " __stringify(APIC_VECTOR) ", 0xfee00300\n"
    "	sti\n"				/* ICR: fixed, to self */
    "	nop\n"
    "guest_phys_after:\n"
    "	nop\n"
    "	vmmcall\n"
    ".code64\n"
    ".popsection");

/* A 32-bit interrupt (0xe) or trap (0xf) gate, selector 0x18 (boot.S). */
static uint64_t idt_gate(const char *handler, unsigned int type)
{
	uint64_t h = (uint64_t)handler;

	return (h & 0xffff) | (0x18ull << 16) |
	       ((0x8000ull | type << 8) << 32) | ((h & 0xffff0000ull) << 32);
}

static void idt_init(void)
{
	memset(guest_idt, 0, sizeof(guest_idt));
	guest_idt[IRQ_VECTOR] = idt_gate(guest_irq, 0xe);
	guest_idt[APIC_VECTOR] = idt_gate(guest_irq_eoi, 0xe);
	guest_idt[INJ_VECTOR] = idt_gate(guest_inj_handler, 0xf);
}

/* Nested tables identity-mapping the first GiB with 2 MiB user pages. */
static void npt_init(bool map_npf_addr)
{
	int i;

	memset(npt_pml4, 0, sizeof(npt_pml4));
	memset(npt_pdpt, 0, sizeof(npt_pdpt));
	npt_pml4[0] = (uint64_t)npt_pdpt | PTE_P | PTE_RW | PTE_US;
	npt_pdpt[0] = (uint64_t)npt_pd | PTE_P | PTE_RW | PTE_US;
	for (i = 0; i < 512; i++)
		npt_pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_RW | PTE_US |
			    PTE_PS;
	if (!map_npf_addr)
		npt_pd[NPF_ADDR >> 21] = 0;
}

/* A guest at @rip with its IDT, IF as given, optionally a pending V_IRQ. */
static void guest_init(const char *rip, bool if_set, bool virq, uint64_t ncr3)
{
	vmcb_init(rip, ncr3);
	vmcb_w32(VMCB_IDTR + 4, sizeof(guest_idt) - 1);
	vmcb_w64(VMCB_IDTR + 8, (uint64_t)guest_idt);
	vmcb_w64(VMCB_RFLAGS, 0x2 | (if_set ? RFLAGS_IF : 0));
	if (virq) {
		vmcb_w32(VMCB_INT_CTL, V_IRQ | V_INTR_PRIO(15) | V_IGN_TPR |
			 V_INTR_MASKING);
		vmcb_w32(VMCB_INT_VECTOR, IRQ_VECTOR);
	}
	irq_rip = 0;
}

/* VMRUN with the host's IF set by the STI just before it, GIF clear. */
static uint64_t svm_run_sti(void)
{
	asm volatile("clgi\n\t"
		     "sti\n\t"
		     "vmrun\n\t"
		     "cli\n\t"
		     "stgi"
		     : : "a" ((uint64_t)vmcb)
		     : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
		       "r11", "r12", "r13", "r14", "r15", "memory", "cc");
	return vmcb_r64(VMCB_EXITCODE);
}

static void check_irq(const char *what, uint64_t code, const char *want)
{
	tap_result(code == SVM_EXIT_VMMCALL && irq_rip == (uint64_t)want,
		   "%s: EXITCODE 0x%lx, interrupt returns to 0x%x "
		   "(want 0x81, 0x%lx)", what, code, irq_rip, (uint64_t)want);
}

static void check_npf(const char *what, uint64_t code, const char *rip,
		      uint32_t want_shadow)
{
	uint32_t shadow = *(volatile uint32_t *)(vmcb + VMCB_INT_STATE);

	tap_result(code == SVM_EXIT_NPF && vmcb_r64(VMCB_RIP) == (uint64_t)rip &&
		   (shadow & INTERRUPT_SHADOW) == want_shadow,
		   "%s: EXITCODE 0x%lx RIP 0x%lx INTERRUPT_SHADOW %u "
		   "(want 0x400 0x%lx %u)", what, code, vmcb_r64(VMCB_RIP),
		   shadow & INTERRUPT_SHADOW, (uint64_t)rip, want_shadow);
}

/* Resume a guest stopped by #NPF with its page mapped and a V_IRQ. */
static uint64_t resume_with_virq(void)
{
	npt_pd[NPF_ADDR >> 21] = NPF_ADDR | PTE_P | PTE_RW | PTE_US | PTE_PS;
	vmcb_w32(VMCB_INT_CTL, V_IRQ | V_INTR_PRIO(15) | V_IGN_TPR |
		 V_INTR_MASKING);
	vmcb_w32(VMCB_INT_VECTOR, IRQ_VECTOR);
	irq_rip = 0;
	return svm_run();
}

int main(void)
{
	uint64_t code;

	svm_require(SVM_FEAT_NPT);
	tap_plan(12);
	svm_enable();
	idt_init();
	/* Mask the 8259s: the host runs some guests with IF set. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);

	guest_init(guest_nops, true, true, 0);
	check_irq("V_IRQ, guest IF set", svm_run(), guest_nops);

	guest_init(guest_sti, false, true, 0);
	check_irq("V_IRQ, STI", svm_run(), guest_sti_after);

	guest_init(guest_sti, false, true, 0);
	vmcb_w32(VMCB_INTERCEPT_MISC1, MISC1_HLT | MISC1_SHUTDOWN |
		 MISC1_VINTR);
	code = svm_run();
	tap_result(code == SVM_EXIT_VINTR &&
		   vmcb_r64(VMCB_RIP) == (uint64_t)guest_sti_after,
		   "VINTR intercept, STI: EXITCODE 0x%lx RIP 0x%lx "
		   "(want 0x64 0x%lx)", code, vmcb_r64(VMCB_RIP),
		   (uint64_t)guest_sti_after);

	guest_init(guest_nops, true, true, 0);
	vmcb_w32(VMCB_INT_STATE, INTERRUPT_SHADOW);
	check_irq("V_IRQ, VMRUN with INTERRUPT_SHADOW", svm_run(),
		  guest_nops_1);

	guest_init(guest_nops, true, true, 0);
	check_irq("V_IRQ, host STI before VMRUN", svm_run_sti(), guest_nops);

	npt_init(false);
	guest_init(guest_npf_plain, true, false, (uint64_t)npt_pml4);
	vmcb_w32(VMCB_INT_STATE, INTERRUPT_SHADOW);
	check_npf("#NPF outside a shadow", svm_run(), guest_npf_plain_load, 0);

	npt_init(false);
	guest_init(guest_movss_npf, true, false, (uint64_t)npt_pml4);
	check_npf("#NPF after MOV SS", svm_run(), guest_movss_load, 1);
	check_irq("V_IRQ, resumed in the MOV SS shadow", resume_with_virq(),
		  guest_movss_after);

	npt_init(false);
	guest_init(guest_sti_npf, false, true, (uint64_t)npt_pml4);
	check_npf("#NPF after STI, V_IRQ pending", svm_run(), guest_sti_load,
		  1);
	check_irq("V_IRQ, resumed in the STI shadow", resume_with_virq(),
		  guest_sti_npf_after);

	guest_init(guest_phys, false, false, 0);
	check_irq("physical interrupt, STI", svm_run(), guest_phys_after);

	guest_init(guest_nops, true, true, 0);
	vmcb_w32(VMCB_INT_STATE, INTERRUPT_SHADOW);
	vmcb_w32(VMCB_EVENTINJ, EVENTINJ_VALID | INJ_VECTOR);
	check_irq("V_IRQ, EVENTINJ with INTERRUPT_SHADOW", svm_run(),
		  guest_inj_handler);

	return tap_exit_status();
}
