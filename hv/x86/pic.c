/* The legacy 8259 pair: remapped away from the exception vectors and
 * masked, since the hypervisor uses the local APIC. */
#include "hv/x86/pic.h"

#include "hv/x86/cpu.h"

void pic_disable(void)
{
	/* ICW1-4: cascade, vectors 0x20/0x28, then mask every line. A spurious
	 * IRQ 7/15 then lands on a harmless vector, not on an exception. */
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, 0x20);
	outb(0xa1, 0x28);
	outb(0x21, 0x04);
	outb(0xa1, 0x02);
	outb(0x21, 0x01);
	outb(0xa1, 0x01);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}
