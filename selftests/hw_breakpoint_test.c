// SPDX-License-Identifier: GPL-2.0-only
/*
 * hw_breakpoint_test
 *
 * Hardware breakpoints that the host gives the guest (KVM_SET_DEBUGREGS)
 * fire in the guest: an execution breakpoint in DR0 and a write watchpoint
 * in DR1, each delivered to the guest's #DB handler with the matching
 * B0/B1 bit in DR6.
 *
 * KVM writes DR0-DR3 while the host's DR7 disables them and hands the
 * guest's DR7 to the CPU in the VMCB's save area.  QEMU 7.2's TCG loaded
 * that DR7 on VMRUN (and the host's on #VMEXIT) without arming the
 * breakpoints it enables, so they never fired; qemu-patches/ fixes it.
 */
#include <stdio.h>
#include <string.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "mmuvirt_util.h"

#define DR6_B0		BIT_ULL(0)
#define DR6_B1		BIT_ULL(1)
#define DR7_FIXED	0x400ull
#define DR7_L0		BIT_ULL(0)
#define DR7_L1		BIT_ULL(2)
/* DR1 breaks on 8-byte writes: R/W1 = 01, LEN1 = 10. */
#define DR7_DR1_WRITE8	((1ull << 20) | (2ull << 22))

extern char bp_target[];
static volatile uint64_t watched;
static volatile uint64_t db_count, db_dr6, db_rip;

static void db_handler(struct ex_regs *regs)
{
	uint64_t dr6;

	asm volatile("mov %%dr6, %0" : "=r" (dr6));
	db_count++;
	db_dr6 = dr6;
	db_rip = regs->rip;
	/* Disarm, so that a faulting instruction can run when we return. */
	asm volatile("mov %0, %%dr7" : : "r" (DR7_FIXED));
	asm volatile("mov %0, %%dr6" : : "r" (0xffff0ff0ul));
}

static void guest_code(void)
{
	/* The host arms DR0 on bp_target: a fault, before it runs. */
	GUEST_SYNC(0);
	asm volatile("nop\n"
		     "bp_target:\n\t"
		     "nop\n\t");
	GUEST_SYNC_ARGS(1, db_count, db_dr6, db_rip, 0);

	/* The host arms DR1 on writes to watched: a trap, after the write. */
	db_count = 0;
	GUEST_SYNC(0);
	watched = 42;
	GUEST_SYNC_ARGS(2, db_count, db_dr6, watched, 0);
	GUEST_DONE();
}

/* Run to the guest's next ucall, which must be SYNC @stage. */
static void run_to_stage(struct kvm_vcpu *vcpu, struct ucall *uc,
			 uint64_t stage)
{
	uint64_t cmd = vcpu_run_to_ucall(vcpu, uc);

	TEST_ASSERT(cmd == UCALL_SYNC && uc->args[1] == stage,
		    "ucall %lu stage %lu, wanted SYNC %lu",
		    cmd, uc->args[1], stage);
}

static void set_breakpoint(struct kvm_vcpu *vcpu, int reg, uint64_t addr,
			   uint64_t dr7)
{
	struct kvm_debugregs dbg;

	memset(&dbg, 0, sizeof(dbg));
	vcpu_debugregs_get(vcpu, &dbg);
	dbg.db[reg] = addr;
	dbg.dr7 = DR7_FIXED | dr7;
	vcpu_debugregs_set(vcpu, &dbg);
}

int main(int argc, char *argv[])
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	uint64_t cmd;

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_DEBUGREGS));

	ksft_print_header();
	ksft_set_plan(2);

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	vm_init_descriptor_tables(vm);
	vcpu_init_descriptor_tables(vcpu);
	vm_install_exception_handler(vm, DB_VECTOR, db_handler);

	run_to_stage(vcpu, &uc, 0);
	set_breakpoint(vcpu, 0, (uint64_t)bp_target, DR7_L0);
	run_to_stage(vcpu, &uc, 1);
	TEST_ASSERT(uc.args[2] == 1 && (uc.args[3] & DR6_B0) &&
		    uc.args[4] == (uint64_t)bp_target,
		    "execution breakpoint: %lu #DB, DR6 0x%lx, at 0x%lx; wanted 1, B0, at 0x%lx",
		    uc.args[2], uc.args[3], uc.args[4], (uint64_t)bp_target);
	ksft_test_result_pass("DR0 execution breakpoint (DR6 0x%lx)\n",
			      uc.args[3]);

	run_to_stage(vcpu, &uc, 0);
	set_breakpoint(vcpu, 1, (uint64_t)&watched, DR7_L1 | DR7_DR1_WRITE8);
	run_to_stage(vcpu, &uc, 2);
	TEST_ASSERT(uc.args[2] == 1 && (uc.args[3] & DR6_B1) && uc.args[4] == 42,
		    "write watchpoint: %lu #DB, DR6 0x%lx, value %lu; wanted 1, B1, 42",
		    uc.args[2], uc.args[3], uc.args[4]);
	ksft_test_result_pass("DR1 write watchpoint (DR6 0x%lx)\n", uc.args[3]);

	cmd = vcpu_run_to_ucall(vcpu, &uc);
	TEST_ASSERT(cmd == UCALL_DONE, "ucall %lu, wanted DONE", cmd);
	kvm_vm_free(vm);
	ksft_exit_pass();
}
