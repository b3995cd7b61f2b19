/* Entry of every test guest: multiboot header, own GDT and IDT, stack,
 * then main(magic, mbi); main's return value leaves through the
 * isa-debug-exit port. */

#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x3 /* page-aligned modules, memory information */

	.section .multiboot, "a"
	.p2align 2
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.text
	.globl _start
_start:
	cli
	lgdt gdt_ptr
	ljmp $0x08, $1f
1:	movw $0x10, %cx
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %fs
	movw %cx, %gs
	movw %cx, %ss
	movl $stack_top, %esp
	pushl %eax
	call idt_setup
	popl %eax
	pushl %ebx
	pushl %eax
	call main
	pushl %eax
	call guest_exit
2:	cli
	hlt
	jmp 2b

/* Interrupt stubs: vectors 0-31 go to the fault handler, the timer vector
 * (0x30) and the spurious vector (0xff) to their own. */
	.globl isr_timer, isr_spurious, isr_fault_table
isr_timer:
	pushal
	call timer_interrupt
	popal
	iret
isr_spurious:
	iret

	.set vec, 0
	.p2align 4
isr_fault_table:
	.rept 32
	.p2align 4
	pushl $vec
	jmp fault_common
	.set vec, vec + 1
	.endr
fault_common:
	/* stack: vector, [error code], eip ... (error codes make eip's place vary;
	 * the handler reports the raw words) */
	movl %esp, %eax
	pushl %eax
	call fault_interrupt
3:	cli
	hlt
	jmp 3b

	.data
	.p2align 3
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff /* 0x08 code */
	.quad 0x00cf92000000ffff /* 0x10 data */
	.quad 0x00af9a000000ffff /* 0x18 64-bit code (longmode.S) */
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt

	.bss
	.p2align 4
	.space 16384
stack_top:

	.section .note.GNU-stack,"",@progbits
