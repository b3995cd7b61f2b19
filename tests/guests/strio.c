/* String I/O against the guest's own page protections: REP INS/OUTS on
 * port 0xe9 (the debug console: reads give 0xe9, writes print) from CPL 3
 * into a supervisor page, across a page boundary onto a read-only or a
 * not-present page, element by element and with an element split across
 * the boundary; from CPL 0 into a read-only page with CR0.WP set and
 * clear, into a user page under SMAP with RFLAGS.AC clear and set, and
 * through ES segments the CPU refuses. Its own #PF/#GP handlers record
 * vector, error code, CR2 and ECX/ESI/EDI, and one line per case says
 * what happened, with addresses relative to the test pages:
 *   strio: NAME vector=14 err=0x7 cr2=URO+0x0 ecx=4 edi=URO+0x0 ...
 * and whether the pages that must not change are intact. */
#include "rt.h"

#define PTE_P 0x1u
#define PTE_RW 0x2u
#define PTE_US 0x4u
#define PTE_PS 0x80u
#define CR0_WP (1u << 16)
#define CR0_PG (1u << 31)
#define CR4_PSE (1u << 4)
#define CR4_SMAP (1u << 21)
#define EFLAGS_AC (1u << 18)
#define EFLAGS_IOPL3 (3u << 12)
#define EFLAGS_FIXED 0x2u
#define PORT 0xe9
#define FILL 0x5a

#define SEL_UCODE 0x23
#define SEL_UDATA 0x2b
#define SEL_TSS 0x30
#define SEL_ES_SMALL 0x38 /* data, base SUPER, limit 0xfff */
#define SEL_ES_RO 0x40    /* read-only data, flat */

enum { SUPER, UBUF, URO, UBUF2, NP, PAGES };
static const char *const page_name[PAGES] = { "SUPER", "UBUF", "URO", "UBUF2", "NP" };

/* Linear order matters: UBUF is followed by URO, UBUF2 by NP. */
static uint8_t pages[PAGES][4096] __attribute__((aligned(4096)));
static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint32_t pt0[1024] __attribute__((aligned(4096)));
uint8_t user_stack[4096] __attribute__((aligned(4096), used)); /* only the asm names it */
static uint8_t kernel_stack0[4096] __attribute__((aligned(16)));
static uint32_t tss[26];
static uint64_t gdt[9];

/* What the last trap_run() ended with (written by the asm below). */
uint32_t trap_vector, trap_error, trap_cr2, trap_ecx, trap_esi, trap_edi, saved_esp;
/* The case to run: where, with which registers, at which CPL. */
struct trap_in {
	uint32_t eip, ecx, esi, edi, edx, eflags, user, es;
};
uint32_t trap_run(const struct trap_in *in);
extern char user_insb[], user_insl[], user_outsb[], user_outsw[], user_code_end[];
extern char catch_pf[], catch_gp[], catch_ret[];

/* trap_run enters the case with IRET (to CPL 3, or to CPL 0 so that
 * EFLAGS.AC comes from the case too) and comes back when one of the
 * catchers fires: #PF, #GP, or INT 0x80 after the instruction. Each
 * catcher records the state at the trap and returns from trap_run on the
 * stack it saved. The snippets live alone in one page, the only code page
 * that is user-accessible. */
