/* Prints a greeting with its command line, then exits with exit=N (0).
 * reset=kbc or reset=cf9 asks for a machine reset instead; triple makes it
 * triple-fault (no usable IDT, then an exception); ud raises #UD, which its
 * own handler reports before exiting with 0x86. */
#include "rt.h"

int main(uint32_t magic, const struct mb_info *mbi);
int main(uint32_t magic, const struct mb_info *mbi)
{
	rt_init(magic, mbi);
	gprintf("Hello from the hello guest! cmdline='%s' mem=%u KiB\n", guest_cmdline,
		(guest_mem_top >> 10));
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
