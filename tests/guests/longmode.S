/* uint64_t long_mode_roundtrip(uint32_t pml4)
 *
 * Switches the (32-bit, paging off) guest into long mode through PAE paging
 * with the identity-mapping tables at 'pml4', runs 64-bit code that needs
 * 64-bit registers, then far-returns into 32-bit compatibility mode and
 * returns the 64-bit result in edx:eax. The CPU stays in long mode, so
 * interrupts must stay off afterwards: the IDT is still a 32-bit one. */

#define CR4_PAE 0x20
#define CR0_PG 0x80000000
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define SEL_CODE32 0x08
#define SEL_CODE64 0x18

	.text
	.code32
	.globl long_mode_roundtrip
long_mode_roundtrip:
	pushl %ebp
	movl %esp, %ebp
	pushl %ebx
	cli
	movl 8(%ebp), %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0
	ljmp $SEL_CODE64, $1f

	.code64
1:	movl %esp, %esp            /* the upper halves are undefined after the switch */
	movabsq $0x123456789abcdef0, %rax
	rolq $8, %rax
	movq %rax, %rdx
	shrq $32, %rdx
	pushq $SEL_CODE32
	leaq 2f(%rip), %rcx
	pushq %rcx
	lretq

	.code32
2:	popl %ebx
	popl %ebp
	ret

	.section .note.GNU-stack,"",@progbits
