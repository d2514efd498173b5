/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Entry of the bare-metal tests.  QEMU's -kernel loads a Multiboot (v1)
 * image; the header's address fields (the "a.out kludge") let this flat
 * binary be loaded at 1 MiB although its code is 64-bit.  The loader enters
 * in 32-bit protected mode with paging off; build page tables that identity
 * map the first GiB with 2 MiB pages, enable long mode and call
 * main(), whose return value goes to isa-debug-exit.
 */
#define MB_MAGIC	0x1badb002
#define MB_FLAGS	(1 << 16)

	.section .multiboot, "a"
	.code32
	.align 4
mb_header:
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)
	.long	mb_header		/* header_addr */
	.long	__load_start		/* load_addr */
	.long	__load_end		/* load_end_addr */
	.long	__bss_end		/* bss_end_addr */
	.long	start32			/* entry_addr */

	.text
	.code32
	.globl	start32
start32:
	cli
	mov	$stack_top, %esp

	/* PML4[0] -> PDPT, PDPT[0] -> PD, PD[i] -> i * 2 MiB */
	mov	$pdpt, %eax
	or	$0x3, %eax
	mov	%eax, pml4
	mov	$pd, %eax
	or	$0x3, %eax
	mov	%eax, pdpt
	xor	%ecx, %ecx
1:	mov	%ecx, %eax
	shl	$21, %eax
	or	$0x83, %eax			/* P, RW, PS */
	mov	%eax, pd(, %ecx, 8)
	movl	$0, pd + 4(, %ecx, 8)
	inc	%ecx
	cmp	$512, %ecx
	jne	1b

	mov	%cr4, %eax
	or	$0x20, %eax			/* PAE */
	mov	%eax, %cr4
	mov	$pml4, %eax
	mov	%eax, %cr3
	mov	$0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	or	$0x100, %eax
	wrmsr
	mov	%cr0, %eax
	or	$0x80000001, %eax		/* PG, PE */
	mov	%eax, %cr0
	lgdt	gdt_desc
	ljmp	$0x08, $start64

	.code64
start64:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	mov	$stack_top, %rsp
	call	main
	mov	%eax, %edi
	call	bm_exit
2:	hlt
	jmp	2b

	.section .rodata
	.align 16
	.globl	bm_gdt
bm_gdt:
	.quad	0
	.quad	0x00af9a000000ffff		/* 0x08: 64-bit code */
	.quad	0x00cf92000000ffff		/* 0x10: data */
	.quad	0x00cf9a000000ffff		/* 0x18: 32-bit code */
gdt_end:
gdt_desc:
	.word	gdt_end - bm_gdt - 1
	.quad	bm_gdt

	.bss
	.align 4096
pml4:	.skip	4096
pdpt:	.skip	4096
pd:	.skip	4096
	.skip	16384
stack_top:

	.section .note.GNU-stack, "", @progbits
