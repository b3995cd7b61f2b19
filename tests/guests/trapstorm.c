/* Debug and alignment exceptions, handled by the guest's own handlers,
 * then (storm=db or storm=ac) an exception raised while the CPU delivers
 * that same exception, which on bare hardware loops inside the CPU for
 * ever (CVE-2015-8104, CVE-2015-5307): the VM must spin, the host not.
 *
 * Without storm= it reports, and exits with 0:
 *   trapstorm: single-step traps=N dr6=0x...      (TF over five instructions)
 *   trapstorm: data breakpoint traps=N dr6=0x...  (DR0 write watch)
 *   trapstorm: general detect traps=N dr6=0x... dr7=0x...
 * storm=db: long mode, #DB through IST 1 with DR0 watching the IST's top,
 * so every delivery writes the watched quadword again.
 * storm=ac: CPL 3 with CR0.AM and RFLAGS.AC, #AC handled at CPL 3 on a
 * misaligned stack, so every delivery's push is misaligned again. A CPU
 * that does not raise #AC (QEMU's TCG) is reported and the guest exits 3. */
#include "rt.h"

#define EFLAGS_TF 0x100u
#define EFLAGS_AC 0x40000u
#define EFLAGS_IOPL3 0x3000u
#define CR0_AM 0x40000u
#define DR6_CLEAR 0xffff0ff0u

volatile uint32_t db_traps, db_last_dr6, ac_traps;
volatile uint32_t watched;

struct gate32 {
	uint16_t off_lo, sel;
	uint8_t zero, type;
	uint16_t off_hi;
} __attribute__((packed));

struct dtr32 {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

static void set_gate32(int vector, void (*handler)(void), uint16_t sel)
{
	struct dtr32 idtr;
	uint32_t a = (uint32_t)handler;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	struct gate32 *idt = (struct gate32 *)idtr.base;
	idt[vector] = (struct gate32){ (uint16_t)a, sel, 0, 0x8e, (uint16_t)(a >> 16) };
}

/* #DB at CPL 0: note DR6, clear it, return. Reading DR6 here would #DB
 * again if DR7.GD were still set: delivery clears it. */
void db_stub(void);
__asm__(".text\n.globl db_stub\ndb_stub:\n"
	"pushl %eax\n"
	"movl %dr6, %eax\n"
	"movl %eax, db_last_dr6\n"
	"incl db_traps\n"
	"movl $0xffff0ff0, %eax\n"
	"movl %eax, %dr6\n"
	"popl %eax\n"
	"iret\n");

static void single_step(void)
{
	db_traps = 0;
	__asm__ volatile("pushfl; orl %0, (%%esp); popfl\n"
			 "nop; nop; nop\n"
			 "pushfl; andl %1, (%%esp); popfl"
			 : : "i"(EFLAGS_TF), "i"(~EFLAGS_TF) : "memory", "cc");
	gprintf("trapstorm: single-step traps=%u dr6=0x%x\n", db_traps, db_last_dr6);
}

static void data_breakpoint(void)
{
	db_traps = 0;
	/* L0, R/W0 = 01 (writes), LEN0 = 11 (4 bytes) */
	__asm__ volatile("movl %0, %%dr0; movl %1, %%dr7" : : "r"(&watched), "r"(0x000d0001u));
	watched = 1;
	__asm__ volatile("movl %0, %%dr7" : : "r"(0u));
	gprintf("trapstorm: data breakpoint traps=%u dr6=0x%x\n", db_traps, db_last_dr6);
}

static void general_detect(void)
{
	uint32_t dr0, dr7;

	db_traps = 0;
	__asm__ volatile("movl %0, %%dr7" : : "r"(0x2000u));
	/* Faults once; the handler returns here with GD clear and it runs. */
	__asm__ volatile("movl %%dr0, %0" : "=r"(dr0));
	__asm__ volatile("movl %%dr7, %0" : "=r"(dr7));
	(void)dr0;
	gprintf("trapstorm: general detect traps=%u dr6=0x%x dr7=0x%x\n", db_traps, db_last_dr6,
		dr7 & 0xffffu);
}

/* ---- storm=db: long mode, #DB on IST 1, DR0 on the IST's top ---------- */

#define SEL_CODE64 0x18
#define SEL_TSS64 0x20

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));
static uint64_t gdt64[6] __attribute__((aligned(16)));
static uint8_t tss64[104] __attribute__((aligned(16)));
static uint64_t idt64[2 * 32] __attribute__((aligned(16)));
static uint8_t ist_stack[4096] __attribute__((aligned(4096)));
struct {
	uint16_t pad[3];
	uint16_t limit;
	uint64_t base;
} __attribute__((packed, aligned(8))) idt64_ptr;
uint32_t storm_watch; /* the quadword below the IST's top: SS of each frame */

