// SPDX-License-Identifier: GPL-2.0-only
/*
 * dseg_dirty_log_race_test
 *
 * A VMM direct segment must never be on while dirty logging is on for
 * memory it maps: the segment's accesses skip the nested page table, and
 * with it the write faults that dirty logging relies on, so live
 * migration would lose the guest's writes.
 *
 * Turning dirty logging on switches a segment off in the memslot commit
 * hook.  KVM_X86_DSEG_VMM_ESCAPE switches the segment off and on again,
 * and KVM_X86_DSEG_VMM_ENABLE pins the range before it switches it on;
 * a memslot change does not bump mmu_invalidate_seq, so either could
 * switch the segment on over a memslot that dirty logging started on in
 * between.
 *
 * One thread keeps a two-page segment on: it escapes the second page
 * again and again, and enables the segment anew whenever it is off.  The
 * main thread waits for the segment to be on, turns dirty logging on for
 * the memslot and off again, round after round, and while
 * it is on reads the segment's size (the VM statistic dseg_vmm_pages,
 * which is 0 while the segment is off) and its escapes (dseg_vmm_escapes)
 * several times.  The segment must never be on with a page that it maps
 * directly: an escaped page goes through nested paging.  (An enable that
 * races with dirty logging being turned off can escape both pages, and
 * such a segment may be on.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "mmuvirt_util.h"

#ifndef KVM_CAP_X86_DIRECT_SEGMENT
#error "build against the patched kernel's headers (KVM_CAP_X86_DIRECT_SEGMENT)"
#endif

#define SLOT_SEG	10
#define GPA_SEG		0x40000000UL
#define PAGE		4096UL
#define SEG_PAGES	2
#define ROUNDS		2000
#define READS		8
#define WAIT		1000
#define ESCAPES		64

static struct kvm_vm *vm;
static volatile bool stop;
static unsigned long escapes, enables, enable_errors;

static uint64_t seg_pages(void)
{
	return vm_get_stat(vm, "dseg_vmm_pages");
}

/* How many pages the segment maps directly, if it is on. */
static uint64_t seg_direct_pages(void)
{
	uint64_t pages = seg_pages();
	uint64_t escapes = vm_get_stat(vm, "dseg_vmm_escapes");

	if (!pages || !seg_pages() || escapes >= pages)
		return 0;
	return pages - escapes;
}

/* Keep the segment on, switching it off and on all the time. */
static void *escaper(void *arg)
{
	int i, r;

	while (!stop) {
		if (!seg_direct_pages()) {
			r = dseg_enable_cap(vm, KVM_X86_DSEG_VMM_ENABLE,
					    GPA_SEG, SEG_PAGES * PAGE);
			enables += !r;
			enable_errors += !!r;
		}
		/* Back to back, so that one is under way when logging starts */
		for (i = 0; i < ESCAPES && !stop; i++) {
			r = dseg_enable_cap(vm, KVM_X86_DSEG_VMM_ESCAPE,
					    GPA_SEG + PAGE, 0);
			escapes += !r;
		}
	}
	return NULL;
}

int main(int argc, char *argv[])
{
	unsigned long round, on_while_logging = 0, on_rounds = 0;
	pthread_t thread;
	uint64_t pages;
	int i, r;

	ksft_print_header();
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_X86_DIRECT_SEGMENT) &
		     KVM_X86_DSEG_VMM);
	ksft_set_plan(1);

	vm = vm_create_barebones();
	vm_agile_off(vm);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, GPA_SEG,
				    SLOT_SEG, SEG_PAGES, 0);
	r = dseg_enable_cap(vm, KVM_X86_DSEG_VMM_ENABLE, GPA_SEG,
			    SEG_PAGES * PAGE);
	TEST_ASSERT(!r, "KVM_X86_DSEG_VMM_ENABLE of %d pages: %d",
		    SEG_PAGES, r);
	pages = seg_pages();
	TEST_ASSERT(pages == SEG_PAGES, "dseg_vmm_pages %lu, wanted %d",
		    pages, SEG_PAGES);

	pthread_create(&thread, NULL, escaper, NULL);
	for (round = 0; round < ROUNDS; round++) {
		/* Start each round with the segment on, if the escaper can. */
		for (i = 0; i < WAIT && !seg_direct_pages(); i++)
			usleep(10);
		on_rounds += i < WAIT;
		vm_mem_region_set_flags(vm, SLOT_SEG, KVM_MEM_LOG_DIRTY_PAGES);
		for (i = 0; i < READS; i++) {
			pages = seg_direct_pages();
			if (pages) {
				on_while_logging++;
				if (on_while_logging <= 3)
					ksft_print_msg("round %lu read %d: segment on with dirty logging on, mapping %lu pages directly\n",
						       round, i, pages);
			}
			sched_yield();
		}
		vm_mem_region_set_flags(vm, SLOT_SEG, 0);
	}
	stop = true;
	pthread_join(thread, NULL);

	ksft_print_msg("%d rounds, %lu of them with the segment on at the start: %lu escapes, %lu enables (%lu failed)\n",
		       ROUNDS, on_rounds, escapes, enables, enable_errors);
	/* A test that never got the segment on proves nothing. */
	TEST_ASSERT(on_rounds >= ROUNDS / 10,
		    "the segment was on at the start of %lu of %d rounds only",
		    on_rounds, ROUNDS);
	ksft_test_result(!on_while_logging,
			 "segment never maps a page directly with dirty logging on: %lu of %d reads saw it do so\n",
			 on_while_logging, ROUNDS * READS);
	kvm_vm_free(vm);
	ksft_finished();
}
