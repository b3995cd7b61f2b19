/* Prints a greeting with its command line, then exits with exit=N (0).
 * reset=kbc or reset=cf9 asks for a machine reset instead; triple makes it
 * triple-fault (no usable IDT, then an exception); ud raises #UD, which its
 * own handler reports before exiting with 0x86; msr=N reads that MSR (an
 * unknown one raises #GP: exit 0x8d); long switches to long mode and back to
 * 32-bit compatibility mode, reporting a 64-bit result and CR0/CR4/EFER as
 * it sees them. It always reports what CPUID shows. */
#include "rt.h"

uint64_t long_mode_roundtrip(uint32_t pml4);

/* Identity map of the first GiB in 2 MiB pages, for 'long'. */
static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));

static void long_mode(void)
{
	uint32_t cr0, cr4, efer, efer_hi;

	for (uint32_t i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83; /* present, writable, 2 MiB */
	pdpt[0] = (uint32_t)pd | 3;
	pml4[0] = (uint32_t)pdpt | 3;
	uint64_t value = long_mode_roundtrip((uint32_t)pml4);
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("rdmsr" : "=a"(efer), "=d"(efer_hi) : "c"(0xc0000080u));
	gprintf("hello: long mode value=0x%lx cr0=0x%x cr4=0x%x efer=0x%x\n", value, cr0, cr4,
		efer);
}

int main(uint32_t magic, const struct mb_info *mbi);
int main(uint32_t magic, const struct mb_info *mbi)
{
	rt_init(magic, mbi);
	gprintf("Hello from the hello guest! cmdline='%s' mem=%u KiB\n", guest_cmdline,
		(guest_mem_top >> 10));
	uint32_t r[4], ext[4], hv[4];
	char vendor[13];
	cpuid(1, r);
	cpuid(0x80000001u, ext);
	cpuid(0x40000000u, hv);
	memcpy(vendor, &hv[1], 4);
	memcpy(vendor + 4, &hv[2], 4);
	memcpy(vendor + 8, &hv[3], 4);
	vendor[12] = 0;
	gprintf("hello: cpuid hypervisor='%s' hv_bit=%u vmx=%u svm=%u x2apic=%u xsave=%u\n",
		vendor, r[2] >> 31, (r[2] >> 5) & 1, (ext[2] >> 2) & 1, (r[2] >> 21) & 1,
		(r[2] >> 26) & 1);
	if (arg_present("msr")) {
		uint32_t msr = arg_u32("msr", 0), lo, hi;
		__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
		gprintf("hello: msr 0x%x = 0x%lx\n", msr, ((uint64_t)hi << 32) | lo);
	}
	if (arg_present("long"))
		long_mode();
	if (arg_present("triple")) {
		gprintf("hello: triple faulting\n");
		struct { uint16_t limit; uint32_t base; } __attribute__((packed)) none = { 0, 0 };
		__asm__ volatile("lidt %0; int3" : : "m"(none));
	}
	if (arg_present("ud"))
		__asm__ volatile("ud2");
	char how[8];
	if (arg_str("reset", how, sizeof(how))) {
		gprintf("hello: requesting a reset through %s\n", how);
		if (!strncmp(how, "kbc", 3))
			outb(0x64, 0xfe);
		else
			outb(0xcf9, 0x06);
		gprintf("hello: the reset did not happen\n");
	}
	return (int)arg_u32("exit", 0);
}