void db_storm_enter(uint32_t pml4_pa);
void db64_handler(void);
/* Only reached if a delivery did not trip the watch: says so and exits 2. */
__asm__(".text\n.code64\n.globl db64_handler\ndb64_handler:\n"
	"leaq nolooptext(%rip), %rsi\n"
	"1: movb (%rsi), %al\n"
	"testb %al, %al\n"
	"jz 2f\n"
	"movw $0x3f8, %dx\n"
	"outb %al, %dx\n"
	"incq %rsi\n"
	"jmp 1b\n"
	"2: movw $0xf4, %dx\n"
	"movb $2, %al\n"
	"outb %al, %dx\n"
	"3: hlt\n"
	"jmp 3b\n"
	".code32\n"
	".section .rodata\nnolooptext: .asciz \"trapstorm: #DB delivered without looping\\n\"\n"
	".text\n");

/* 32-bit entry: paging with the given tables, long mode, the 64-bit IDT
 * and TSS, the watch, and a write that trips it. Never returns. */
__asm__(".text\n.code32\n.globl db_storm_enter\ndb_storm_enter:\n"
	"cli\n"
	"movl 4(%esp), %eax\n"
	"movl %eax, %cr3\n"
	"movl %cr4, %eax\n"
	"orl $0x20, %eax\n"
	"movl %eax, %cr4\n"
	"movl $0xc0000080, %ecx\n"
	"rdmsr\n"
	"orl $0x100, %eax\n"
	"wrmsr\n"
	"movl %cr0, %eax\n"
	"orl $0x80000000, %eax\n"
	"movl %eax, %cr0\n"
	"ljmp $0x18, $1f\n"
	".code64\n"
	"1: lidt idt64_ptr+6(%rip)\n"
	"movw $0x20, %ax\n"
	"ltr %ax\n"
	"movl storm_watch(%rip), %eax\n"
	"movq %rax, %dr0\n"
	"movq $0x00090001, %rax\n" /* L0, writes, 8 bytes */
	"movq %rax, %dr7\n"
	"movl storm_watch(%rip), %eax\n"
	"movq $0, (%rax)\n"
	"4: jmp 4b\n"
	".code32\n");