__asm__(
	".text\n"
	".globl trap_run\n"
	"trap_run:\n"
	"	pushl %ebp\n	pushl %ebx\n	pushl %esi\n	pushl %edi\n"
	"	movl %esp, saved_esp\n"
	"	movl 20(%esp), %eax\n"
	"	cmpl $0, 24(%eax)\n"
	"	je 1f\n"
	"	pushl $0x2b\n"
	"	pushl $user_stack + 4096\n"
	"	pushl 20(%eax)\n"
	"	pushl $0x23\n"
	"	jmp 2f\n"
	"1:	pushl 20(%eax)\n"
	"	pushl $0x08\n"
	"2:	pushl 0(%eax)\n"
	"	movw 28(%eax), %es\n"
	"	movl 4(%eax), %ecx\n"
	"	movl 8(%eax), %esi\n"
	"	movl 12(%eax), %edi\n"
	"	movl 16(%eax), %edx\n"
	"	cmpl $0, 24(%eax)\n"
	"	je 3f\n"
	"	movw $0x2b, %ax\n"
	"	movw %ax, %ds\n"
	"3:	iret\n"
	"catch_pf:\n"
	"	movl $14, trap_vector\n"
	"	popl trap_error\n"
	"	jmp catch_common\n"
	"catch_gp:\n"
	"	movl $13, trap_vector\n"
	"	popl trap_error\n"
	"	jmp catch_common\n"
	"catch_ret:\n"
	"	movl $0x80, trap_vector\n"
	"	movl $0, trap_error\n"
	"catch_common:\n"
	"	movl %ecx, trap_ecx\n"
	"	movl %esi, trap_esi\n"
	"	movl %edi, trap_edi\n"
	"	movl %cr2, %eax\n"
	"	movl %eax, trap_cr2\n"
	"	movw $0x10, %ax\n"
	"	movw %ax, %ds\n	movw %ax, %es\n	movw %ax, %fs\n	movw %ax, %gs\n"
	"	movl saved_esp, %esp\n"
	"	popl %edi\n	popl %esi\n	popl %ebx\n	popl %ebp\n"
	"	movl trap_vector, %eax\n"
	"	ret\n"
	".section .text.user, \"ax\"\n"
	".p2align 12\n"
	"user_insb:	rep insb\n	int $0x80\n"
	"user_insl:	rep insl\n	int $0x80\n"
	"user_outsb:	rep outsb\n	int $0x80\n"
	"user_outsw:	rep outsw\n	int $0x80\n"
	"user_code_end:\n"
	".p2align 12\n"
	".text\n");

static uint32_t addr(int page, int offset)
{
	return (uint32_t)pages[page] + (uint32_t)offset;
}

/* An address as PAGE+offset when it lies in a test page. */
static void print_rel(const char *what, uint32_t a)
{
	for (int p = 0; p < PAGES; p++) {
		if (a >= addr(p, 0) && a <= addr(p, 4095)) {
			gprintf(" %s=%s+0x%x", what, page_name[p], a - addr(p, 0));
			return;
		}
	}
	gprintf(" %s=0x%x", what, a);
}

static uint32_t read_cr0(void)
{
	uint32_t v;
	__asm__ volatile("movl %%cr0, %0" : "=r"(v));
	return v;
}

static void write_cr0(uint32_t v)
{
	__asm__ volatile("movl %0, %%cr0" : : "r"(v) : "memory");
}

static uint32_t read_cr4(void)
{
	uint32_t v;
	__asm__ volatile("movl %%cr4, %0" : "=r"(v));
	return v;
}

static void write_cr4(uint32_t v)
{
	__asm__ volatile("movl %0, %%cr4" : : "r"(v) : "memory");
}

static void set_wp(bool on)
{
	write_cr0(on ? read_cr0() | CR0_WP : read_cr0() & ~CR0_WP);
}

/* Every mapped test page back to FILL (URO needs WP off for that). */
static void refill(void)
{
	bool wp = read_cr0() & CR0_WP;

	set_wp(false);
	for (int p = 0; p < PAGES; p++)
		if (p != NP)
			memset(pages[p], FILL, 4096);
	if (wp)
		set_wp(true);
}

/* " NAME=intact", or where the first changed byte is. */
static void check_page(int p)
{
	for (int i = 0; i < 4096; i++) {
		if (pages[p][i] != FILL) {
			gprintf(" %s=changed@0x%x", page_name[p], i);
			return;
		}
	}
	gprintf(" %s=intact", page_name[p]);
}

/* The bytes at [a, a+n) in hex. */
static void print_bytes(const char *what, uint32_t a, int n)
{
	gprintf(" %s=", what);
	for (int i = 0; i < n; i++)
		gprintf("%02x", ((volatile uint8_t *)a)[i]);
}

/* Prints how the last case ended: vector (128: the instruction
 * completed and reached INT 0x80), error code, CR2 for a #PF, ECX and the
 * index register. */
static void report(bool in_insn)
{
	gprintf(" vector=%u err=0x%x", trap_vector, trap_error);
	if (trap_vector == 14)
		print_rel("cr2", trap_cr2);
	gprintf(" ecx=%u", trap_ecx);
	print_rel(in_insn ? "edi" : "esi", in_insn ? trap_edi : trap_esi);
}

static struct trap_in user_case(char *code, uint32_t count, uint32_t index, bool in)
{
	return (struct trap_in){ .eip = (uint32_t)code, .ecx = count, .esi = in ? 0 : index,
				 .edi = in ? index : 0, .edx = PORT, .user = 1, .es = SEL_UDATA,
				 .eflags = EFLAGS_FIXED | EFLAGS_IOPL3 };
}

