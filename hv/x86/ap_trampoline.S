/* Where a started CPU begins: real mode at the start of a page below 1 MiB
 * (the SIPI vector names the page). It goes through 32-bit protected mode to
 * long mode on small page tables that map the first 2 MiB, then loads the
 * hypervisor's own CR3 and calls the C entry on its own stack.
 *
 * ap_start.c copies ap_trampoline_start..ap_trampoline_end to the page and
 * fills the parameter block at ap_trampoline_params (struct ap_params, whose
 * offsets the AP_* constants below repeat). Everything here addresses the
 * block relative to the page base in EBX, so the code runs wherever the page is. */

#define AP_GDTR 0
#define AP_JUMP32 8
#define AP_JUMP64 16
#define AP_PML4 24
#define AP_ARRIVED 28
#define AP_EFER 32
#define AP_CR0 40
#define AP_CR4 48
#define AP_CR3 56
#define AP_STACK 64
#define AP_ARG 72
#define AP_ENTRY 80
#define AP_GDT 88

#define PARAMS (ap_trampoline_params - ap_trampoline_start)
#define CR0_PE 1
#define CR4_PAE 0x20
#define MSR_EFER 0xc0000080
#define SEL_CODE32 0x08
#define SEL_DATA32 0x10

	.text
	.globl ap_trampoline_start, ap_trampoline_32, ap_trampoline_64, ap_trampoline_params
	.globl ap_trampoline_end

	.code16
ap_trampoline_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	xorl %ebx, %ebx
	movw %ax, %bx
	shll $4, %ebx
	lgdtl PARAMS + AP_GDTR
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl *(PARAMS + AP_JUMP32)

	.code32
ap_trampoline_32:
	movw $SEL_DATA32, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $CR4_PAE, %eax
	movl %eax, %cr4
	movl PARAMS + AP_PML4(%ebx), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	movl PARAMS + AP_EFER(%ebx), %eax
	movl PARAMS + AP_EFER + 4(%ebx), %edx
	wrmsr
	movl PARAMS + AP_CR0(%ebx), %eax
	movl %eax, %cr0
	ljmpl *PARAMS + AP_JUMP64(%ebx)

	.code64
ap_trampoline_64:
	movl %ebx, %ebx /* the upper half is undefined after the mode switch */
	movq PARAMS + AP_CR4(%rbx), %rax
	movq %rax, %cr4
	movq PARAMS + AP_CR3(%rbx), %rax
	movq %rax, %cr3
	movq PARAMS + AP_STACK(%rbx), %rsp
	movq PARAMS + AP_ARG(%rbx), %rdi
	movq PARAMS + AP_ENTRY(%rbx), %rax
	/* Read everything: the boot CPU may now reuse the block for the next CPU. */
	movl $1, PARAMS + AP_ARRIVED(%rbx)
	xorl %ebp, %ebp
	call *%rax
1:	cli
	hlt
	jmp 1b

	.balign 8
ap_trampoline_params:
	.fill AP_GDT + 32, 1, 0
ap_trampoline_end:

/* The census, for firmware that lists no CPUs (no MADT: OVMF under Bochs).
 * Sent to every CPU but the sender, it records each one's initial APIC ID
 * (CPUID leaf 1, EBX bits 31:24) and halts; ap_census reads the list, and
 * each CPU is then started one at a time like the MADT's. */
#define CENSUS_COUNT (ap_census_count - ap_census_start)
#define CENSUS_IDS (ap_census_ids - ap_census_start)
#define CENSUS_MAX 256

	.globl ap_census_start, ap_census_count, ap_census_ids, ap_census_end
	.code16
ap_census_start:
	cli
	movw %cs, %ax
	movw %ax, %ds
	movl $1, %eax
	cpuid
	shrl $24, %ebx
	movw $1, %ax
	lock xaddw %ax, CENSUS_COUNT
	cmpw $CENSUS_MAX, %ax
	jae 1f
	shlw $2, %ax
	movw %ax, %si
	movl %ebx, CENSUS_IDS(%si)
1:	cli
	hlt
	jmp 1b

	.balign 4
ap_census_count:
	.word 0
	.balign 4
ap_census_ids:
	.fill CENSUS_MAX, 4, 0
ap_census_end:
