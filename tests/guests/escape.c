/* Tries to reach what lies outside its VM, reporting each attempt; the
 * last one, a write beyond its RAM, must reach nothing: on a PC it ends in
 * a master abort (it reads back all ones), and a VM created with
 * unbacked=stop is stopped there. */
#include "rt.h"

int main(uint32_t magic, const struct mb_info *mbi);
int main(uint32_t magic, const struct mb_info *mbi)
{
	rt_init(magic, mbi);
	gprintf("escape: RAM ends at 0x%x\n", guest_mem_top);

	outl(0xcf8, 0x80000000u); /* host bridge vendor/device ID: the VM's own */
	gprintf("escape: pci config read 0x%x\n", inl(0xcfc));
	gprintf("escape: pm timer 0x%x\n", inl(0x608));
	outb(0x70, 0x0f);        /* CMOS shutdown byte */
	gprintf("escape: cmos 0x%x\n", inb(0x71));

	uint32_t target = arg_u32("addr", guest_mem_top + 0x1000);
	gprintf("escape: writing 0x%x\n", target);
	*(volatile uint32_t *)target = 0xdeadbeef;
	uint32_t back = *(volatile uint32_t *)target;
	gprintf("escape: it reads back 0x%x\n", back);
	if (back == 0xdeadbeef)
		gprintf("escape: the write went through!\n");
	return 1;
}
