/* MSR accesses that survive #GP: the ex_table entries send a faulting
 * rdmsr/wrmsr to the 'return false' path (see trap_apply_fixup). */

	.text
	.globl rdmsr_safe
	/* bool rdmsr_safe(uint32_t msr, uint64_t *value) */
rdmsr_safe:
	movl %edi, %ecx
1:	rdmsr
	shlq $32, %rdx
	orq %rdx, %rax
	movq %rax, (%rsi)
	movl $1, %eax
	ret
2:	xorl %eax, %eax
	ret
	.pushsection ex_table, "a"
	.long 1b - .
	.long 2b - .
	.popsection

	.globl wrmsr_safe
	/* bool wrmsr_safe(uint32_t msr, uint64_t value) */
wrmsr_safe:
	movl %edi, %ecx
	movl %esi, %eax
	movq %rsi, %rdx
	shrq $32, %rdx
3:	wrmsr
	movl $1, %eax
	ret
4:	xorl %eax, %eax
	ret
	.pushsection ex_table, "a"
	.long 3b - .
	.long 4b - .
	.popsection

	.section .note.GNU-stack,"",@progbits
