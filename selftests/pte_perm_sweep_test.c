// SPDX-License-Identifier: GPL-2.0-only
/*
 * pte_perm_sweep_test
 *
 * Every combination of the permission bits of one paging-structure entry,
 * at every level, under every paging mode the guest can switch to on its
 * own.  The guest owns the whole translation of TVA (a PML4 slot of its
 * own, and a PDPT, PD and PT that it maps at TBL_VA so that it can
 * rewrite them).  For each level it sets the entry of that level to each
 * of the 128 combinations of P, R/W, U/S, A, D, PS and NX, with the
 * entries of the other levels fully permissive, and reads, writes and
 * fetches through TVA (reads and writes also through KVM's emulator with
 * the forced-emulation prefix when kvm.force_emulation_prefix is set).
 * Each access must fault or not, with the #PF error code and CR2, as an
 * AMD64 CPU's walk gives at CPL 0; a read must see the frame's last
 * written value.
 *
 * Between sweeps the guest itself flips CR0.WP, CR4.SMEP, CR4.SMAP and
 * EFER.NX, each with a write of its own, so that KVM sees every kind of
 * paging-mode change a guest can make without the host's help; CR0.WP
 * alone changes first.  An agile VM's vCPU runs on its shadow table only
 * with CR0.WP and EFER.NX set, so these flips move the vCPU between the
 * shadow MMU and the TDP MMU (kvm_mmu_want_agile()).
 *
 * The sweep runs in a VM of kvm_amd's default mode (nested paging, shadow
 * paging, or with kvm_amd.agile=1 agile paging) and, where KVM offers
 * KVM_CAP_X86_AGILE_PAGING, in a VM with agile paging turned on.  A host
 * that oopses fails the test by not finishing it; make test also scans the
 * L1 console.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "mmuvirt_util.h"
#include "guest_pf.h"

#define PAGE		4096UL

#define PTE_P		(1UL << 0)
#define PTE_W		(1UL << 1)
#define PTE_U		(1UL << 2)
#define PTE_A		(1UL << 5)
#define PTE_D		(1UL << 6)
#define PTE_PS		(1UL << 7)
#define PTE_NX		(1UL << 63)
#define PTE_ADDR	0x000ffffffffff000UL

#define PFEC_P		(1UL << 0)
#define PFEC_W		(1UL << 1)
#define PFEC_RSVD	(1UL << 3)
#define PFEC_I		(1UL << 4)

/* The bits the sweep combines, bit i of a combination being SWEEP_BIT(i) */
static const uint64_t sweep_bits[] = {
	PTE_P, PTE_W, PTE_U, PTE_A, PTE_D, PTE_PS, PTE_NX,
};
#define NR_SWEEP_BITS	7
#define NR_COMBOS	(1 << NR_SWEEP_BITS)

/* TVA has PML4 slot 200 to itself; its leaf at any level maps FRAME_GPA. */
#define TVA		(200UL << 39)
#define TBL_VA		0x90000000UL	/* PML4, PDPT, PD and PT of TVA */
#define FRAME_GPA	0x40000000UL	/* 1 GiB aligned */
#define FRAME_SLOT	10
#define CODE_OFF	0x100

enum access { ACC_READ, ACC_WRITE, ACC_FETCH, ACC_FEP_READ, ACC_FEP_WRITE,
	      NR_ACCESSES };
static const char * const access_name[] = {
	"read", "write", "fetch", "emulated read", "emulated write",
};

/* A paging mode the guest switches to: CR0.WP, CR4.SMEP/SMAP, EFER.NX */
struct mode {
	bool wp, smep, smap, nx;
};

/*
 * The order matters: each step changes CR0.WP alone first (the write KVM
 * handles without unloading its roots when it can), then CR4 and EFER.
 */
static const struct mode modes[] = {
	{ .wp = 1, .smep = 1, .smap = 1, .nx = 1 },
	{ .wp = 0, .smep = 1, .smap = 1, .nx = 1 },
	{ .wp = 1, .smep = 0, .smap = 0, .nx = 1 },
	{ .wp = 0, .smep = 0, .smap = 0, .nx = 0 },
	{ .wp = 1, .smep = 1, .smap = 0, .nx = 0 },
	{ .wp = 1, .smep = 0, .smap = 1, .nx = 1 },
	{ .wp = 0, .smep = 0, .smap = 1, .nx = 1 },
	{ .wp = 1, .smep = 1, .smap = 1, .nx = 1 },
};
#define NR_MODES	ARRAY_SIZE(modes)

