// SPDX-License-Identifier: GPL-2.0-only
/*
 * tpt_test
 *
 * Translation Pass-Through in KVM (Documentation/tpt.rst; the hardware in
 * Documentation/hw/mmu-extensions.rst).  The guest builds its own TPT
 * tables: it asks KVM for the host-physical address of every page its
 * normal tables map (KVM_HC_TPT_MAP, which pins and tags them), writes a
 * GVA->HPA table for each, loads MSR_TPT_CR3 and turns TPT on
 * (KVM_HC_TPT_CTL).  From then on it runs on 1D walks of its own tables.
 *
 *   a. page-table churn with TPT on: 2000 map/touch/unmap rounds in the
 *      guest's TPT tables cost no exit, TPT stays on, the CPU counts TPT
 *      walks and no tag fault;
 *   b. a guest that maps a host frame, or a frame of a second TPT VM, gets
 *      a tag fault for every load and store: KVM counts it and turns TPT
 *      off, the access goes on through nested paging to the guest's own
 *      page, and the frames keep their contents;
 *   c. 10000 TPT hypercalls with random and bad arguments return 0, a
 *      count or an error code, and the VM goes on;
 *   d. deleting a memslot untags its frames, and destroying the VMs leaves
 *      no frame tagged (kvm.tpt_tagged_frames); the second VM, which ran
 *      beside the first all along, finds its page intact;
 *   e. TPT in the guest's SMM: the host injects an SMI (KVM_SMI) while the
 *      guest runs on its TPT tables.  The SMM handler, as OVMF's does,
 *      enters long mode with page tables of its own in SMRAM and reads a
 *      VA that they map to an SMRAM page holding SMM_MAGIC and that the
 *      guest's TPT tables map to a page holding OS_MAGIC; it must read
 *      SMM_MAGIC (its walks use CR3, not TPT_CR3) without a tag fault.
 *      After RSM TPT is on again and the guest reads the VA through its
 *      TPT tables.  (It runs before d, which destroys the VMs.)
 *   f. a frame the host took back never comes back for another page of
 *      the same VM while the guest may still hold it: 100 rounds of the
 *      guest mapping page A by its frame P in its TPT tables, the host
 *      dropping A (MADV_DONTNEED), and the guest getting the frame of
 *      page B, untouched so far, and reading through its stale entry.  KVM
 *      keeps P pinned until the guest releases it (KVM_TPT_CTL_RELEASE),
 *      so B never gets P and the read takes a tag fault every time.
 *
 * Under shadow paging KVM must not offer KVM_CAP_X86_TPT: the test checks
 * that and skips the rest.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/kvm_para.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "mmuvirt_util.h"
#include "guest_pf.h"
#include "mmucnt.h"
#include "msr_dev.h"

#ifndef KVM_CAP_X86_TPT
#error "build against the patched kernel's headers (KVM_CAP_X86_TPT)"
#endif

#define PAGE		4096UL
#define PTE_P		(1UL << 0)
#define PTE_W		(1UL << 1)
#define PTE_PS		(1UL << 7)
#define PTE_ADDR	0x000ffffffffff000UL

#define MAX_MAPS	4096
#define POOL_PAGES	64
#define NR_FOREIGN	2
#define CHURN		2000
#define FUZZ		10000
#define SLOT_EXTRA	10
#define GPA_EXTRA	0x80000000UL
#define EXTRA_PAGES	16
#define SLOT_ALIAS	11
#define GPA_ALIAS	0x90000000UL
#define ALIAS_ROUNDS	100
/*
 * A guest-virtual address that only the TPT tables ever map (no suffix:
 * the SMM handler's assembly uses it too)
 */
#define GVA_SCRATCH	0x7f0000000000

/*
 * e: SMRAM, in KVM's SMM address space (1) only, as smm_test has it.
 * SMBASE is its start: the handler runs at SMBASE + 0x8000 and KVM saves
 * the state at SMBASE + 0xfe00.  Below the handler are the handler's own
 * page tables: 2 MiB identity pages for the 2 MiB around SMRAM, and
 * GVA_SCRATCH -> SMM_DATA, which holds SMM_MAGIC.
 */
#define SMRAM_GPA	0x1000000
#define SMRAM_SLOT	((1 << 16) | 1)
#define SMRAM_PAGES	16
#define SMM_PML4	(SMRAM_GPA + 0x0000)
#define SMM_PDPT_LO	(SMRAM_GPA + 0x1000)
#define SMM_PD_LO	(SMRAM_GPA + 0x2000)
#define SMM_PDPT_HI	(SMRAM_GPA + 0x3000)
#define SMM_PD_HI	(SMRAM_GPA + 0x4000)
#define SMM_PT_HI	(SMRAM_GPA + 0x5000)
#define SMM_DATA	(SMRAM_GPA + 0x6000)
#define SMM_CODE	(SMRAM_GPA + 0x8000)
#define SMM_PORT	0xe

#define DECOY		0xdec0dec0dec0dec0UL
#define SECRET		0x5ec2e75ec2e75ec2UL
#define SMM_MAGIC	0x5a5a0000000005a5UL
#define OS_MAGIC	0x0500000000000050UL

enum { STAGE_BUILT = 1, STAGE_ON, STAGE_CHURN, STAGE_FAULT, STAGE_FUZZ,
       STAGE_SMI, STAGE_RSM, STAGE_ALIAS_MAPPED, STAGE_ALIAS_READ,
       STAGE_EXTRA, STAGE_DONE };

struct map {
	uint64_t gva, gpa;
};

