/* Writes pseudo-random values, at every width, to every I/O port (except
 * the ones that end or restart the VM: isa-debug-exit 0xf4 and the reset
 * requests at 0x64, 0x92 and 0xcf9) and to the registers of the
 * memory-mapped devices (local APIC, IOAPIC, a sample of the ECAM window),
 * reading each back, with interrupts off. Then it puts the UART back,
 * prints "chaos: survived N writes" and triple-faults on purpose: the test
 * wants the VM stopped as crashed, with a reason, and the hypervisor and
 * other VMs unharmed. Arguments: seed=N (default 1), ecam=N offsets
 * (default 4096). */
#include "rt.h"

static uint32_t state;

static uint32_t next(void)
{
	/* xorshift32: the same garbage for the same seed */
	state ^= state << 13;
	state ^= state >> 17;
	state ^= state << 5;
	return state;
}

static bool spared(uint32_t port)
{
	return (port >= 0xf4 && port < 0xf8) || port == 0x64 || port == 0x92 ||
	       (port >= 0xcf9 && port < 0xcfa);
}

static uint32_t ports(void)
{
	uint32_t writes = 0;

	for (uint32_t port = 0; port < 0x10000; port++) {
		if (spared(port) || spared(port + 1) || spared(port + 2) || spared(port + 3))
			continue;
		outb((uint16_t)port, (uint8_t)next());
		(void)inb((uint16_t)port);
		__asm__ volatile("outw %0, %1" : : "a"((uint16_t)next()), "Nd"((uint16_t)port));
		outl((uint16_t)port, next());
		(void)inl((uint16_t)port);
		writes += 3;
	}
	return writes;
}

static uint32_t mmio_page(uint32_t base, uint32_t stride)
{
	uint32_t writes = 0;

	for (uint32_t off = 0; off < 0x1000; off += stride) {
		volatile uint32_t *r = (volatile uint32_t *)(base + off);
		*r = next();
		(void)*r;
		*(volatile uint8_t *)(base + off + (next() & 3)) = (uint8_t)next();
		writes += 2;
	}
	return writes;
}

static uint32_t ecam(uint32_t samples)
{
	for (uint32_t i = 0; i < samples; i++) {
		volatile uint32_t *r = (volatile uint32_t *)(0xe0000000u + (next() & 0xffffcu));
		*r = next();
		(void)*r;
	}
	return samples;
}

/* Back to 115200 8N1, FIFOs on, no loopback, so the last line gets out. */
static void uart_back(void)
{
	outb(0x3f9, 0);
	outb(0x3fb, 0x80);
	outb(0x3f8, 1);
	outb(0x3f9, 0);
	outb(0x3fb, 0x03);
	outb(0x3fa, 0x07);
	outb(0x3fc, 0x03);
}

int main(uint32_t magic, const struct mb_info *mbi);
int main(uint32_t magic, const struct mb_info *mbi)
{
	rt_init(magic, mbi);
	state = arg_u32("seed", 1) | 1;
	gprintf("chaos: writing garbage, seed %u\n", state);
	cli();
	uint32_t writes = ports();
	writes += mmio_page(0xfee00000u, 4);  /* local APIC */
	for (int i = 0; i < 64; i++)          /* IOAPIC: select, then data */
		writes += mmio_page(0xfec00000u, 16);
	writes += ecam(arg_u32("ecam", 4096));
	uart_back();
	gprintf("chaos: survived %u writes\n", writes);
	/* An IDT with no entries: the breakpoint triple-faults. */
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) none = { 0, 0 };
	__asm__ volatile("lidt %0; int3" : : "m"(none));
	return 1;
}