/* The first mismatch of a mode, for the host's message */
struct mismatch {
	uint64_t count;
	uint64_t level, combo, access;
	uint64_t got_vec, got_ec, got_cr2, got_val;
	uint64_t want_ec, want_val;
};

/* Shared with the host */
static struct mismatch result[NR_MODES];
static uint64_t checks[NR_MODES];
static bool has_smep, has_smap, has_gbpages, use_fep;
static uint64_t tbl_gpa[4];	/* PDPT, PD, PT (indices 1..3); [0] unused */

static uint64_t frame_val;	/* what the frame at FRAME_GPA holds now */

#define PML4E	((volatile uint64_t *)TBL_VA + ((TVA >> 39) & 511))
#define PDPTE	((volatile uint64_t *)(TBL_VA + PAGE) + ((TVA >> 30) & 511))
#define PDE	((volatile uint64_t *)(TBL_VA + 2 * PAGE) + ((TVA >> 21) & 511))
#define PTE	((volatile uint64_t *)(TBL_VA + 3 * PAGE) + ((TVA >> 12) & 511))

static uint64_t combo_bits(int combo)
{
	uint64_t bits = 0;
	int i;

	for (i = 0; i < NR_SWEEP_BITS; i++)
		if (combo & (1 << i))
			bits |= sweep_bits[i];
	return bits;
}

static void write_cr0(uint64_t val)
{
	asm volatile("mov %0, %%cr0" : : "r"(val) : "memory");
}

/* An access with pf_handler() to resume after a fault (guest_pf.h) */
#define SAFE_ACCESS(insn, outputs, inputs)				\
	asm volatile("mov $" __stringify(KVM_EXCEPTION_MAGIC) ", %%r9\n\t"\
		     "lea 1f(%%rip), %%r11\n\t"				\
		     insn "\n\t"					\
		     "xor %%r9d, %%r9d\n\t"				\
		     "1: movb %%r9b, %[vec]\n\t"			\
		     : [vec] "=qm"(vec), outputs			\
		     : inputs						\
		     : "r9", "r10", "r11", "memory")

static uint8_t do_access(enum access acc, uint64_t *val)
{
	uint64_t v = *val;
	uint8_t vec;

	switch (acc) {
	case ACC_READ:
		SAFE_ACCESS("movq (%[p]), %[v]", [v] "+r"(v), [p] "r"(TVA));
		break;
	case ACC_WRITE:
		SAFE_ACCESS("movq %[v], (%[p])", [v] "+r"(v), [p] "r"(TVA));
		break;
	case ACC_FEP_READ:
		SAFE_ACCESS("ud2; .byte 'k', 'v', 'm'; movq (%[p]), %[v]",
			    [v] "+r"(v), [p] "r"(TVA));
		break;
	case ACC_FEP_WRITE:
		SAFE_ACCESS("ud2; .byte 'k', 'v', 'm'; movq %[v], (%[p])",
			    [v] "+r"(v), [p] "r"(TVA));
		break;
	case ACC_FETCH:
		vec = exec_safe(TVA + CODE_OFF);
		break;
	default:
		GUEST_ASSERT_2(0, acc, 0);
	}
	*val = v;
	return vec;
}

/*
 * The entries of TVA's walk when @level's entry has @bits: index 4 is the
 * PML4E, 1 the PTE.  A PS bit at the PDPTE or PDE makes that entry the
 * leaf, mapping FRAME_GPA; every other entry is P, R/W, U/S and A.
 */
static void walk_entries(int level, uint64_t bits, uint64_t e[5])
{
	const uint64_t full = PTE_P | PTE_W | PTE_U | PTE_A;
	int l;

	for (l = 4; l >= 1; l--)
		e[l] = l == level ? bits : full;
	e[4] |= tbl_gpa[1];
	e[3] |= (e[3] & PTE_PS) ? FRAME_GPA : tbl_gpa[2];
	e[2] |= (e[2] & PTE_PS) ? FRAME_GPA : tbl_gpa[3];
	e[1] |= FRAME_GPA | PTE_D;
	if (level == 1 && !(bits & PTE_D))
		e[1] &= ~PTE_D;
}