/* Where things are in the guest, filled in by the host. */
struct layout {
	uint64_t nr_maps, maps_gva;
	uint64_t pool_gva, pool_gpa;
	uint64_t buf_gva, buf_gpa;
	uint64_t data_gva, data_gpa;
	uint64_t decoy_gva, decoy_gpa;
	uint64_t smm_gva, smm_gpa;	/* a copy of the SMM handler */
	uint64_t foreign[NR_FOREIGN];	/* frames of others, by hPA */
	uint64_t seed;
};

static struct layout lay;
static uint64_t pool_hpa[POOL_PAGES];
static unsigned int pool_used;

static uint64_t tpt_map(uint64_t gpa, uint64_t nr)
{
	return kvm_hypercall(KVM_HC_TPT_MAP, gpa, nr, 0, 0);
}

static uint64_t tpt_ctl(uint64_t op)
{
	return kvm_hypercall(KVM_HC_TPT_CTL, op, 0, 0, 0);
}

static uint64_t *pool_page(unsigned int i)
{
	return (uint64_t *)(lay.pool_gva + i * PAGE);
}

/* The pool page whose frame is at @hpa, to write a table through it. */
static uint64_t *table_at(uint64_t hpa)
{
	unsigned int i;

	for (i = 0; i < pool_used; i++)
		if (pool_hpa[i] == hpa)
			return pool_page(i);
	GUEST_ASSERT_2(0, hpa, pool_used);
	return NULL;
}

static uint64_t table_alloc(void)
{
	GUEST_ASSERT_2(pool_used < POOL_PAGES, pool_used, POOL_PAGES);
	memset(pool_page(pool_used), 0, PAGE);
	return pool_hpa[pool_used++];
}

/* Set the TPT leaf of @gva to @leaf, making the tables on the way. */
static void tpt_set(uint64_t root, uint64_t gva, uint64_t leaf)
{
	uint64_t *t = table_at(root);
	int level;

	for (level = 4; level > 1; level--) {
		uint64_t *e = &t[(gva >> (12 + 9 * (level - 1))) & 511];

		if (!(*e & PTE_P))
			*e = table_alloc() | PTE_P | PTE_W;
		t = table_at(*e & PTE_ADDR);
	}
	t[(gva >> 12) & 511] = leaf;
}

/*
 * Ask KVM for the frames of @nr guest-physical addresses in the buffer
 * page; each comes back as an hPA or 0.
 */
static void map_batch(uint64_t nr)
{
	uint64_t r = tpt_map(lay.buf_gpa, nr);

	GUEST_ASSERT_2((int64_t)r >= 0, r, nr);
}

static uint64_t guest_build(uint64_t *nr_gpa)
{
	uint64_t *buf = (uint64_t *)lay.buf_gva;
	struct map *maps = (struct map *)lay.maps_gva;
	uint64_t root, i, j, n, leaf, nr_hpa = 0;

	for (i = 0; i < POOL_PAGES; i++)
		buf[i] = lay.pool_gpa + i * PAGE;
	map_batch(POOL_PAGES);
	for (i = 0; i < POOL_PAGES; i++) {
		GUEST_ASSERT_2(buf[i], i, buf[i]);
		pool_hpa[i] = buf[i];
	}
	root = table_alloc();

	*nr_gpa = 0;
	for (i = 0; i < lay.nr_maps; i += n) {
		n = lay.nr_maps - i < KVM_TPT_MAP_MAX ? lay.nr_maps - i :
							KVM_TPT_MAP_MAX;
		for (j = 0; j < n; j++)
			buf[j] = maps[i + j].gpa;
		map_batch(n);
		for (j = 0; j < n; j++) {
			if (buf[j]) {
				leaf = buf[j] | PTE_P | PTE_W;
				nr_hpa++;
			} else {
				leaf = maps[i + j].gpa | PTE_P | PTE_W |
				       TPT_PAGE_GPA;
				(*nr_gpa)++;
			}
			tpt_set(root, maps[i + j].gva, leaf);
		}
	}
	return nr_hpa;
}

