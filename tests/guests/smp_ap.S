/* The application processors' way in for smp.c: real-mode code that smp.c
 * copies to AP_TRAMPOLINE (a page below 1 MiB, start-up vector
 * AP_TRAMPOLINE >> 12). It enters protected mode on the kernel's GDT (smp.c
 * stores GDTR in ap_gdtr), takes the stack smp.c left in ap_stack_top and
 * calls ap_main(). Then the interrupt stubs of smp.c's vectors. */
#define AP_TRAMPOLINE 0x8000
#define AT(sym) (AP_TRAMPOLINE + ((sym) - ap_trampoline_start))

	.text
	.code16
	.globl ap_trampoline_start, ap_trampoline_end, ap_gdtr
ap_trampoline_start:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl AT(ap_gdtr)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $AT(ap_protected)
	.code32
ap_protected:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movl ap_stack_top, %esp
	movl $ap_main, %eax
	call *%eax
1:	cli
	hlt
	jmp 1b
	.p2align 2
ap_gdtr:
	.word 0
	.long 0
ap_trampoline_end:

	.globl isr_ipi, isr_nmi, isr_ap_timer
isr_ipi:
	pushal
	call on_ipi
	popal
	iret
isr_nmi:
	pushal
	call on_nmi
	popal
	iret
isr_ap_timer:
	pushal
	call on_ap_timer
	popal
	iret

	.section .note.GNU-stack,"",@progbits
