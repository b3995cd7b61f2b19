/* void mbload_enter(uint32_t entry, uint32_t info)
 *
 * From the firmware's long mode to what multiboot promises: 32-bit
 * protected mode, flat segments, paging off, EAX = 0x2BADB002, EBX = info.
 * Runs from identity-mapped memory below 4 GiB (UEFI maps it so): a far
 * return to a 32-bit code segment (compatibility mode), then paging off,
 * which leaves long mode, then EFER.LME off (SDM vol. 3 §10.8.5.4). */

	.text
	.code64
	.globl mbload_enter
mbload_enter:
	cli
	movl %edi, %edi /* entry: kept in EDI across the switch */
	movl %esi, %esi /* info: in ESI */
	leaq gdt(%rip), %rax
	movq %rax, gdt_base(%rip)
	lgdt gdt_limit(%rip)
	leaq 1f(%rip), %rax
	pushq $0x08
	pushq %rax
	lretq
	.code32
1:	movl $0x10, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movl %cr0, %eax
	andl $0x7fffffff, %eax
	movl %eax, %cr0
	movl $0xc0000080, %ecx
	rdmsr
	andl $~0x100, %eax
	wrmsr
	movl %cr4, %eax
	andl $~0x20, %eax /* PAE off too: the kernel expects none */
	movl %eax, %cr4
	movl %esi, %ebx
	movl $0x2badb002, %eax
	jmp *%edi

	.data
	.p2align 3
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff /* 0x08: 32-bit code, flat */
	.quad 0x00cf92000000ffff /* 0x10: data, flat */
gdt_end:
	.p2align 1
	.word 0
gdt_limit:
	.word gdt_end - gdt - 1
gdt_base:
	.quad 0

	.section .note.GNU-stack,"",@progbits