/* In expected_pfec()'s result: the access faults, with the error code below */
#define PF_FAULTS	(1UL << 63)

/*
 * What an AMD64 CPU does for @acc at CPL 0 through the walk @e: 0 for no
 * fault, else PF_FAULTS | the #PF error code.
 */
static uint64_t expected_pfec(const struct mode *m, const uint64_t e[5],
			      enum access acc)
{
	bool write = acc == ACC_WRITE || acc == ACC_FEP_WRITE;
	bool fetch = acc == ACC_FETCH;
	bool rw = true, user = true, nx = false, rsvd = false;
	uint64_t ec;
	int l;

	ec = PF_FAULTS | (write ? PFEC_W : 0) |
	     (fetch && (m->nx || m->smep) ? PFEC_I : 0);
	for (l = 4; l >= 1; l--) {
		if (!(e[l] & PTE_P))
			return ec;
		if ((e[l] & PTE_NX) && !m->nx)
			rsvd = true;
		if (l == 4 && (e[l] & PTE_PS))
			rsvd = true;
		if (l == 3 && (e[l] & PTE_PS) && !has_gbpages)
			rsvd = true;
		if (rsvd)
			return ec | PFEC_P | PFEC_RSVD;
		rw &= !!(e[l] & PTE_W);
		user &= !!(e[l] & PTE_U);
		nx |= !!(e[l] & PTE_NX);
		if (l <= 3 && (e[l] & PTE_PS))
			break;
	}

	ec |= PFEC_P;
	if (fetch)
		return (nx || (m->smep && user)) ? ec : 0;
	if (m->smap && user)
		return ec;
	if (write && !rw && m->wp)
		return ec;
	return 0;
}

static void set_mode(const struct mode *m)
{
	uint64_t cr0 = get_cr0(), cr4 = get_cr4(), efer = rdmsr(MSR_EFER);

	/* CR0.WP first and alone: the change KVM treats specially */
	cr0 = m->wp ? cr0 | X86_CR0_WP : cr0 & ~X86_CR0_WP;
	write_cr0(cr0);

	cr4 &= ~(X86_CR4_SMEP | X86_CR4_SMAP);
	if (m->smep)
		cr4 |= X86_CR4_SMEP;
	if (m->smap)
		cr4 |= X86_CR4_SMAP;
	set_cr4(cr4);

	efer = m->nx ? efer | EFER_NX : efer & ~EFER_NX;
	wrmsr(MSR_EFER, efer);
}

static void note_mismatch(int mi, int level, int combo, enum access acc,
			  uint8_t vec, uint64_t val, uint64_t want_ec,
			  uint64_t want_val)
{
	struct mismatch *r = &result[mi];

	if (r->count++)
		return;
	r->level = level;
	r->combo = combo;
	r->access = acc;
	r->got_vec = vec;
	r->got_ec = vec ? pf_ec : 0;
	r->got_cr2 = vec ? pf_cr2 : 0;
	r->got_val = val;
	r->want_ec = want_ec;
	r->want_val = want_val;
}

