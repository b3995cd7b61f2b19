#include "hv/x86/trap.h"

#include "hv/x86/gdt.h"

struct __attribute__((packed)) idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
};

struct __attribute__((packed)) idt_pointer {
	uint16_t limit;
	uint64_t base;
};

#define STUB_SIZE 16
#define GATE_INTERRUPT 0x8e

extern char isr_stubs[];
static struct idt_gate idt[256] __attribute__((aligned(16)));

static void set_gate(unsigned vector, uint64_t handler, uint8_t ist)
{
	idt[vector] = (struct idt_gate){
		.offset_lo = (uint16_t)handler,
		.selector = SEL_CODE64,
		.ist = ist,
		.type_attr = GATE_INTERRUPT,
		.offset_mid = (uint16_t)(handler >> 16),
		.offset_hi = (uint32_t)(handler >> 32),
	};
}

void idt_init(void)
{
	uint64_t base = (uint64_t)(uintptr_t)isr_stubs;

	for (unsigned v = 0; v < 256; v++) {
		uint8_t ist = 0;
		if (v == VEC_DF)
			ist = IST_DOUBLE_FAULT;
		else if (v == VEC_NMI)
			ist = IST_NMI;
		else if (v == VEC_MC)
			ist = IST_MACHINE_CHECK;
		set_gate(v, base + v * STUB_SIZE, ist);
	}
	idt_load();
}

/* One table serves every CPU: its gates are the same everywhere, and the
 * IST numbers they carry index each CPU's own TSS. */
void idt_load(void)
{
	struct idt_pointer idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(idtr));
}
