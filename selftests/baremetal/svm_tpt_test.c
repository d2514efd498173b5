// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_tpt_test: Translation Pass-Through in the emulated CPU, on bare metal
 * (Documentation/hw/mmu-extensions.rst, "Translation Pass-Through").
 *
 * The guest is 64-bit code at CPL 0.  Its CR3 tables and the nested
 * tables identity-map the first GiB; its TPT tables map its code page and,
 * at DATA_VA (1 GiB, which only they map), five host frames:
 *
 *   DATA_VA + 0x0000  mine:     tagged with the VM's tag
 *   DATA_VA + 0x1000  victim:   tag 0, the host's
 *   DATA_VA + 0x2000  other:    another VM's tag
 *   DATA_VA + 0x3000  gpa_page: tag 0, leaf with the GPA bit (52): NPT
 *   DATA_VA + 0x4000  tags:     the tag table's first frame, tagged as
 *                               the VM's, which the CPU refuses anyway
 *
 *   1. a TPT walk reads and writes the VM's frame
 *   2. it is a 1D walk: 4 guest and 5 tag references, no nested one
 *   3. reading the host's frame: VMEXIT_TPT_TAG, final-frame bit, the hPA
 *      in EXITINFO2, the address in TPT_FAULT_VA; nothing written
 *   4. writing the host's frame: the same with W; the frame keeps its data
 *   5. writing another VM's frame: VMEXIT_TPT_TAG; it keeps its data
 *   6. a page-table frame without the tag: VMEXIT_TPT_TAG, page-table bit,
 *      EXITINFO2 the entry's address; the data frame is not touched
 *   7. writing the tag table through a mapping, tag or no tag: refused
 *   8. a leaf with the GPA bit is translated by the nested table, untagged
 *   9. fetching from a frame without the tag: VMEXIT_TPT_TAG with I/D
 *  10. TPT_CR3.V clear: the walk is the nested one from CR3
 *  11. TPT_CTL.EN clear: the TPT tables are not used (#PF at DATA_VA)
 *  12. the guest switches itself to TPT with WRMSR TPT_CR3, no exit, and
 *      #VMEXIT stores the value in the VMCB
 *  13. the guest cannot read the tag table's MSRs: #GP
 *  14. VMRUN with TPT and tag 0 is invalid
 *  15. VMRUN with TPT and no nested paging is invalid
 *  16. VMRUN with a reserved bit in TPT_CR3 is invalid
 *  17. the host reads back the tag table's MSRs
 *
 * Stock QEMU 7.2 has no TPT: it does not know the "tpt" CPU property.
 */
#include "svm.h"

#define PTE_TPT_GPA		(1ull << 52)

#define PF_W			(1ull << 1)
#define PF_ID			(1ull << 4)
#define FAULT_FINAL		(1ull << 32)
#define FAULT_TABLE		(1ull << 33)

#define MSR_MMUCNT_CTL		0xc0011f00
#define MSR_MMUCNT_GUEST0	0xc0011f20
#define MSR_TPT_TAG_BASE	0xc0011f40
#define MSR_TPT_TAG_END		0xc0011f41
#define MSR_TPT_CR3		0xc0011f42
#define CPUID_TPT		(1u << 2)	/* CPUID 0x80000030 EAX */

enum { CNT_WALKS = 0, CNT_REFS_GUEST = 3, CNT_REFS_NESTED = 4,
       CNT_TPT_REFS_TAG = 12, CNT_TPT_WALKS = 13, CNT_TPT_TAG_FAULTS = 14 };

#define DATA_VA			0x40000000ull
#define VM_TAG			0x2a
#define OTHER_TAG		0x2b
#define MEM_BYTES		(512ull << 20)	/* run-baremetal's -m 512 */
#define PATTERN			0x1122334455667788ull
#define SENTINEL		0xfeedfacecafebeefull

static uint16_t tags[MEM_BYTES >> 12] __aligned(4096);
uint64_t tpt_pml4[512] __aligned(4096);
static uint64_t tpt_pdpt[512] __aligned(4096);
static uint64_t tpt_pd0[512] __aligned(4096);
static uint64_t tpt_pt0[512] __aligned(4096);
static uint64_t tpt_pd1[512] __aligned(4096);
static uint64_t tpt_pt1[512] __aligned(4096);
static uint64_t g_pml4[512] __aligned(4096);
static uint64_t g_pdpt[512] __aligned(4096);
static uint64_t g_pd[512] __aligned(4096);
static uint64_t npt_pml4[512] __aligned(4096);
static uint64_t npt_pdpt[512] __aligned(4096);
static uint64_t npt_pd[512] __aligned(4096);
static uint64_t mine[512] __aligned(4096);
static uint64_t victim[512] __aligned(4096);
static uint64_t other[512] __aligned(4096);
static uint64_t gpa_page[512] __aligned(4096);

extern const char guest_copy[], guest_store[], guest_set_tpt_cr3[];
extern const char guest_rd_tag_base[];

/*
 * The guest snippets, 64-bit, on a page of their own.  RAX comes from the
 * VMCB: guest_copy copies the quadword at RAX to RAX + 8, guest_store
 * writes the quadword at RAX.
 */
asm(".pushsection .text\n"
    ".balign 4096\n"
    "guest_copy:\n"
    "	mov (%rax), %rbx\n"
    "	mov %rbx, 8(%rax)\n"
    "	vmmcall\n"
    "	hlt\n"
    "guest_store:\n"
    "	movq $0x5a5a5a5a, (%rax)\n"
    "	vmmcall\n"
    "	hlt\n"
    "guest_set_tpt_cr3:\n"
    "	mov $0xc0011f42, %ecx\n"
    "	mov $tpt_pml4 + 1, %eax\n"
    "	xor %edx, %edx\n"
    "	wrmsr\n"
    "	mov $0x40000000, %eax\n"
    "	mov (%rax), %rbx\n"
    "	mov %rbx, 8(%rax)\n"
    "	vmmcall\n"
    "	hlt\n"
    "guest_rd_tag_base:\n"
    "	mov $0xc0011f40, %ecx\n"
    "	rdmsr\n"
    "	vmmcall\n"
    "	hlt\n"
    ".popsection");

static uint64_t pa(const void *p)
{
	return (uint64_t)p;
}

static void set_tag(const void *p, uint16_t tag)
{
	tags[pa(p) >> 12] = tag;
}

static void identity_1g(uint64_t *pml4, uint64_t *pdpt, uint64_t *pd,
			uint64_t flags)
{
	int i;

	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = pa(pdpt) | flags;
	pdpt[0] = pa(pd) | flags;
	for (i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | flags | PTE_PS;
}

static void tpt_tables_init(void)
{
	uint64_t code = pa(guest_copy);
	uint64_t *tables[] = { tpt_pml4, tpt_pdpt, tpt_pd0, tpt_pt0, tpt_pd1,
			       tpt_pt1 };
	unsigned int i;

	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		memset(tables[i], 0, 4096);
		set_tag(tables[i], VM_TAG);
	}
	tpt_pml4[0] = pa(tpt_pdpt) | PTE_P | PTE_RW;
	tpt_pdpt[0] = pa(tpt_pd0) | PTE_P | PTE_RW;
	tpt_pdpt[1] = pa(tpt_pd1) | PTE_P | PTE_RW;
	tpt_pd0[(code >> 21) & 511] = pa(tpt_pt0) | PTE_P | PTE_RW;
	tpt_pt0[(code >> 12) & 511] = (code & ~0xfffull) | PTE_P | PTE_RW;
	tpt_pd1[0] = pa(tpt_pt1) | PTE_P | PTE_RW;
	tpt_pt1[0] = pa(mine) | PTE_P | PTE_RW;
	tpt_pt1[1] = pa(victim) | PTE_P | PTE_RW;
	tpt_pt1[2] = pa(other) | PTE_P | PTE_RW;
	tpt_pt1[3] = pa(gpa_page) | PTE_P | PTE_RW | PTE_TPT_GPA;
	tpt_pt1[4] = pa(tags) | PTE_P | PTE_RW;

	set_tag(guest_copy, VM_TAG);
	set_tag(mine, VM_TAG);
	set_tag(other, OTHER_TAG);
	set_tag(tags, VM_TAG);
}

static void data_init(void)
{
	mine[0] = PATTERN;
	mine[1] = 0;
	victim[0] = SENTINEL;
	victim[1] = SENTINEL;
	other[0] = SENTINEL;
	gpa_page[0] = PATTERN;
	gpa_page[1] = 0;
}

/* A TPT guest at @rip with RAX = @rax, #GP and #PF intercepted. */
static void vm_init(const void *rip, uint64_t rax)
{
	data_init();
	vmcb_init(rip, pa(npt_pml4));
	vmcb_long_mode(pa(g_pml4));
	vmcb_w32(VMCB_INTERCEPT_EXC, (1u << 13) | (1u << 14));
	vmcb_w64(VMCB_RAX, rax);
	vmcb_w64(VMCB_TPT_CTL, 1);
	vmcb_w64(VMCB_TPT_TAG, VM_TAG);
	vmcb_w64(VMCB_TPT_CR3, pa(tpt_pml4) | 1);
	wrmsr(MSR_MMUCNT_CTL, (1ull << 63) | 1);
}

static uint64_t cnt(int i)
{
	return rdmsr(MSR_MMUCNT_GUEST0 + i);
}

/* Run and check a tag fault: exit code, EXITINFO1/2 and TPT_FAULT_VA. */
static bool tag_fault(const char *what, uint64_t info1, uint64_t hpa,
		      uint64_t va)
{
	uint64_t code = svm_run();
	bool ok = code == SVM_EXIT_TPT_TAG &&
		  vmcb_r64(VMCB_EXITINFO1) == info1 &&
		  vmcb_r64(VMCB_EXITINFO2) == hpa &&
		  vmcb_r64(VMCB_TPT_FAULT_VA) == va &&
		  cnt(CNT_TPT_TAG_FAULTS) == 1;

	if (!ok)
		bm_printf("# %s: EXITCODE 0x%lx EXITINFO1 0x%lx EXITINFO2 0x%lx "
			  "TPT_FAULT_VA 0x%lx tag faults %lu (want 0x%x 0x%lx "
			  "0x%lx 0x%lx 1)\n", what, code,
			  vmcb_r64(VMCB_EXITINFO1), vmcb_r64(VMCB_EXITINFO2),
			  vmcb_r64(VMCB_TPT_FAULT_VA), cnt(CNT_TPT_TAG_FAULTS),
			  SVM_EXIT_TPT_TAG, info1, hpa, va);
	return ok;
}

int main(void)
{
	uint64_t walks, code;

	svm_require(SVM_FEAT_NPT);
	mmu_ext_require(CPUID_TPT, "no Translation Pass-Through");

	tap_plan(17);
	svm_enable();
	identity_1g(npt_pml4, npt_pdpt, npt_pd, PTE_P | PTE_RW | PTE_US);
	identity_1g(g_pml4, g_pdpt, g_pd, PTE_P | PTE_RW);
	memset(tags, 0, sizeof(tags));
	tpt_tables_init();
	wrmsr(MSR_TPT_TAG_BASE, pa(tags));
	wrmsr(MSR_TPT_TAG_END, pa(tags) + sizeof(tags));

	vm_init(guest_copy, DATA_VA);
	code = svm_run();
	tap_result(code == SVM_EXIT_VMMCALL && mine[1] == PATTERN,
		   "TPT walk to the VM's frame: exit 0x%lx, copied 0x%lx",
		   code, mine[1]);
	walks = cnt(CNT_WALKS);
	tap_result(walks >= 2 && cnt(CNT_REFS_GUEST) == 4 * walks &&
		   cnt(CNT_REFS_NESTED) == 0 &&
		   cnt(CNT_TPT_REFS_TAG) == 5 * walks &&
		   cnt(CNT_TPT_WALKS) == walks,
		   "1D walks: %lu walks, %lu guest refs, %lu nested refs, "
		   "%lu tag refs, %lu TPT walks (want 4, 0, 5 per walk)",
		   walks, cnt(CNT_REFS_GUEST), cnt(CNT_REFS_NESTED),
		   cnt(CNT_TPT_REFS_TAG), cnt(CNT_TPT_WALKS));

	vm_init(guest_copy, DATA_VA + 0x1000);
	tap_result(tag_fault("read", FAULT_FINAL, pa(victim), DATA_VA + 0x1000) &&
		   victim[1] == SENTINEL,
		   "read of the host's frame: tag fault, frame untouched");

	vm_init(guest_store, DATA_VA + 0x1000);
	tap_result(tag_fault("write", FAULT_FINAL | PF_W, pa(victim),
			     DATA_VA + 0x1000) && victim[0] == SENTINEL,
		   "write of the host's frame: tag fault, data 0x%lx kept",
		   victim[0]);

	vm_init(guest_store, DATA_VA + 0x2000);
	tap_result(tag_fault("other", FAULT_FINAL | PF_W, pa(other),
			     DATA_VA + 0x2000) && other[0] == SENTINEL,
		   "write of another VM's frame: tag fault, data 0x%lx kept",
		   other[0]);

	set_tag(tpt_pt1, 0);
	vm_init(guest_copy, DATA_VA);
	tap_result(tag_fault("table", FAULT_TABLE, pa(&tpt_pt1[0]), DATA_VA) &&
		   mine[1] == 0,
		   "page-table frame without the tag: tag fault on the entry");
	set_tag(tpt_pt1, VM_TAG);

	vm_init(guest_store, DATA_VA + 0x4000);
	tap_result(tag_fault("tag table", FAULT_FINAL | PF_W, pa(tags),
			     DATA_VA + 0x4000) && tags[0] == 0 && tags[1] == 0,
		   "write of the tag table: tag fault although it is tagged");

	vm_init(guest_copy, DATA_VA + 0x3000);
	code = svm_run();
	tap_result(code == SVM_EXIT_VMMCALL && gpa_page[1] == PATTERN &&
		   cnt(CNT_REFS_NESTED) > 0,
		   "GPA leaf goes through the nested table: exit 0x%lx, "
		   "copied 0x%lx, %lu nested refs", code, gpa_page[1],
		   cnt(CNT_REFS_NESTED));

	set_tag(guest_copy, 0);
	vm_init(guest_copy, DATA_VA);
	tap_result(tag_fault("fetch", FAULT_FINAL | PF_ID, pa(guest_copy),
			     pa(guest_copy)),
		   "fetch from a frame without the tag: tag fault with I/D");
	set_tag(guest_copy, VM_TAG);

	vm_init(guest_copy, pa(mine));
	vmcb_w64(VMCB_TPT_CR3, pa(tpt_pml4));
	code = svm_run();
	tap_result(code == SVM_EXIT_VMMCALL && mine[1] == PATTERN &&
		   cnt(CNT_TPT_WALKS) == 0 && cnt(CNT_REFS_NESTED) > 0,
		   "TPT_CR3.V clear: nested walk, exit 0x%lx, %lu TPT walks, "
		   "%lu nested refs", code, cnt(CNT_TPT_WALKS),
		   cnt(CNT_REFS_NESTED));

	vm_init(guest_copy, DATA_VA);
	vmcb_w64(VMCB_TPT_CTL, 0);
	code = svm_run();
	tap_result(code == SVM_EXIT_EXCP_BASE + 14 &&
		   vmcb_r64(VMCB_EXITINFO2) == DATA_VA && mine[1] == 0,
		   "TPT_CTL.EN clear: #PF at DATA_VA, exit 0x%lx address 0x%lx",
		   code, vmcb_r64(VMCB_EXITINFO2));

	vm_init(guest_set_tpt_cr3, 0);
	vmcb_w64(VMCB_TPT_CR3, 0);
	code = svm_run();
	tap_result(code == SVM_EXIT_VMMCALL && mine[1] == PATTERN &&
		   vmcb_r64(VMCB_TPT_CR3) == (pa(tpt_pml4) | 1),
		   "guest WRMSR TPT_CR3: exit 0x%lx, copied 0x%lx, VMCB "
		   "TPT_CR3 0x%lx", code, mine[1], vmcb_r64(VMCB_TPT_CR3));

	vm_init(guest_rd_tag_base, 0);
	code = svm_run();
	tap_result(code == SVM_EXIT_EXCP_BASE + 13,
		   "guest RDMSR TPT_TAG_BASE: exit 0x%lx (want #GP 0x4d)", code);

	vm_init(guest_copy, DATA_VA);
	vmcb_w64(VMCB_TPT_TAG, 0);
	code = svm_run();
	tap_result(code == SVM_EXIT_INVALID && mine[1] == 0,
		   "VMRUN with tag 0: exit 0x%lx", code);

	vm_init(guest_copy, DATA_VA);
	vmcb_w64(VMCB_NP_ENABLE, 0);
	code = svm_run();
	tap_result(code == SVM_EXIT_INVALID && mine[1] == 0,
		   "VMRUN with TPT and no nested paging: exit 0x%lx", code);

	vm_init(guest_copy, DATA_VA);
	vmcb_w64(VMCB_TPT_CR3, pa(tpt_pml4) | 3);
	code = svm_run();
	tap_result(code == SVM_EXIT_INVALID && mine[1] == 0,
		   "VMRUN with TPT_CR3 bit 1 set: exit 0x%lx", code);

	tap_result(rdmsr(MSR_TPT_TAG_BASE) == pa(tags) &&
		   rdmsr(MSR_TPT_TAG_END) == pa(tags) + sizeof(tags),
		   "host reads the tag table MSRs back: 0x%lx 0x%lx",
		   rdmsr(MSR_TPT_TAG_BASE), rdmsr(MSR_TPT_TAG_END));

	return tap_exit_status();
}