static struct trap_in kernel_case(char *code, uint32_t count, uint32_t index, bool in)
{
	struct trap_in t = user_case(code, count, index, in);

	t.user = 0;
	t.eflags = EFLAGS_FIXED;
	t.es = 0x10;
	return t;
}

static void ins_case(const char *name, const struct trap_in *t)
{
	refill();
	gprintf("strio: %s", name);
	trap_run(t);
	report(true);
}

/* OUTS prints what it sends between the brackets. */
static void outs_case(const char *name, const struct trap_in *t, uint32_t text_at,
		      const char *text)
{
	refill();
	memcpy((void *)text_at, text, strlen(text));
	gprintf("strio: %s out=[", name);
	trap_run(t);
	gprintf("]");
	report(false);
}

/* SMAP is on only around the instruction: the kernel's own fills and
 * checks touch user pages. */
static void smap_case(const char *name, const struct trap_in *t)
{
	refill();
	gprintf("strio: %s", name);
	write_cr4(read_cr4() | CR4_SMAP);
	trap_run(t);
	write_cr4(read_cr4() & ~CR4_SMAP);
	report(true);
}

static void user_cases(void)
{
	struct trap_in t;

	t = user_case(user_insb, 16, addr(SUPER, 0), true);
	ins_case("user-insb-super", &t);
	check_page(SUPER);
	gprintf("\n");

	t = user_case(user_insb, 8, addr(URO, -4), true);
	ins_case("user-insb-ro", &t);
	print_bytes("tail", addr(URO, -4), 4);
	check_page(URO);
	gprintf("\n");

	t = user_case(user_insl, 1, addr(URO, -2), true);
	ins_case("user-insl-split-ro", &t);
	print_bytes("tail", addr(URO, -2), 2);
	check_page(URO);
	gprintf("\n");

	t = user_case(user_insb, 4, addr(NP, -2), true);
	ins_case("user-insb-np", &t);
	print_bytes("tail", addr(NP, -2), 2);
	gprintf("\n");

	t = user_case(user_outsb, 6, addr(NP, -3), false);
	outs_case("user-outsb-np", &t, addr(NP, -3), "xyz");
	gprintf("\n");

	t = user_case(user_outsw, 1, addr(NP, -1), false);
	outs_case("user-outsw-split-np", &t, addr(NP, -1), "q");
	gprintf("\n");

	t = user_case(user_insb, 4, addr(UBUF, 0), true);
	ins_case("user-insb-ok", &t);
	print_bytes("head", addr(UBUF, 0), 5);
	gprintf("\n");
}

static bool smap_offered(void)
{
	uint32_t r[4];

	cpuid(0, r);
	if (r[0] < 7)
		return false;
	cpuid(7, r); /* subleaf 0: rt.h's cpuid() passes ECX = 0 */
	return r[1] & (1u << 20);
}

static void kernel_cases(void)
{
	struct trap_in t;

	t = kernel_case(user_insb, 4, addr(URO, 0), true);
	ins_case("kernel-insb-ro-wp", &t);
	check_page(URO);
	gprintf("\n");

	set_wp(false);
	ins_case("kernel-insb-ro-nowp", &t);
	print_bytes("head", addr(URO, 0), 5);
	gprintf("\n");
	set_wp(true);

	if (smap_offered()) {
		t = kernel_case(user_insb, 4, addr(UBUF, 0), true);
		smap_case("kernel-insb-smap", &t);
		check_page(UBUF);
		gprintf("\n");
		t.eflags |= EFLAGS_AC;
		smap_case("kernel-insb-smap-ac", &t);
		print_bytes("head", addr(UBUF, 0), 5);
		gprintf("\n");
	} else {
		gprintf("strio: smap not offered\n");
	}

	/* ES with a 4 KiB limit over SUPER: the element at 0x1000 is beyond. */
	t = kernel_case(user_insb, 4, 0xffe, true);
	t.es = SEL_ES_SMALL;
	ins_case("kernel-insb-es-limit", &t);
	print_bytes("tail", addr(SUPER, 0xffc), 4);
	gprintf("\n");

	/* INS stores through ES, which must be writable. */
	t = kernel_case(user_insb, 4, addr(SUPER, 0), true);
	t.es = SEL_ES_RO;
	ins_case("kernel-insb-es-readonly", &t);
	check_page(SUPER);
	gprintf("\n");
}