static uint64_t data_hpa(uint64_t gpa)
{
	uint64_t *buf = (uint64_t *)lay.buf_gva;

	buf[0] = gpa;
	map_batch(1);
	GUEST_ASSERT_1(buf[0], gpa);
	return buf[0];
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* c: random and bad hypercalls; returns how many got an error. */
static uint64_t guest_fuzz(void)
{
	uint64_t s = lay.seed, i, r, a0, a1, errors = 0;

	for (i = 0; i < FUZZ; i++) {
		a0 = xorshift(&s);
		a1 = xorshift(&s);
		switch (i % 8) {
		case 0:
			a1 = 0;			/* no entries */
			break;
		case 1:
			a1 = KVM_TPT_MAP_MAX + 1 + a1 % 1000;
			break;
		case 2:
			a0 = lay.buf_gpa + 1 + a0 % 7;	/* misaligned */
			a1 = 1;
			break;
		case 3:
			a0 = lay.buf_gpa + PAGE - 8;	/* crosses the page */
			a1 = 2 + a1 % 100;
			break;
		case 4:
			a0 = (a0 | (1UL << 45)) & ~7UL;	/* no memory there */
			a1 = 1 + a1 % KVM_TPT_MAP_MAX;
			break;
		default:
			break;
		}
		if (i % 2) {
			r = tpt_map(a0, a1);
		} else {
			r = tpt_ctl(a0 | 4);	/* 4 and up: no such op */
		}
		GUEST_ASSERT_3(r == -KVM_EINVAL || r == -KVM_EFAULT, i, a0, r);
		errors++;
	}
	/* Garbage in the entries themselves: mapped as 0, no error. */
	((uint64_t *)lay.buf_gva)[0] = 1UL << 50;
	((uint64_t *)lay.buf_gva)[1] = GPA_EXTRA + 0x40000000UL;
	r = tpt_map(lay.buf_gpa, 2);
	GUEST_ASSERT_3(r == 0 && !((uint64_t *)lay.buf_gva)[0] &&
		       !((uint64_t *)lay.buf_gva)[1], r,
		       ((uint64_t *)lay.buf_gva)[0],
		       ((uint64_t *)lay.buf_gva)[1]);
	return errors;
}

static void guest_code(void)
{
	volatile uint64_t *scratch = (volatile uint64_t *)GVA_SCRATCH;
	volatile uint64_t *decoy = (volatile uint64_t *)lay.decoy_gva;
	uint64_t *buf = (uint64_t *)lay.buf_gva;
	uint64_t root, nr_hpa, nr_gpa, dhpa, decoy_hpa, i, k, v, q;
	uint8_t vec;

	nr_hpa = guest_build(&nr_gpa);
	root = pool_hpa[0];
	GUEST_SYNC_ARGS(STAGE_BUILT, nr_hpa, nr_gpa, 0, 0);

	wrmsr(MSR_TPT_CR3, root | TPT_CR3_V);
	GUEST_ASSERT_1(tpt_ctl(KVM_TPT_CTL_ON) == 0, 0);
	q = tpt_ctl(KVM_TPT_CTL_QUERY);
	GUEST_SYNC_ARGS(STAGE_ON, q, 0, 0, 0);

	/* a: the guest's own page-table updates, with TPT on */
	dhpa = data_hpa(lay.data_gpa);
	for (i = 0; i < CHURN; i++) {
		tpt_set(root, GVA_SCRATCH, dhpa | PTE_P | PTE_W);
		invlpg(GVA_SCRATCH);
		*scratch = i;
		GUEST_ASSERT_2(*scratch == i, *scratch, i);
		tpt_set(root, GVA_SCRATCH, 0);
		invlpg(GVA_SCRATCH);
	}
	q = tpt_ctl(KVM_TPT_CTL_QUERY);
	GUEST_SYNC_ARGS(STAGE_CHURN, q, 0, 0, 0);

	/* b: frames of others, a load then a store each */
	decoy_hpa = data_hpa(lay.decoy_gpa);
	for (k = 0; k < NR_FOREIGN; k++) {
		tpt_set(root, lay.decoy_gva, lay.foreign[k] | PTE_P | PTE_W);
		invlpg(lay.decoy_gva);
		v = *decoy;
		q = tpt_ctl(KVM_TPT_CTL_QUERY);
		GUEST_ASSERT_1(tpt_ctl(KVM_TPT_CTL_ON) == 0, k);
		*decoy = 0xbad0000 + k;
		GUEST_SYNC_ARGS(STAGE_FAULT, k, v, q,
				tpt_ctl(KVM_TPT_CTL_QUERY));
		*decoy = DECOY;
		tpt_set(root, lay.decoy_gva, decoy_hpa | PTE_P | PTE_W);
		invlpg(lay.decoy_gva);
		GUEST_ASSERT_1(tpt_ctl(KVM_TPT_CTL_ON) == 0, k);
	}

	/* c */
	v = guest_fuzz();
	GUEST_ASSERT_1(tpt_ctl(KVM_TPT_CTL_ON) == 0, v);
	GUEST_SYNC_ARGS(STAGE_FUZZ, v, tpt_ctl(KVM_TPT_CTL_QUERY), 0, 0);

	/*
	 * e: the OS's TPT tables map GVA_SCRATCH to its data page, and the
	 * SMM handler's page to a copy of the handler, so that an SMM
	 * handler wrongly walking them runs the same code and reads
	 * OS_MAGIC instead of faulting.  The SMI comes after the first
	 * ucall, RSM returns before the second.
	 */
	tpt_set(root, GVA_SCRATCH, dhpa | PTE_P | PTE_W);
	invlpg(GVA_SCRATCH);
	*scratch = OS_MAGIC;
	tpt_set(root, SMM_CODE, data_hpa(lay.smm_gpa) | PTE_P | PTE_W);
	invlpg(SMM_CODE);
	GUEST_SYNC_ARGS(STAGE_SMI, tpt_ctl(KVM_TPT_CTL_QUERY), *scratch, 0, 0);
	/*
	 * Only the TPT tables map GVA_SCRATCH: the read takes a #PF if the
	 * CPU has TPT off, whatever KVM's query says.
	 */
	q = tpt_ctl(KVM_TPT_CTL_QUERY);
	v = 0;
	asm volatile(KVM_ASM_SAFE("movq (%[p]), %[v]")
		     : KVM_ASM_SAFE_OUTPUTS(vec), [v] "+r"(v)
		     : [p] "r"(GVA_SCRATCH)
		     : KVM_ASM_SAFE_CLOBBERS, "memory");
	GUEST_SYNC_ARGS(STAGE_RSM, q, v, vec, 0);

	/* f: a revoked frame and the stale entry that still points at it */
	for (k = 0; k < ALIAS_ROUNDS; k++) {
		uint64_t a = GPA_ALIAS + 2 * k * PAGE, a_hpa, b_hpa, n, rel;

		a_hpa = data_hpa(a);
		tpt_set(root, lay.decoy_gva, a_hpa | PTE_P | PTE_W);
		invlpg(lay.decoy_gva);
		*decoy = OS_MAGIC;
		GUEST_SYNC_ARGS(STAGE_ALIAS_MAPPED, k, a_hpa, 0, 0);
		/* The host dropped A and wrote B. */
		b_hpa = data_hpa(a + PAGE);
		v = *decoy;
		q = tpt_ctl(KVM_TPT_CTL_QUERY);
		n = tpt_ctl(KVM_TPT_CTL_REVOKED);
		tpt_set(root, lay.decoy_gva, decoy_hpa | PTE_P | PTE_W);
		invlpg(lay.decoy_gva);
		rel = tpt_ctl(KVM_TPT_CTL_RELEASE);
		GUEST_ASSERT_1(tpt_ctl(KVM_TPT_CTL_ON) == 0, k);
		GUEST_SYNC_ARGS(STAGE_ALIAS_READ, v,
				(b_hpa == a_hpa) | q << 1, n, rel);
	}

	/* d: frames of a memslot that the host will delete */
	for (i = 0; i < EXTRA_PAGES; i++)
		buf[i] = GPA_EXTRA + i * PAGE;
	v = tpt_map(lay.buf_gpa, EXTRA_PAGES);
	GUEST_SYNC_ARGS(STAGE_EXTRA, v, 0, 0, 0);

	GUEST_SYNC(STAGE_DONE);
}

/*
 * e: the SMM handler, copied to SMM_CODE (SMBASE + 0x8000), where KVM
 * starts it in real mode with CS.base = SMBASE and the other bases 0.
 * Like OVMF's PiSmmCpuDxeSmm it goes to protected mode, then to long mode
 * with CR3 at its own tables in SMRAM, reads GVA_SCRATCH, reports the
 * value in RAX with an OUT to SMM_PORT and returns with RSM.  Addresses
 * are absolute for where it runs (SMM_CODE) and its GDT is in its own
 * page.  It uses no stack and no IDT: any fault in it is a triple fault.
 */
extern const uint8_t smm_handler[], smm_handler_end[];

asm(
"	.pushsection .rodata.smm_handler, \"a\"\n"
"smm_handler:\n"
"	.code16\n"
"	lgdtl %cs:0x8000+smm_gdtr-smm_handler\n"
"	movl %cr0, %eax\n"
"	orl $1, %eax\n"			/* PE */
"	movl %eax, %cr0\n"
"	ljmpl $0x8, $" __stringify(SMM_CODE) "+smm_32-smm_handler\n"
"	.code32\n"
"smm_32:\n"
"	movl %cr4, %eax\n"
"	orl $0x20, %eax\n"		/* PAE */
"	movl %eax, %cr4\n"
"	movl $" __stringify(SMM_PML4) ", %eax\n"
"	movl %eax, %cr3\n"
"	movl $0xc0000080, %ecx\n"	/* EFER.LME */
"	rdmsr\n"
"	orl $0x100, %eax\n"
"	wrmsr\n"
"	movl %cr0, %eax\n"
"	orl $0x80000000, %eax\n"	/* PG: long mode from here on */
"	movl %eax, %cr0\n"
"	ljmpl $0x18, $" __stringify(SMM_CODE) "+smm_64-smm_handler\n"
"	.code64\n"
"smm_64:\n"
"	movabsq $" __stringify(GVA_SCRATCH) ", %rbx\n"
"	movq (%rbx), %rax\n"
"	outb %al, $" __stringify(SMM_PORT) "\n"
"	rsm\n"
"	.balign 8\n"
"smm_gdt:\n"
"	.quad 0\n"
"	.quad 0x00cf9b000000ffff\n"	/* 0x08: 32-bit code */
"	.quad 0x00cf93000000ffff\n"	/* 0x10: data */
"	.quad 0x00af9b000000ffff\n"	/* 0x18: 64-bit code */
"smm_gdtr:\n"
"	.word smm_gdtr - smm_gdt - 1\n"
"	.long " __stringify(SMM_CODE) "+smm_gdt-smm_handler\n"
"smm_handler_end:\n"
"	.popsection\n"
);

/* The second VM: tags one page for itself and keeps its contents. */
static struct layout lay2;

static void guest_code2(void)
{
	uint64_t *buf = (uint64_t *)lay2.buf_gva;
	volatile uint64_t *data = (volatile uint64_t *)lay2.data_gva;
	uint64_t r;

	*data = SECRET;
	buf[0] = lay2.data_gpa;
	r = tpt_map(lay2.buf_gpa, 1);
	GUEST_SYNC_ARGS(STAGE_BUILT, r, buf[0], 0, 0);
	GUEST_SYNC_ARGS(STAGE_DONE, *data, 0, 0, 0);
}

/* Every 4 KiB leaf of the guest's normal tables, as (gva, gpa). */
static void collect(struct kvm_vm *vm, uint64_t table, int level,
		    uint64_t va, struct map *maps, uint64_t *n)
{
	uint64_t *t = addr_gpa2hva(vm, table);
	uint64_t i, e, a;

	for (i = 0; i < 512; i++) {
		e = t[i];
		a = va | (i << (12 + 9 * (level - 1)));
		if (!(e & PTE_P))
			continue;
		TEST_ASSERT(level == 1 || !(e & PTE_PS),
			    "large page at gva 0x%lx, level %d", a, level);
		if (level > 1) {
			collect(vm, e & PTE_ADDR, level - 1, a, maps, n);
			continue;
		}
		TEST_ASSERT(*n < MAX_MAPS, "more than %d guest pages", MAX_MAPS);
		maps[*n].gva = a;
		maps[*n].gpa = e & PTE_ADDR;
		(*n)++;
	}
}

/* Exits that are not host interrupts, hypercalls or port I/O (ucalls) */
static uint64_t other_exits(struct kvm_vcpu *vcpu)
{
	return vcpu_stat(vcpu, "exits") - vcpu_stat(vcpu, "irq_exits") -
	       vcpu_stat(vcpu, "hypercalls") - vcpu_stat(vcpu, "io_exits");
}

/* The host-physical address of the page at @p, from /proc/self/pagemap. */
static uint64_t host_hpa(void *p)
{
	uint64_t ent;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	TEST_ASSERT(fd >= 0, "open pagemap");
	TEST_ASSERT(pread(fd, &ent, 8, ((uint64_t)p / PAGE) * 8) == 8,
		    "read pagemap");
	close(fd);
	TEST_ASSERT((ent & (1UL << 63)) && (ent & ((1UL << 55) - 1)),
		    "page not present or no PFN (root?): 0x%lx", ent);
	return (ent & ((1UL << 55) - 1)) * PAGE;
}

static void layout_alloc(struct kvm_vm *vm, struct layout *l, bool maps)
{
	l->buf_gva = vm_vaddr_alloc_page(vm);
	l->buf_gpa = addr_gva2gpa(vm, l->buf_gva);
	l->data_gva = vm_vaddr_alloc_page(vm);
	l->data_gpa = addr_gva2gpa(vm, l->data_gva);
	if (!maps)
		return;
	l->decoy_gva = vm_vaddr_alloc_page(vm);
	l->decoy_gpa = addr_gva2gpa(vm, l->decoy_gva);
	*(uint64_t *)addr_gva2hva(vm, l->decoy_gva) = DECOY;
	l->smm_gva = vm_vaddr_alloc_page(vm);
	l->smm_gpa = addr_gva2gpa(vm, l->smm_gva);
	memcpy(addr_gva2hva(vm, l->smm_gva), smm_handler,
	       smm_handler_end - smm_handler);
	l->pool_gva = vm_vaddr_alloc(vm, POOL_PAGES * PAGE, KVM_UTIL_MIN_VADDR);
	l->pool_gpa = addr_gva2gpa(vm, l->pool_gva);
	l->maps_gva = vm_vaddr_alloc(vm, MAX_MAPS * sizeof(struct map),
				     KVM_UTIL_MIN_VADDR);
}

/* The SMRAM page at @gpa */
static uint64_t *smram(struct kvm_vm *vm, uint64_t gpa)
{
	return addr_gpa2hva(vm, gpa);
}

/*
 * e: SMRAM with the handler and its page tables, SMBASE at its start.
 * The handler's page is in no table of the guest's but the TPT one it
 * writes for case e.
 */
static void smram_setup(struct kvm_vm *vm, struct kvm_vcpu *vcpu,
			struct map *maps, uint64_t nr_maps)
{
	uint64_t i;

	TEST_ASSERT(kvm_has_cap(KVM_CAP_X86_SMM), "no KVM_CAP_X86_SMM");
	for (i = 0; i < nr_maps; i++)
		TEST_ASSERT(maps[i].gva < SMRAM_GPA ||
			    maps[i].gva >= SMRAM_GPA + SMRAM_PAGES * PAGE,
			    "guest page at gva 0x%lx, in SMRAM's range", maps[i].gva);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, SMRAM_GPA,
				    SMRAM_SLOT, SMRAM_PAGES, 0);
	TEST_ASSERT(vm_phy_pages_alloc(vm, SMRAM_PAGES, SMRAM_GPA, SMRAM_SLOT)
		    == SMRAM_GPA, "SMRAM at 0x%x not free", SMRAM_GPA);
	memset(smram(vm, SMRAM_GPA), 0, SMRAM_PAGES * PAGE);

	smram(vm, SMM_PML4)[0] = SMM_PDPT_LO | PTE_P | PTE_W;
	smram(vm, SMM_PDPT_LO)[0] = SMM_PD_LO | PTE_P | PTE_W;
	smram(vm, SMM_PD_LO)[SMRAM_GPA >> 21] = (SMRAM_GPA & ~0x1fffffUL) |
						 PTE_P | PTE_W | PTE_PS;
	smram(vm, SMM_PML4)[(GVA_SCRATCH >> 39) & 511] =
		SMM_PDPT_HI | PTE_P | PTE_W;
	smram(vm, SMM_PDPT_HI)[(GVA_SCRATCH >> 30) & 511] =
		SMM_PD_HI | PTE_P | PTE_W;
	smram(vm, SMM_PD_HI)[(GVA_SCRATCH >> 21) & 511] =
		SMM_PT_HI | PTE_P | PTE_W;
	smram(vm, SMM_PT_HI)[(GVA_SCRATCH >> 12) & 511] =
		SMM_DATA | PTE_P | PTE_W;
	smram(vm, SMM_DATA)[0] = SMM_MAGIC;
	memcpy(smram(vm, SMM_CODE), smm_handler, smm_handler_end - smm_handler);
	vcpu_set_msr(vcpu, MSR_IA32_SMBASE, SMRAM_GPA);
}