static void db_storm(void)
{
	struct dtr32 gdtr;

	for (uint32_t i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;
	pdpt[0] = (uint32_t)pd | 3;
	pml4[0] = (uint32_t)pdpt | 3;
	/* The boot GDT's four descriptors, then a 64-bit TSS. */
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	memcpy(gdt64, (void *)gdtr.base, 4 * 8);
	uint32_t t = (uint32_t)tss64;
	gdt64[4] = (uint64_t)(sizeof(tss64) - 1) | ((uint64_t)(t & 0xffffff) << 16) |
		   (0x89ull << 40) | ((uint64_t)(t >> 24) << 56);
	gdt64[5] = 0;
	uint32_t ist_top = (uint32_t)ist_stack + sizeof(ist_stack);
	memset(tss64, 0, sizeof(tss64));
	memcpy(tss64 + 0x24, &ist_top, 4); /* IST1 */
	uint32_t h = (uint32_t)db64_handler;
	idt64[2 * 1] = (uint64_t)(h & 0xffff) | ((uint64_t)SEL_CODE64 << 16) | (1ull << 32) |
		       (0x8eull << 40) | ((uint64_t)(h >> 16) << 48);
	idt64[2 * 1 + 1] = 0;
	idt64_ptr.limit = sizeof(idt64) - 1;
	idt64_ptr.base = (uint32_t)idt64;
	storm_watch = ist_top - 8;
	struct dtr32 p = { sizeof(gdt64) - 1, (uint32_t)gdt64 };
	__asm__ volatile("lgdt %0" : : "m"(p));
	gprintf("trapstorm: storm db\n");
	db_storm_enter((uint32_t)pml4);
}

/* ---- storm=ac: CPL 3, AC on, #AC handled at CPL 3 -------------------- */

#define SEL_CODE3 (0x20 | 3)
#define SEL_DATA3 (0x28 | 3)

static uint64_t gdt_ring3[6] __attribute__((aligned(16)));
static uint8_t ring3_stack[8192] __attribute__((aligned(16)));
uint32_t ac_storm_esp;
volatile uint32_t ac_storm;

void ac_stub(void);
void ring3_entry(void);
/* #AC at CPL 3 (no stack switch): the probe's misaligned load is let
 * through by clearing AC in the frame (error code, EIP, CS, EFLAGS). */
__asm__(".text\n.globl ac_stub\nac_stub:\n"
	"incl %ss:ac_traps\n"
	"andl $~0x40000, %ss:12(%esp)\n"
	"addl $4, %esp\n"
	"iret\n");

static void ring3_main(void)
{
	static volatile uint32_t probe[2];
	uint32_t v;

	/* A misaligned load with AC set: #AC if this CPU checks alignment. */
	__asm__ volatile("pushfl; orl %1, (%%esp); popfl\n"
			 "movl (%2), %0"
			 : "=r"(v) : "i"(EFLAGS_AC), "r"((uintptr_t)probe + 1) : "memory", "cc");
	(void)v;
	if (!ac_traps) {
		gprintf("trapstorm: this CPU does not raise #AC\n");
		guest_exit(3);
	}
	gprintf("trapstorm: storm ac\n");
	/* Misaligned stack, AC on: the next #AC's own push is misaligned. */
	__asm__ volatile("pushfl; orl %1, (%%esp); popfl\n"
			 "movl %0, %%esp\n"
			 "movl (%2), %%eax\n"
			 "1: jmp 1b"
			 : : "r"(ac_storm_esp), "i"(EFLAGS_AC), "r"((uintptr_t)probe + 1)
			 : "memory", "cc", "eax");
}

__asm__(".text\n.globl ring3_entry\nring3_entry:\n"
	"movw $0x2b, %ax\n"
	"movw %ax, %ds\n"
	"movw %ax, %es\n"
	"call ring3_main_thunk\n"
	"1: jmp 1b\n");
void ring3_main_thunk(void);
void ring3_main_thunk(void)
{
	ring3_main();
}

static void ac_storm_run(void)
{
	struct dtr32 gdtr;
	uint32_t cr0;

	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	memcpy(gdt_ring3, (void *)gdtr.base, 4 * 8);
	gdt_ring3[4] = 0x00cffa000000ffffull; /* code, DPL 3 */
	gdt_ring3[5] = 0x00cff2000000ffffull; /* data, DPL 3 */
	struct dtr32 p = { sizeof(gdt_ring3) - 1, (uint32_t)gdt_ring3 };
	__asm__ volatile("lgdt %0" : : "m"(p));
	set_gate32(17, ac_stub, SEL_CODE3);
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | CR0_AM));
	uint32_t top = (uint32_t)ring3_stack + sizeof(ring3_stack);
	ac_storm_esp = top - 4096 + 1;
	/* IRET to CPL 3 with IOPL 3 (the UART and the exit port stay
	 * reachable) and interrupts off. */
	__asm__ volatile("pushl %0\n"
			 "pushl %1\n"
			 "pushl %2\n"
			 "pushl %3\n"
			 "pushl %4\n"
			 "iret"
			 : : "i"(SEL_DATA3), "r"(top - 16), "i"(EFLAGS_IOPL3 | 2),
			   "i"(SEL_CODE3), "r"(ring3_entry) : "memory");
}

int main(uint32_t magic, const struct mb_info *mbi);
int main(uint32_t magic, const struct mb_info *mbi)
{
	char storm[8];

	rt_init(magic, mbi);
	cli();
	set_gate32(1, db_stub, 0x08);
	single_step();
	data_breakpoint();
	general_detect();
	if (!arg_str("storm", storm, sizeof(storm)))
		return 0;
	if (!strncmp(storm, "db", 3))
		db_storm();
	else if (!strncmp(storm, "ac", 3))
		ac_storm_run();
	gprintf("trapstorm: unknown storm '%s'\n", storm);
	return 1;
}
