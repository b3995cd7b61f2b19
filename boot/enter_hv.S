	.text
	.globl boot_enter_hv
	/* void boot_enter_hv(struct boot_info *bi, uint64_t stack_top,
	 *                    void (*entry)(struct boot_info *)) */
boot_enter_hv:
	movq %rsi, %rsp
	xorl %ebp, %ebp   /* ends frame-pointer backtraces */
	pushq $0          /* fake return address, keeps the ABI alignment */
	jmp *%rdx

	.section .note.GNU-stack,"",@progbits