/*
 * e: run @vcpu, just given an SMI, to its SMM handler's OUT; returns the
 * value the handler read at GVA_SCRATCH.  The ways it goes wrong when the
 * handler's walks use the OS's TPT tables: a wrong value, a fault (no
 * IDT in SMM: a triple fault, KVM_EXIT_SHUTDOWN) or a tag fault that
 * KVM takes as the guest's and turns TPT off for (the caller checks).
 */
static uint64_t run_smm_handler(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct kvm_vcpu_events events;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct ucall uc;
	uint64_t cmd;

	vcpu_run(vcpu);
	TEST_ASSERT(run->exit_reason != KVM_EXIT_SHUTDOWN,
		    "e: KVM_EXIT_SHUTDOWN in SMM: the SMM handler triple-faulted (a #PF or #GP with no IDT), %lu TPT tag faults so far",
		    vcpu_stat(vcpu, "tpt_tag_faults"));
	if (run->exit_reason == KVM_EXIT_IO && run->io.port != SMM_PORT) {
		cmd = get_ucall(vcpu, &uc);
		if (cmd == UCALL_ABORT)
			REPORT_GUEST_ASSERT_2(uc, "values: 0x%lx, 0x%lx");
		TEST_FAIL("e: ucall %lu stage %lu (port 0x%x), wanted the SMM handler's OUT to port 0x%x: no SMI?",
			  cmd, uc.args[1], run->io.port, SMM_PORT);
	}
	TEST_ASSERT(run->exit_reason == KVM_EXIT_IO &&
		    run->io.port == SMM_PORT &&
		    run->io.direction == KVM_EXIT_IO_OUT,
		    "e: exit_reason %u (%s), port 0x%x, wanted KVM_EXIT_IO, OUT to port 0x%x from the SMM handler",
		    run->exit_reason, exit_reason_str(run->exit_reason),
		    run->exit_reason == KVM_EXIT_IO ? run->io.port : 0,
		    SMM_PORT);
	vcpu_regs_get(vcpu, &regs);
	vcpu_sregs_get(vcpu, &sregs);
	vcpu_events_get(vcpu, &events);
	ksft_print_msg("SMM handler: read 0x%llx at 0x%llx, rip 0x%llx, cr3 0x%llx, efer 0x%llx, smm %u\n",
		       regs.rax, regs.rbx, regs.rip, sregs.cr3, sregs.efer,
		       events.smi.smm);
	CHECK(events.smi.smm == 1, "the OUT to port 0x%x came from outside SMM",
	      SMM_PORT);
	CHECK((sregs.efer & EFER_LMA) && sregs.cr3 == SMM_PML4,
	      "the SMM handler not in long mode on its tables: efer 0x%llx, cr3 0x%llx",
	      sregs.efer, sregs.cr3);
	return regs.rax;
}

