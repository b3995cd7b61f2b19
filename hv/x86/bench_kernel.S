/* uint32_t bench_kernel(uint32_t n)
 *
 * A register-only loop used by `make bench` to compare a guest's compute
 * speed with the hypervisor's: the loop body encodes to the same bytes in
 * 32-bit and 64-bit mode (no REX, no one-byte inc/dec), and this file is
 * built into hv.efi and into the bench guest. */
	.text
	.globl bench_kernel
bench_kernel:
#ifdef __x86_64__
	movl %edi, %ecx
#else
	movl 4(%esp), %ecx
#endif
	movl $0x12345678, %eax
	movl $0x9e3779b9, %edx
	testl %ecx, %ecx
	jz 2f
	.p2align 4
1:	imull $0x2c1b3c6d, %eax, %eax
	addl %edx, %eax
	roll $13, %eax
	subl $1, %ecx
	jnz 1b
2:	ret

	.section .note.GNU-stack,"",@progbits
