/* A memory copy that survives a machine check raised while it reads: the
 * ex_table entries send a #MC taken inside it to the 'return -1' path (the
 * #MC handler applies the fixup after queueing the error), so migration
 * reports a page it cannot read instead of the hypervisor dying. */

	.text
	.globl copy_mc_safe
	/* int copy_mc_safe(void *dst, const void *src, size_t len) */
copy_mc_safe:
	movq %rdx, %rcx
	shrq $3, %rcx
1:	rep movsq
	movq %rdx, %rcx
	andq $7, %rcx
2:	rep movsb
	xorl %eax, %eax
	ret
3:	movl $-1, %eax
	ret
	.pushsection ex_table, "a"
	.long 1b - .
	.long 3b - .
	.long 2b - .
	.long 3b - .
	.popsection

	.section .note.GNU-stack,"",@progbits