/*
 * f: each round the host drops page A, whose frame the guest mapped in
 * its TPT tables, and the guest asks for the frame of page B, which no
 * one touched yet: KVM's long-term pin faults it in from unmovable
 * memory, where A's frame went back when it was freed.  Were A's frame
 * freed at once, B would get it (the page allocator hands out the page
 * freed last), tagged for this VM, and the guest's stale entry for A
 * would read B, a new zeroed page, instead of taking a tag fault.
 */
static void test_alias(struct kvm_vm *vm, struct kvm_vcpu *vcpu)
{
	uint64_t k, aliased = 0, same = 0, on = 0, unrevoked = 0, released = 0;
	uint64_t faults0 = vcpu_stat(vcpu, "tpt_tag_faults");
	struct ucall uc;
	uint8_t *a;

	case_ok = true;
	for (k = 0; k < ALIAS_ROUNDS; k++) {
		expect_stage(vcpu, STAGE_ALIAS_MAPPED, &uc);
		a = addr_gpa2hva(vm, GPA_ALIAS + 2 * k * PAGE);
		TEST_ASSERT(!madvise(a, PAGE, MADV_DONTNEED),
			    "MADV_DONTNEED of page A, round %lu", k);
		expect_stage(vcpu, STAGE_ALIAS_READ, &uc);
		if (uc.args[2] != DECOY) {
			if (!aliased)
				ksft_print_msg("round %lu: the stale entry read 0x%lx, not the decoy, B got A's frame: %s\n",
					       k, uc.args[2],
					       uc.args[3] & 1 ? "yes" : "no");
			aliased++;
		}
		same += uc.args[3] & 1;
		on += !!(uc.args[3] & 2);
		unrevoked += (int64_t)uc.args[4] < 1;
		released += (int64_t)uc.args[5] > 0 ? uc.args[5] : 0;
	}
	CHECK(!aliased && !same,
	      "%lu of %d stale reads reached another page, %lu times B got A's frame",
	      aliased, ALIAS_ROUNDS, same);
	CHECK(!on && vcpu_stat(vcpu, "tpt_tag_faults") - faults0 == ALIAS_ROUNDS,
	      "%lu tag faults for %d stale reads, TPT still on after %lu",
	      vcpu_stat(vcpu, "tpt_tag_faults") - faults0, ALIAS_ROUNDS, on);
	CHECK(!unrevoked && released == ALIAS_ROUNDS,
	      "KVM_TPT_CTL_REVOKED was 0 in %lu rounds, RELEASE gave back %lu frames",
	      unrevoked, released);
	ksft_test_result(case_ok, "f: %d revoked frames: %lu stale reads reached another page, %lu tag faults, %lu frames released\n",
			 ALIAS_ROUNDS, aliased,
			 vcpu_stat(vcpu, "tpt_tag_faults") - faults0, released);
}

