/* First link pass: an empty symbol table with the same symbols. */
	.section .rodata.hv_symtab, "a"
	.globl hv_symtab_count, hv_symtab, hv_symstr
	.p2align 3
hv_symtab_count:
	.quad 0
hv_symtab:
hv_symstr:
	.byte 0
	.section .note.GNU-stack,"",@progbits
