/* void svm_enter(uint64_t guest_vmcb_pa, struct vcpu_regs *regs,
 *                uint64_t host_vmcb_pa)
 *
 * Loads the guest's general registers (rax and rsp live in the VMCB), runs
 * it with VMLOAD/VMRUN/VMSAVE, stores its registers back and reloads the
 * host's FS/GS/TR/LDTR/SYSCALL state with VMLOAD. Called with GIF clear.
 * Register offsets follow struct vcpu_regs: rax 0, rcx 8, rdx 16, rbx 24,
 * rsp 32, rbp 40, rsi 48, rdi 56, r8..r15 64..120. */

	.text
	.globl svm_enter
svm_enter:
	pushq %rbp
	movq %rsp, %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdx            /* host VMCB */
	pushq %rsi            /* regs */
	pushq %rdi            /* guest VMCB */

	movq %rsi, %rax
	movq 8(%rax), %rcx
	movq 16(%rax), %rdx
	movq 24(%rax), %rbx
	movq 40(%rax), %rbp
	movq 48(%rax), %rsi
	movq 56(%rax), %rdi
	movq 64(%rax), %r8
	movq 72(%rax), %r9
	movq 80(%rax), %r10
	movq 88(%rax), %r11
	movq 96(%rax), %r12
	movq 104(%rax), %r13
	movq 112(%rax), %r14
	movq 120(%rax), %r15

	movq (%rsp), %rax
	vmload %rax
	vmrun %rax
	vmsave %rax

	movq 8(%rsp), %rax
	movq %rcx, 8(%rax)
	movq %rdx, 16(%rax)
	movq %rbx, 24(%rax)
	movq %rbp, 40(%rax)
	movq %rsi, 48(%rax)
	movq %rdi, 56(%rax)
	movq %r8, 64(%rax)
	movq %r9, 72(%rax)
	movq %r10, 80(%rax)
	movq %r11, 88(%rax)
	movq %r12, 96(%rax)
	movq %r13, 104(%rax)
	movq %r14, 112(%rax)
	movq %r15, 120(%rax)

	movq 16(%rsp), %rax
	vmload %rax           /* host TR (IST stacks!), FS, GS, LDTR... */

	addq $24, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

	.section .note.GNU-stack,"",@progbits