static uint64_t descriptor(uint32_t base, uint32_t limit, uint32_t access, uint32_t flags)
{
	return (uint64_t)(limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
	       ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
	       ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

/* start.S's selectors (0x08 code, 0x10 data) keep their descriptors; user
 * code and data, a TSS for the way back to CPL 0, and two ES segments for
 * the segment cases join them. */
static void load_gdt_and_tss(void)
{
	gdt[1] = descriptor(0, 0xfffff, 0x9a, 0xc);
	gdt[2] = descriptor(0, 0xfffff, 0x92, 0xc);
	gdt[4] = descriptor(0, 0xfffff, 0xfa, 0xc);
	gdt[5] = descriptor(0, 0xfffff, 0xf2, 0xc);
	gdt[6] = descriptor((uint32_t)tss, sizeof(tss) - 1, 0x89, 0);
	gdt[7] = descriptor(addr(SUPER, 0), 0xfff, 0x92, 0x4);
	gdt[8] = descriptor(0, 0xfffff, 0x90, 0xc);
	tss[1] = (uint32_t)kernel_stack0 + sizeof(kernel_stack0); /* ESP0 */
	tss[2] = 0x10;                                             /* SS0 */
	tss[25] = sizeof(tss) << 16;                               /* no I/O bitmap */
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) p = { sizeof(gdt) - 1, (uint32_t)gdt };
	__asm__ volatile("lgdt %0" : : "m"(p));
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
}

/* Gates in the IDT rt.c set up: #GP and #PF to the catchers, INT 0x80
 * callable from CPL 3. */
static void hook_idt(void)
{
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) p;
	__asm__ volatile("sidt %0" : "=m"(p));
	uint32_t *idt = (uint32_t *)p.base;
	const struct { int vector; char *fn; uint32_t type; } gates[] = {
		{ 13, catch_gp, 0x8e00 }, { 14, catch_pf, 0x8e00 }, { 0x80, catch_ret, 0xee00 },
	};
	for (unsigned i = 0; i < 3; i++) {
		uint32_t a = (uint32_t)gates[i].fn;
		idt[2 * gates[i].vector] = (0x08u << 16) | (a & 0xffff);
		idt[2 * gates[i].vector + 1] = (a & 0xffff0000u) | gates[i].type;
	}
}

/* 32-bit paging with PSE: 0-4 MiB in 4 KiB pages, the rest of RAM in
 * 4 MiB pages, all supervisor but the user code page, the user stack and
 * the user test pages; NP is not present. */
static void enable_paging(void)
{
	for (uint32_t i = 0; i < 1024; i++)
		pt0[i] = (i << 12) | PTE_P | PTE_RW;
	pd[0] = (uint32_t)pt0 | PTE_P | PTE_RW | PTE_US;
	for (uint32_t i = 1; i < 1024 && (i << 22) < guest_mem_top; i++)
		pd[i] = (i << 22) | PTE_PS | PTE_P | PTE_RW;
	uint32_t code = (uint32_t)user_insb;
	pt0[code >> 12] = (code & ~0xfffu) | PTE_P | PTE_US;
	pt0[(uint32_t)user_stack >> 12] |= PTE_US;
	pt0[addr(UBUF, 0) >> 12] |= PTE_US;
	pt0[addr(URO, 0) >> 12] = addr(URO, 0) | PTE_P | PTE_US;
	pt0[addr(UBUF2, 0) >> 12] |= PTE_US;
	pt0[addr(NP, 0) >> 12] = 0;
	__asm__ volatile("movl %0, %%cr3" : : "r"(pd) : "memory");
	write_cr4(read_cr4() | CR4_PSE);
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

static void disable_paging(void)
{
	write_cr0(read_cr0() & ~CR0_PG);
}

int main(uint32_t magic, const struct mb_info *mbi);
int main(uint32_t magic, const struct mb_info *mbi)
{
	rt_init(magic, mbi);
	cli();
	if ((uint32_t)user_code_end - (uint32_t)user_insb > 4096 ||
	    (uint32_t)pages[NP] + 4096 > 0x400000 || guest_mem_top < 0x800000) {
		gprintf("strio: layout: the test pages must lie below 4 MiB, RAM reach 8 MiB\n");
		return 2;
	}
	memset(pages[NP], FILL, 4096); /* unreachable once paging is on */
	load_gdt_and_tss();
	hook_idt();
	enable_paging();
	user_cases();
	kernel_cases();
	disable_paging();
	gprintf("strio:");
	check_page(NP);
	gprintf("\n");
	gprintf("strio: done\n");
	return 0;
}
