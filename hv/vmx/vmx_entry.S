/* int vmx_enter(struct vcpu_regs *regs, int launched)
 *
 * Loads the guest's general registers (rsp lives in the VMCS), enters it
 * with VMLAUNCH or VMRESUME and, at the VM exit (HOST_RIP = vmx_exit_point,
 * HOST_RSP = the stack as left here), stores them back. Returns 0 after an
 * exit and 1 when the entry instruction itself failed (VM-instruction
 * error in the VMCS). Called with interrupts off. Register offsets follow
 * struct vcpu_regs: rax 0, rcx 8, rdx 16, rbx 24, rsp 32, rbp 40, rsi 48,
 * rdi 56, r8..r15 64..120. */

#define VMCS_HOST_RSP 0x6c14

	.text
	.globl vmx_enter
vmx_enter:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi            /* regs, found again at the exit */

	movq $VMCS_HOST_RSP, %rax
	vmwrite %rsp, %rax
	jbe .Lfail

	cmpl $0, %esi         /* the flags survive the loads below */
	movq %rdi, %rax
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
	movq (%rax), %rax
	jne .Lresume
	vmlaunch
	jmp .Lfail
.Lresume:
	vmresume
.Lfail:
	movl $1, %eax
	jmp .Lout

	.globl vmx_exit_point
vmx_exit_point:
	pushq %rax
	movq 8(%rsp), %rax    /* regs */
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
	popq %rcx
	movq %rcx, (%rax)
	xorl %eax, %eax
.Lout:
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

	.section .note.GNU-stack,"",@progbits
