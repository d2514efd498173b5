// SPDX-License-Identifier: GPL-2.0-only
/*
 * rsvd_pf_errcode_test
 *
 * A page fault caused by a reserved bit in a present paging-structure
 * entry reports P and RSVD in its error code (AMD APM vol. 2,
 * "Page-Fault Error Code"): 0x9 for a read, 0xb for a write.
 *
 * With nested paging the guest's #PF comes straight from the emulated
 * CPU's walker, which QEMU 7.2 got wrong (RSVD without P: 0x8 and 0xa);
 * qemu-patches/ fixes it.  With shadow paging KVM intercepts the fault
 * and builds the error code itself, so the same test checks KVM.
 */
#include <stdio.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "mmuvirt_util.h"

#define PFERR_P		BIT_ULL(0)
#define PFERR_W		BIT_ULL(1)
#define PFERR_RSVD	BIT_ULL(3)

#define RSVD_BIT	BIT_ULL(51)

enum { STAGE_FAULT = 1, STAGE_WRITE = 2 };

static void pf_handler(struct ex_regs *regs)
{
	uint64_t cr2;

	asm volatile("mov %%cr2, %0" : "=r" (cr2));
	/* The host clears the reserved bit before letting us retry. */
	GUEST_SYNC_ARGS(STAGE_FAULT, regs->error_code, cr2, 0, 0);
}

static void guest_code(uint64_t gva)
{
	volatile uint64_t *p = (volatile uint64_t *)gva;

	(void)*p;
	GUEST_SYNC(STAGE_WRITE);
	/* The read above may have cached the translation: drop it. */
	asm volatile("invlpg (%0)" : : "r" (gva) : "memory");
	*p = 0x1234;
	GUEST_DONE();
}

/* Expect a fault on @gva with @want, then clear the reserved bit. */
static void expect_fault(struct kvm_vm *vm, struct kvm_vcpu *vcpu,
			 uint64_t gva, uint64_t want, const char *access)
{
	struct ucall uc;
	uint64_t cmd = vcpu_run_to_ucall(vcpu, &uc);
	uint64_t pte;

	TEST_ASSERT(cmd == UCALL_SYNC && uc.args[1] == STAGE_FAULT,
		    "%s: no page fault (ucall %lu, stage %lu)",
		    access, cmd, uc.args[1]);
	TEST_ASSERT(uc.args[3] == gva, "%s: fault at 0x%lx, wanted 0x%lx",
		    access, uc.args[3], gva);
	TEST_ASSERT(uc.args[2] == want,
		    "%s: error code 0x%lx, wanted 0x%lx (P|RSVD%s)",
		    access, uc.args[2], want, want & PFERR_W ? "|W" : "");
	ksft_test_result_pass("%s: error code 0x%lx\n", access, uc.args[2]);

	pte = vm_get_page_table_entry(vm, vcpu, gva);
	vm_set_page_table_entry(vm, vcpu, gva, pte & ~RSVD_BIT);
}

int main(int argc, char *argv[])
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	uint64_t gva, pte, cmd;

	ksft_print_header();
	ksft_set_plan(2);

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	TEST_REQUIRE(vm->pa_bits < 52);
	vm_init_descriptor_tables(vm);
	vcpu_init_descriptor_tables(vcpu);
	vm_install_exception_handler(vm, PF_VECTOR, pf_handler);

	gva = vm_vaddr_alloc_page(vm);
	vcpu_args_set(vcpu, 1, gva);

	pte = vm_get_page_table_entry(vm, vcpu, gva);
	vm_set_page_table_entry(vm, vcpu, gva, pte | RSVD_BIT);
	expect_fault(vm, vcpu, gva, PFERR_P | PFERR_RSVD, "read");

	cmd = vcpu_run_to_ucall(vcpu, &uc);
	TEST_ASSERT(cmd == UCALL_SYNC && uc.args[1] == STAGE_WRITE,
		    "read retry: ucall %lu, stage %lu", cmd, uc.args[1]);
	pte = vm_get_page_table_entry(vm, vcpu, gva);
	vm_set_page_table_entry(vm, vcpu, gva, pte | RSVD_BIT);
	expect_fault(vm, vcpu, gva, PFERR_P | PFERR_W | PFERR_RSVD, "write");

	cmd = vcpu_run_to_ucall(vcpu, &uc);
	TEST_ASSERT(cmd == UCALL_DONE, "write retry: ucall %lu", cmd);

	kvm_vm_free(vm);
	ksft_exit_pass();
}