static void sweep(int mi)
{
	const struct mode *m = &modes[mi];
	uint64_t e[5], want, val, addr;
	int level, combo, acc;
	uint8_t vec;

	for (level = 4; level >= 1; level--) {
		for (combo = 0; combo < NR_COMBOS; combo++) {
			walk_entries(level, combo_bits(combo), e);
			*PML4E = e[4];
			*PDPTE = e[3];
			*PDE = e[2];
			*PTE = e[1];
			invlpg(TVA);

			for (acc = 0; acc < NR_ACCESSES; acc++) {
				if (!use_fep && (acc == ACC_FEP_READ ||
						 acc == ACC_FEP_WRITE))
					continue;
				want = expected_pfec(m, e, acc);
				addr = TVA + (acc == ACC_FETCH ? CODE_OFF : 0);
				val = (acc == ACC_WRITE || acc == ACC_FEP_WRITE) ?
				      frame_val + 1 : 0;
				pf_ec = ~0UL;
				vec = do_access(acc, &val);
				checks[mi]++;

				if (!want && vec) {
					note_mismatch(mi, level, combo, acc,
						      vec, val, 0, frame_val);
				} else if (want && (vec != PF_VECTOR ||
						    pf_ec != (want & ~PF_FAULTS) ||
						    pf_cr2 != addr)) {
					note_mismatch(mi, level, combo, acc,
						      vec, val, want, frame_val);
				} else if (!want && (acc == ACC_READ ||
						     acc == ACC_FEP_READ) &&
					   val != frame_val) {
					note_mismatch(mi, level, combo, acc,
						      vec, val, 0, frame_val);
				}
				if (!vec && (acc == ACC_WRITE ||
					     acc == ACC_FEP_WRITE))
					frame_val = val;
			}
		}
	}
}

static void guest_code(void)
{
	int mi;

	for (mi = 0; mi < NR_MODES; mi++) {
		if ((modes[mi].smep && !has_smep) ||
		    (modes[mi].smap && !has_smap)) {
			GUEST_SYNC_ARGS(mi, 0, 0, 0, 0);
			continue;
		}
		set_mode(&modes[mi]);
		sweep(mi);
		GUEST_SYNC_ARGS(mi, checks[mi], result[mi].count, 0, 0);
	}
	GUEST_DONE();
}

/* The code a fetch through TVA runs */
static const uint8_t fetch_code[] = FETCH_RETURN_CODE;

#define FRAME_VAL0	0x5a5a0000c0de0000UL

enum vm_kind { VM_DEFAULT, VM_AGILE, VM_NESTED };
static const char * const vm_name[] = {
	"kvm_amd's default mode", "agile paging", "nested paging",
};

static bool read_param_bool(const char *path)
{
	char c = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return false;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == 'Y' || c == '1';
}

static struct kvm_vm *make_vm(enum vm_kind kind, struct kvm_vcpu **vcpu)
{
	struct kvm_vm *vm = vm_create(1);
	uint64_t *pml4e;
	uint8_t *frame;
	int i;

	if (kind != VM_DEFAULT)
		TEST_ASSERT(!agile_cap(vm, kind == VM_AGILE, 0, 0, 0),
			    "KVM_CAP_X86_AGILE_PAGING %d: errno %d",
			    kind == VM_AGILE, errno);
	*vcpu = vm_vcpu_add(vm, 0, guest_code);
	vm_init_descriptor_tables(vm);
	vcpu_init_descriptor_tables(*vcpu);
	vm_install_exception_handler(vm, PF_VECTOR, pf_handler);

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, FRAME_GPA,
				    FRAME_SLOT, 1, 0);
	frame = addr_gpa2hva(vm, FRAME_GPA);
	memset(frame, 0xcc, PAGE);
	*(uint64_t *)frame = FRAME_VAL0;
	memcpy(frame + CODE_OFF, fetch_code, sizeof(fetch_code));

	/*
	 * TVA's PDPT, PD and PT, linked by the guest; the PML4 and these
	 * three are mapped at TBL_VA so that the guest can rewrite them.
	 */
	for (i = 1; i <= 3; i++)
		tbl_gpa[i] = vm_alloc_page_table(vm);
	pml4e = (uint64_t *)addr_gpa2hva(vm, vm->pgd) + ((TVA >> 39) & 511);
	TEST_ASSERT(!*pml4e, "PML4 slot of TVA 0x%lx in use: 0x%lx", TVA,
		    *pml4e);
	virt_pg_map(vm, TBL_VA, vm->pgd);
	for (i = 1; i <= 3; i++)
		virt_pg_map(vm, TBL_VA + i * PAGE, tbl_gpa[i]);

	frame_val = FRAME_VAL0;
	sync_global_to_guest(vm, tbl_gpa);
	sync_global_to_guest(vm, frame_val);
	sync_global_to_guest(vm, has_smep);
	sync_global_to_guest(vm, has_smap);
	sync_global_to_guest(vm, has_gbpages);
	sync_global_to_guest(vm, use_fep);
	return vm;
}