int main(int argc, char *argv[])
{
	struct kvm_vcpu *vcpu, *vcpu2;
	struct kvm_vm *vm, *vm2;
	uint64_t exits, pf, walks, faults0, tag_faults, pages, k, v;
	uint64_t *host_page;
	uint32_t eax, ebx, ecx, edx;
	struct map *maps;
	struct ucall uc;
	long tagged0;

	ksft_print_header();
	mmu_ext_cpuid(&eax, &ebx, &ecx, &edx);
	__TEST_REQUIRE(eax & TPT_CPUID_BIT, "CPUID 0x%x EAX 0x%x: no tpt",
		       MMUCNT_LEAF, eax);
	if (!kvm_amd_npt()) {
		ksft_set_plan(1);
		ksft_test_result(!kvm_check_cap(KVM_CAP_X86_TPT),
				 "shadow paging: no KVM_CAP_X86_TPT\n");
		ksft_finished();
	}
	/* The CPU has TPT and KVM runs with nested paging: it must offer it. */
	TEST_ASSERT(kvm_check_cap(KVM_CAP_X86_TPT) == 1,
		    "KVM_CAP_X86_TPT is %d under nested paging on a TPT CPU",
		    kvm_check_cap(KVM_CAP_X86_TPT));
	ksft_set_plan(6);
	/* Pins the test, and so the vCPUs, to CPU 0, whose counters it reads. */
	msr_dev_open(0);
	tagged0 = tpt_tagged_frames();

	/* The second VM first: its frame is one of the foreign ones. */
	vm2 = vm_create_one_vcpu_no_agile(&vcpu2, guest_code2);
	vm_enable_cap(vm2, KVM_CAP_X86_TPT, 0);
	layout_alloc(vm2, &lay2, false);
	sync_global_to_guest(vm2, lay2);
	expect_stage(vcpu2, STAGE_BUILT, &uc);
	TEST_ASSERT(uc.args[2] == 1 && uc.args[3],
		    "VM 2: TPT_MAP returned %ld, hPA 0x%lx", uc.args[2],
		    uc.args[3]);

	host_page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	TEST_ASSERT(host_page != MAP_FAILED, "mmap");
	host_page[0] = SECRET;

	vm = vm_create_one_vcpu_no_agile(&vcpu, guest_code);
	vm_enable_cap(vm, KVM_CAP_X86_TPT, 0);
	vm_init_descriptor_tables(vm);
	vcpu_init_descriptor_tables(vcpu);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, GPA_EXTRA,
				    SLOT_EXTRA, EXTRA_PAGES, 0);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, GPA_ALIAS,
				    SLOT_ALIAS, 2 * ALIAS_ROUNDS, 0);
	layout_alloc(vm, &lay, true);
	lay.foreign[0] = host_hpa(host_page);
	lay.foreign[1] = uc.args[3];
	lay.seed = 0x9e3779b97f4a7c15UL;
	maps = addr_gva2hva(vm, lay.maps_gva);
	collect(vm, vm->pgd, 4, 0, maps, &lay.nr_maps);
	smram_setup(vm, vcpu, maps, lay.nr_maps);
	sync_global_to_guest(vm, lay);
	ksft_print_msg("guest pages %lu, foreign frames 0x%lx 0x%lx\n",
		       lay.nr_maps, lay.foreign[0], lay.foreign[1]);

	expect_stage(vcpu, STAGE_BUILT, &uc);
	ksft_print_msg("TPT tables: %lu leaves by hPA, %lu by gPA\n",
		       uc.args[2], uc.args[3]);
	TEST_ASSERT(uc.args[2] == lay.nr_maps && uc.args[3] == 0,
		    "%lu of %lu pages passed through, %lu not",
		    uc.args[2], lay.nr_maps, uc.args[3]);
	/* The pool and the buffer are guest pages like any other. */
	pages = vm_get_stat(vm, "tpt_pages");
	TEST_ASSERT(pages == lay.nr_maps, "tpt_pages %lu, wanted %lu", pages,
		    lay.nr_maps);
	expect_stage(vcpu, STAGE_ON, &uc);
	TEST_ASSERT(uc.args[2] == 1 && vcpu_stat(vcpu, "tpt_on") == 1,
		    "TPT not on: query %lu, stat %lu", uc.args[2],
		    vcpu_stat(vcpu, "tpt_on"));

	/*
	 * a: exits other than for host interrupts, the one hypercall and
	 * the ucall, and KVM page faults
	 */
	case_ok = true;
	exits = other_exits(vcpu);
	pf = vcpu_stat(vcpu, "pf_taken");
	msr_write(MSR_MMUCNT_CTL, MMUCNT_CTL_RESET | MMUCNT_CTL_EN);
	expect_stage(vcpu, STAGE_CHURN, &uc);
	walks = msr_read(MSR_MMUCNT_GUEST + CNT_TPT_WALKS);
	exits = other_exits(vcpu) - exits;
	pf = vcpu_stat(vcpu, "pf_taken") - pf;
	ksft_print_msg("churn: %lu exits, %lu TPT walks, %lu tag faults, %lu guest walks\n",
		       exits, walks,
		       msr_read(MSR_MMUCNT_GUEST + CNT_TPT_TAG_FAULTS),
		       msr_read(MSR_MMUCNT_GUEST + CNT_WALKS));
	CHECK(exits == 0, "%lu exits for %d rounds", exits, CHURN);
	CHECK(pf == 0, "%lu page faults for KVM in %d rounds", pf, CHURN);
	CHECK(uc.args[2] == 1, "TPT query %lu after the churn", uc.args[2]);
	CHECK(walks >= CHURN, "%lu TPT walks for %d rounds", walks, CHURN);
	CHECK(vcpu_stat(vcpu, "tpt_tag_faults") == 0, "%lu tag faults",
	      vcpu_stat(vcpu, "tpt_tag_faults"));
	ksft_test_result(case_ok, "a: %d page-table rounds, %lu exits, %lu TPT walks\n",
			 CHURN, exits, walks);

	/* b, e */
	case_ok = true;
	faults0 = vcpu_stat(vcpu, "tpt_tag_faults");
	for (k = 0; k < NR_FOREIGN; k++) {
		expect_stage(vcpu, STAGE_FAULT, &uc);
		CHECK(uc.args[2] == k, "foreign frame %lu, reported %lu", k,
		      uc.args[2]);
		CHECK(uc.args[3] == DECOY,
		      "frame %lu: the load gave 0x%lx, wanted the guest's own 0x%lx",
		      k, uc.args[3], DECOY);
		CHECK(uc.args[4] == 0 && uc.args[5] == 0,
		      "frame %lu: TPT on after a tag fault (%lu, %lu)", k,
		      uc.args[4], uc.args[5]);
	}
	tag_faults = vcpu_stat(vcpu, "tpt_tag_faults") - faults0;
	CHECK(tag_faults == 2 * NR_FOREIGN, "%lu tag faults, wanted %d",
	      tag_faults, 2 * NR_FOREIGN);
	CHECK(host_page[0] == SECRET, "host frame now 0x%lx", host_page[0]);
	ksft_test_result(case_ok, "b: %lu tag faults on %d foreign frames, contents kept\n",
			 tag_faults, NR_FOREIGN);

	/* c */
	expect_stage(vcpu, STAGE_FUZZ, &uc);
	ksft_test_result(uc.args[2] == FUZZ && uc.args[3] == 1,
			 "c: %lu of %d bad hypercalls refused, TPT on %lu\n",
			 uc.args[2], FUZZ, uc.args[3]);

	/* e: an SMI while the guest runs on its TPT tables */
	case_ok = true;
	expect_stage(vcpu, STAGE_SMI, &uc);
	TEST_ASSERT(uc.args[2] == 1 && uc.args[3] == OS_MAGIC,
		    "e: before the SMI: TPT query %lu, 0x%lx at 0x%lx, wanted 1 and 0x%lx",
		    uc.args[2], uc.args[3], GVA_SCRATCH, OS_MAGIC);
	faults0 = vcpu_stat(vcpu, "tpt_tag_faults");
	vcpu_ioctl(vcpu, KVM_SMI, NULL);
	v = run_smm_handler(vcpu);
	CHECK(v == SMM_MAGIC,
	      "the SMM handler read 0x%lx at 0x%lx, wanted 0x%lx from its own tables%s",
	      v, GVA_SCRATCH, SMM_MAGIC,
	      v == OS_MAGIC ? " (OS_MAGIC: it walked the OS's TPT tables)" : "");
	tag_faults = vcpu_stat(vcpu, "tpt_tag_faults") - faults0;
	CHECK(tag_faults == 0,
	      "%lu tag faults in SMM: the SMM handler walked the OS's TPT tables",
	      tag_faults);
	vcpu_run(vcpu);
	TEST_ASSERT(vcpu->run->exit_reason != KVM_EXIT_SHUTDOWN,
		    "e: KVM_EXIT_SHUTDOWN after the SMM handler's OUT: RSM failed");
	TEST_ASSERT(vcpu->run->exit_reason == KVM_EXIT_IO,
		    "e: exit_reason %u (%s) after the SMM handler's OUT, wanted the ucall after RSM",
		    vcpu->run->exit_reason,
		    exit_reason_str(vcpu->run->exit_reason));
	k = get_ucall(vcpu, &uc);
	if (k == UCALL_ABORT)
		REPORT_GUEST_ASSERT_2(uc, "values: 0x%lx, 0x%lx");
	TEST_ASSERT(k == UCALL_SYNC && uc.args[1] == STAGE_RSM,
		    "e: got ucall %lu stage %lu after RSM, wanted SYNC stage %d",
		    k, uc.args[1], STAGE_RSM);
	CHECK(uc.args[2] == 1 && vcpu_stat(vcpu, "tpt_on") == 1,
	      "TPT off after RSM: query %lu, tpt_on %lu", uc.args[2],
	      vcpu_stat(vcpu, "tpt_on"));
	CHECK(uc.args[4] == 0,
	      "after RSM the guest's read of 0x%lx, mapped by its TPT tables alone, took vector %lu: TPT off in the CPU (query %lu)",
	      GVA_SCRATCH, uc.args[4], uc.args[2]);
	CHECK(uc.args[4] != 0 || uc.args[3] == OS_MAGIC,
	      "after RSM the guest read 0x%lx at 0x%lx through its TPT tables, wanted 0x%lx",
	      uc.args[3], GVA_SCRATCH, OS_MAGIC);
	ksft_test_result(case_ok, "e: SMI with TPT on: the SMM handler read 0x%lx, TPT on %lu after RSM\n",
			 v, uc.args[2]);

	test_alias(vm, vcpu);

	/* d */
	case_ok = true;
	expect_stage(vcpu, STAGE_EXTRA, &uc);
	CHECK(uc.args[2] == EXTRA_PAGES, "mapped %lu of %d extra pages",
	      uc.args[2], EXTRA_PAGES);
	pages = vm_get_stat(vm, "tpt_pages");
	vm_mem_region_delete(vm, SLOT_EXTRA);
	CHECK(vm_get_stat(vm, "tpt_pages") == pages - EXTRA_PAGES,
	      "tpt_pages %lu after deleting %d tagged pages, was %lu",
	      vm_get_stat(vm, "tpt_pages"), EXTRA_PAGES, pages);
	CHECK(tpt_tagged_frames() == tagged0 + (long)pages - EXTRA_PAGES + 1,
	      "%ld frames tagged, wanted %ld", tpt_tagged_frames(),
	      tagged0 + (long)pages - EXTRA_PAGES + 1);
	expect_stage(vcpu, STAGE_DONE, &uc);
	expect_stage(vcpu2, STAGE_DONE, &uc);
	CHECK(uc.args[2] == SECRET, "VM 2's page now 0x%lx", uc.args[2]);
	kvm_vm_free(vm);
	kvm_vm_free(vm2);
	CHECK(tpt_tagged_frames() == tagged0, "%ld frames tagged after both VMs, wanted %ld",
	      tpt_tagged_frames(), tagged0);
	ksft_test_result(case_ok, "d: memslot delete and VM destroy untag, VM 2 intact\n");
	munmap(host_page, PAGE);
	close(msr_fd);
	ksft_finished();
}