static void mode_str(const struct mode *m, char *buf, size_t len)
{
	snprintf(buf, len, "CR0.WP=%d CR4.SMEP=%d CR4.SMAP=%d EFER.NX=%d",
		 m->wp, m->smep, m->smap, m->nx);
}

static void run_vm(enum vm_kind kind, bool agile)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = make_vm(kind, &vcpu);
	struct ucall uc;
	char ms[80];
	size_t mi;

	for (mi = 0; mi < NR_MODES; mi++) {
		const struct mismatch *r = &result[mi];

		expect_stage(vcpu, mi, &uc);
		mode_str(&modes[mi], ms, sizeof(ms));
		if ((modes[mi].smep && !has_smep) ||
		    (modes[mi].smap && !has_smap)) {
			ksft_test_result_skip("%s, %s: the CPU lacks SMEP or SMAP\n",
					      vm_name[kind], ms);
			continue;
		}
		sync_global_from_guest(vm, result);
		if (r->count) {
			char want[48] = "no #PF";

			if (r->want_ec & PF_FAULTS)
				snprintf(want, sizeof(want), "#PF error code 0x%lx",
					 r->want_ec & ~PF_FAULTS);
			ksft_print_msg("%s, %s: level %lu entry bits 0x%lx (combination 0x%lx), %s: vector %lu error code 0x%lx CR2 0x%lx value 0x%lx; want %s, value 0x%lx\n",
				       vm_name[kind], ms, r->level,
				       combo_bits(r->combo), r->combo,
				       access_name[r->access], r->got_vec,
				       r->got_ec, r->got_cr2, r->got_val,
				       want, r->want_val);
		}
		ksft_test_result(!r->count,
				 "%s, %s: %lu accesses, %lu unlike an AMD64 CPU\n",
				 vm_name[kind], ms, uc.args[2],
				 (uint64_t)uc.args[3]);
	}
	TEST_ASSERT(vcpu_run_to_ucall(vcpu, &uc) == UCALL_DONE,
		    "guest did not finish");

	/*
	 * An agile vCPU shadows the guest's tables while CR0.WP and EFER.NX
	 * are set: its first writes to them are write-protect faults.  None
	 * means the sweep never ran on agile paging's shadow table.
	 */
	ksft_print_msg("%s: mmu_pte_write %lu, mmu_shadow_zapped %lu\n",
		       vm_name[kind], vm_get_stat(vm, "mmu_pte_write"),
		       vm_get_stat(vm, "mmu_shadow_zapped"));
	if (agile)
		TEST_ASSERT(vm_get_stat(vm, "mmu_pte_write") > 0,
			    "%s: no write-protect fault on a guest page table",
			    vm_name[kind]);
	kvm_vm_free(vm);
	memset(result, 0, sizeof(result));
}

int main(int argc, char *argv[])
{
	bool agile_cap_ok = false, agile_default = false;
	enum vm_kind kinds[2];
	int nr = 0, i;

	ksft_print_header();

	has_smep = kvm_cpu_has(X86_FEATURE_SMEP);
	has_smap = kvm_cpu_has(X86_FEATURE_SMAP);
	has_gbpages = kvm_cpu_has(X86_FEATURE_GBPAGES);
	use_fep = read_param_bool("/sys/module/kvm/parameters/force_emulation_prefix");

	agile_cap_ok = kvm_check_cap(KVM_CAP_X86_AGILE_PAGING);
	if (agile_cap_ok)
		agile_default = kvm_amd_param_bool("agile");

	kinds[nr++] = VM_DEFAULT;
	if (agile_cap_ok)
		kinds[nr++] = agile_default ? VM_NESTED : VM_AGILE;

	ksft_print_msg("SMEP %d SMAP %d 1 GiB pages %d, forced emulation %s, agile paging %s\n",
		       has_smep, has_smap, has_gbpages, use_fep ? "on" : "off",
		       !agile_cap_ok ? "not offered" :
		       agile_default ? "the default" : "on request");
	ksft_set_plan(nr * NR_MODES);
	for (i = 0; i < nr; i++)
		run_vm(kinds[i], kinds[i] == VM_AGILE ||
			       (kinds[i] == VM_DEFAULT && agile_default));
	ksft_finished();
}
