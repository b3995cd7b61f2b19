#include <criterion/criterion.h>

#include "hv/vdev/vpic.h"

static struct vpic pic;
static unsigned intr_changes;
static bool intr_level;

static void record_intr(void *ctx, unsigned line, bool level)
{
	(void)ctx;
	cr_assert_eq(line, 7);
	intr_changes++;
	intr_level = level;
}

static void out(uint16_t port, uint8_t v)
{
	vpic_write(&pic, port, 1, v);
}

static uint8_t in(uint16_t port)
{
	return (uint8_t)vpic_read(&pic, port, 1);
}

static void pulse(unsigned irq)
{
	vpic_set_irq(&pic, irq, true);
	vpic_set_irq(&pic, irq, false);
}

/* Linux's init_8259A(): probe the mask register, then ICW1-ICW4 on both
 * chips with vectors 0x20/0x28, then the masks. */
static void linux_init(uint8_t master_mask, uint8_t slave_mask)
{
	struct irq_line intr = { .set = record_intr, .line = 7 };

	vpic_init(&pic, &intr);
	intr_changes = 0;
	intr_level = false;
	out(0x21, 0xff);
	out(0xa1, 0xff);
	out(0x20, 0x11);
	out(0x21, 0x20);
	out(0x21, 0x04);
	out(0x21, 0x01);
	out(0xa0, 0x11);
	out(0xa1, 0x28);
	out(0xa1, 0x02);
	out(0xa1, 0x01);
	out(0x21, master_mask);
	out(0xa1, slave_mask);
}

static void eoi_master(void)
{
	out(0x20, 0x20);
}

static void eoi_slave(void)
{
	out(0xa0, 0x20);
}

static uint8_t isr(uint16_t cmd_port)
{
	out(cmd_port, 0x0b);
	uint8_t v = in(cmd_port);
	out(cmd_port, 0x0a);
	return v;
}

Test(vpic, bios_state_after_init)
{
	vpic_init(&pic, NULL);
	cr_assert_eq(in(0x21), 0xff);
	cr_assert_eq(in(0xa1), 0xff);
	cr_assert_eq(pic.chip[0].vector_base, 0x08);
	cr_assert_eq(pic.chip[1].vector_base, 0x70);
	cr_assert_eq(pic.chip[1].icw3, 2);
	cr_assert_eq(in(0x4d0), 0);
	cr_assert_eq(pic.bad_values + pic.bad_io + pic.spurious, 0);
	vpic_set_irq(&pic, 1, true);
	cr_assert_not(vpic_output(&pic), "all inputs start masked");
	cr_assert_eq(in(0x20), 0x02, "the request is still seen in IRR");
}

Test(vpic, linux_init_sequence)
{
	linux_init(0xff, 0xff);
	cr_assert_eq(pic.bad_values, 0);
	out(0x21, 0xa5); /* Linux's probe: the mask reads back */
	cr_assert_eq(in(0x21), 0xa5);
	cr_assert_eq(pic.chip[0].vector_base, 0x20);
	cr_assert_eq(pic.chip[1].vector_base, 0x28);
	cr_assert_eq(pic.chip[0].icw3, 0x04);
	cr_assert_eq(pic.chip[1].icw3, 0x02);
	cr_assert_eq(pic.chip[0].icw4, 0x01);
	cr_assert_eq(pic.chip[0].init_step, 0);
	out(0x21, 0xfa); /* IRQ0 and the cascade */
	out(0xa1, 0xfe); /* IRQ8 */
	pulse(0);
	cr_assert(vpic_output(&pic));
	cr_assert_eq(intr_changes, 1);
	cr_assert(intr_level);
	cr_assert_eq(vpic_acknowledge(&pic), 0x20);
	cr_assert_not(intr_level);
	eoi_master();
	pulse(8);
	cr_assert_eq(vpic_acknowledge(&pic), 0x28);
	pulse(3);
	cr_assert_not(vpic_output(&pic), "IRQ3 is masked");
}

Test(vpic, icw1_resets_mask_priority_and_edge_sense)
{
	linux_init(0x00, 0x00);
	vpic_set_irq(&pic, 4, true); /* latched, line left high */
	out(0x20, 0xc2);             /* set priority: IR2 lowest */
	out(0x20, 0x11);
	out(0xa0, 0x11);
	cr_assert_eq(pic.chip[1].icw3, 7, "ICW1 sets the slave ID to 7");
	cr_assert_eq(in(0x21), 0, "ICW1 clears IMR");
	cr_assert_eq(pic.chip[0].irr, 0, "the edge request is dropped");
	cr_assert_eq(pic.chip[0].lowest, 7);
	out(0x21, 0x20);
	out(0x21, 0x04);
	out(0x21, 0x01);
	vpic_set_irq(&pic, 4, true);
	cr_assert_not(vpic_output(&pic), "a line already high is no new edge");
	vpic_set_irq(&pic, 4, false);
	vpic_set_irq(&pic, 4, true);
	cr_assert_eq(vpic_acknowledge(&pic), 0x24);
}

Test(vpic, edge_interrupt_delivered_once)
{
	linux_init(0xef, 0xff); /* IRQ4 */
	vpic_set_irq(&pic, 4, true);
	vpic_set_irq(&pic, 4, true); /* same level: no second edge */
	cr_assert(vpic_output(&pic));
	cr_assert_eq(vpic_acknowledge(&pic), 0x24);
	cr_assert_not(vpic_output(&pic));
	cr_assert_eq(isr(0x20), 0x10);
	eoi_master();
	cr_assert_eq(isr(0x20), 0);
	cr_assert_not(vpic_output(&pic), "the line stayed high: no new request");
	vpic_set_irq(&pic, 4, false);
	cr_assert_not(vpic_output(&pic));
	/* An edge while in service waits for the EOI. */
	pulse(4);
	cr_assert_eq(vpic_acknowledge(&pic), 0x24);
	pulse(4);
	cr_assert_not(vpic_output(&pic));
	cr_assert_eq(in(0x20), 0x10, "IRR holds the new edge");
	eoi_master();
	cr_assert(vpic_output(&pic));
	cr_assert_eq(vpic_acknowledge(&pic), 0x24);
	eoi_master();
	cr_assert_not(vpic_output(&pic));
	cr_assert_eq(pic.spurious, 0);
}

Test(vpic, level_interrupt_reasserts_after_eoi)
{
	linux_init(0xdf, 0xff); /* IRQ5 */
	out(0x4d0, 0x20);
	vpic_set_irq(&pic, 5, true);
	cr_assert_eq(vpic_acknowledge(&pic), 0x25);
	cr_assert_not(vpic_output(&pic), "in service holds it back");
	cr_assert_eq(in(0x20), 0x20, "IRR follows the high line");
	eoi_master();
	cr_assert(vpic_output(&pic), "line still high: requests again");
	cr_assert_eq(vpic_acknowledge(&pic), 0x25);
	vpic_set_irq(&pic, 5, false);
	cr_assert_eq(in(0x20), 0);
	eoi_master();
	cr_assert_not(vpic_output(&pic));
}

Test(vpic, priority_and_nesting)
{
	linux_init(0x00, 0xff);
	pulse(3);
	pulse(1);
	cr_assert_eq(vpic_acknowledge(&pic), 0x21, "IR1 before IR3");
	cr_assert_not(vpic_output(&pic), "IR3 waits for IR1's EOI");
	pulse(0);
	cr_assert(vpic_output(&pic), "IR0 nests over IR1");
	cr_assert_eq(vpic_acknowledge(&pic), 0x20);
	cr_assert_eq(isr(0x20), 0x03);
	eoi_master(); /* non-specific: the highest in service, IR0 */
	cr_assert_eq(isr(0x20), 0x02);
	cr_assert_not(vpic_output(&pic));
	eoi_master();
	cr_assert_eq(vpic_acknowledge(&pic), 0x23);
	out(0x20, 0x63); /* specific EOI for IR3 */
	cr_assert_eq(isr(0x20), 0);
	out(0x20, 0x63); /* again: nothing in service, nothing happens */
	cr_assert_eq(isr(0x20), 0);
}

Test(vpic, cascade_through_the_slave)
{
	linux_init(0xfb, 0x00);
	pulse(12);
	cr_assert(vpic_output(&pic));
	cr_assert_eq(vpic_acknowledge(&pic), 0x2c);
	cr_assert_eq(isr(0x20), 0x04);
	cr_assert_eq(isr(0xa0), 0x10);
	pulse(9); /* higher than IR4 on the slave, but master IR2 is in service */
	cr_assert_not(vpic_output(&pic));
	eoi_slave();
	cr_assert_not(vpic_output(&pic), "the master's EOI is still missing");
	eoi_master();
	cr_assert(vpic_output(&pic));
	cr_assert_eq(vpic_acknowledge(&pic), 0x29);
	eoi_slave();
	eoi_master();
	cr_assert_not(vpic_output(&pic));
	cr_assert_eq(isr(0x20) | isr(0xa0), 0);
	/* Master EOI before the slave's: the slave's rising INT re-requests. */
	pulse(13);
	pulse(14);
	cr_assert_eq(vpic_acknowledge(&pic), 0x2d);
	eoi_master();
	cr_assert_not(vpic_output(&pic), "IR6 below IR5 in service on the slave");
	eoi_slave();
	cr_assert_eq(vpic_acknowledge(&pic), 0x2e);
}

Test(vpic, special_fully_nested_mode)
{
	linux_init(0xfb, 0x00);
	out(0x20, 0x11);
	out(0x21, 0x20);
	out(0x21, 0x04);
	out(0x21, 0x11); /* ICW4: SFNM, 8086 */
	out(0x21, 0xfb);
	pulse(12);
	cr_assert_eq(vpic_acknowledge(&pic), 0x2c);
	pulse(13);
	cr_assert_not(vpic_output(&pic), "lower on the slave: the slave holds it");
	pulse(9);
	cr_assert(vpic_output(&pic), "SFNM: a higher slave level passes master IR2 in service");
	cr_assert_eq(vpic_acknowledge(&pic), 0x29);
	cr_assert_eq(isr(0xa0), 0x12);
}

Test(vpic, rotation)
{
	linux_init(0x00, 0xff);
	pulse(0);
	cr_assert_eq(vpic_acknowledge(&pic), 0x20);
	out(0x20, 0xa0); /* rotate on non-specific EOI: IR0 becomes lowest */
	cr_assert_eq(pic.chip[0].lowest, 0);
	pulse(0);
	pulse(7);
	cr_assert_eq(vpic_acknowledge(&pic), 0x27, "IR7 now outranks IR0");
	cr_assert_not(vpic_output(&pic), "IR0 is below IR7 in service");
	out(0x20, 0xe7); /* rotate on specific EOI for IR7 */
	cr_assert_eq(pic.chip[0].lowest, 7);
	cr_assert_eq(vpic_acknowledge(&pic), 0x20);
	out(0x20, 0x60);
	out(0x20, 0xc4); /* set priority: IR4 lowest, IR5 highest */
	pulse(3);
	pulse(6);
	cr_assert_eq(vpic_acknowledge(&pic), 0x26);
	out(0x20, 0x40); /* no operation */
	cr_assert_eq(isr(0x20), 0x40);
}

Test(vpic, automatic_eoi_with_rotation)
{
	linux_init(0x00, 0xff);
	out(0x20, 0x11);
	out(0x21, 0x20);
	out(0x21, 0x04);
	out(0x21, 0x03); /* AEOI */
	out(0x20, 0x80); /* rotate in AEOI mode */
	pulse(2 + 1);
	pulse(5);
	cr_assert_eq(vpic_acknowledge(&pic), 0x23);
	cr_assert_eq(isr(0x20), 0, "AEOI leaves nothing in service");
	cr_assert_eq(pic.chip[0].lowest, 3);
	cr_assert_eq(vpic_acknowledge(&pic), 0x25);
	out(0x20, 0x00); /* clear rotate in AEOI mode */
	pulse(1);
	cr_assert_eq(vpic_acknowledge(&pic), 0x21);
	cr_assert_eq(pic.chip[0].lowest, 5);
}

/* With automatic EOI the slave's INT drops during the acknowledge and
 * rises again for its next request, which the master latches anew. */
Test(vpic, automatic_eoi_cascade)
{
	linux_init(0xfb, 0x00);
	out(0xa0, 0x11);
	out(0xa1, 0x28);
	out(0xa1, 0x02);
	out(0xa1, 0x03);
	out(0x20, 0x11);
	out(0x21, 0x20);
	out(0x21, 0x04);
	out(0x21, 0x03);
	out(0x21, 0xfb);
	pulse(12);
	pulse(13);
	cr_assert_eq(vpic_acknowledge(&pic), 0x2c);
	cr_assert(vpic_output(&pic));
	cr_assert_eq(vpic_acknowledge(&pic), 0x2d);
	cr_assert_not(vpic_output(&pic));
	cr_assert_eq(isr(0x20) | isr(0xa0), 0);
	cr_assert_eq(pic.spurious, 0);
}

Test(vpic, spurious_irq7_and_irq15)
{
	linux_init(0x00, 0x00);
	out(0x4d0, 0x20);
	out(0x4d1, 0x04); /* IRQ5 and IRQ10 level */
	vpic_set_irq(&pic, 5, true);
	cr_assert(vpic_output(&pic));
	vpic_set_irq(&pic, 5, false); /* gone before the INTA */
	cr_assert_eq(vpic_acknowledge(&pic), 0x27);
	cr_assert_eq(isr(0x20), 0, "a spurious IR7 is not put in service");
	cr_assert_eq(pic.spurious, 1);
	/* An edge masked after INTR was raised is gone too. */
	pulse(4);
	out(0x21, 0x10);
	cr_assert_eq(vpic_acknowledge(&pic), 0x27);
	cr_assert_eq(in(0x20), 0x10, "still latched, just masked");
	/* The slave's request vanishes after the master latched IR2. */
	vpic_set_irq(&pic, 10, true);
	vpic_set_irq(&pic, 10, false);
	cr_assert(vpic_output(&pic));
	cr_assert_eq(vpic_acknowledge(&pic), 0x2f);
	cr_assert_eq(isr(0x20), 0x04, "the master did acknowledge IR2");
	cr_assert_eq(isr(0xa0), 0);
	cr_assert_eq(pic.spurious, 3);
}

Test(vpic, poll_mode)
{
	linux_init(0x01, 0x00);
	out(0x20, 0x0c);
	cr_assert_eq(in(0x20), 0x00, "nothing requested");
	pulse(6);
	pulse(3);
	out(0x20, 0x0c);
	cr_assert_eq(in(0x21), 0x83, "the poll answers either port");
	cr_assert_eq(in(0x21), 0x01, "one read only: the next is IMR");
	cr_assert_eq(isr(0x20), 0x08);
	out(0x20, 0x0c);
	cr_assert_eq(in(0x20), 0x00, "IR6 is held back by IR3 in service");
	eoi_master();
	out(0x20, 0x0c);
	cr_assert_eq(in(0x20), 0x86);
	eoi_master();
	pulse(11);
	out(0x20, 0x0c);
	cr_assert_eq(in(0x20), 0x82, "the master polls the cascade input");
	out(0xa0, 0x0c);
	cr_assert_eq(in(0xa0), 0x83);
	cr_assert_eq(isr(0xa0), 0x08);
}

Test(vpic, read_irr_and_isr)
{
	linux_init(0x00, 0xff);
	pulse(1);
	pulse(6);
	cr_assert_eq(in(0x20), 0x42, "IRR after ICW1");
	cr_assert_eq(vpic_acknowledge(&pic), 0x21);
	out(0x20, 0x0b);
	cr_assert_eq(in(0x20), 0x02);
	cr_assert_eq(in(0x20), 0x02, "the selection stays");
	out(0x20, 0x08); /* RR = 0: no change of selection */
	cr_assert_eq(in(0x20), 0x02);
	out(0x20, 0x0a);
	cr_assert_eq(in(0x20), 0x40);
	cr_assert_eq(in(0x21), 0x00);
}

Test(vpic, special_mask_mode)
{
	linux_init(0x00, 0xff);
	pulse(3);
	cr_assert_eq(vpic_acknowledge(&pic), 0x23);
	pulse(5);
	cr_assert_not(vpic_output(&pic));
	out(0x21, 0x08);
	out(0x20, 0x68); /* set special mask */
	cr_assert(vpic_output(&pic), "IR3 masked: lower levels pass");
	cr_assert_eq(vpic_acknowledge(&pic), 0x25);
	pulse(5);
	cr_assert_not(vpic_output(&pic), "not the level in service itself");
	pulse(4);
	cr_assert(vpic_output(&pic), "but below IR5 in service");
	out(0x20, 0x48); /* reset special mask */
	cr_assert_not(vpic_output(&pic));
}

Test(vpic, elcr)
{
	linux_init(0x00, 0x00);
	out(0x4d0, 0xff);
	out(0x4d1, 0xff);
	cr_assert_eq(in(0x4d0), 0xf8, "IRQ0-2 are edge only");
	cr_assert_eq(in(0x4d1), 0xde, "IRQ8 and IRQ13 are edge only");
	cr_assert_eq(vpic_read(&pic, 0x4d0, 2), 0xdef8);
	cr_assert_eq(pic.bad_values, 2);
	vpic_write(&pic, 0x4d0, 2, 0x0000);
	cr_assert_eq(vpic_read(&pic, 0x4d0, 2), 0);
	/* Switching a high line to level makes it a request; back to edge it
	 * stays latched until acknowledged. */
	vpic_set_irq(&pic, 9, true);
	cr_assert_eq(vpic_acknowledge(&pic), 0x29);
	eoi_slave();
	eoi_master();
	cr_assert_not(vpic_output(&pic));
	out(0x4d1, 0x02);
	cr_assert(vpic_output(&pic));
	out(0x4d1, 0x00);
	cr_assert_eq(vpic_acknowledge(&pic), 0x29);
}

Test(vpic, bad_input)
{
	linux_init(0x00, 0x00);
	cr_assert_eq(vpic_read(&pic, 0x22, 1), 0xff);
	cr_assert_eq(vpic_read(&pic, 0x21, 2), 0xff00, "0x22 is not decoded");
	cr_assert_eq(vpic_read(&pic, 0x20, 3), UINT32_MAX);
	vpic_write(&pic, 0x4d2, 1, 0);
	vpic_set_irq(&pic, 2, true);
	vpic_set_irq(&pic, 16, true);
	cr_assert_eq(pic.bad_io, 6);
	cr_assert_not(vpic_output(&pic));
	out(0x20, 0x88); /* OCW3 with bit 7 set */
	cr_assert_eq(pic.bad_values, 1);
	out(0xa0, 0x10); /* ICW1 without ICW4: 8080 mode */
	out(0xa1, 0x28);
	out(0xa1, 0x0a); /* a slave ID with high bits */
	cr_assert_eq(pic.bad_values, 3);
	cr_assert_eq(pic.chip[1].icw3, 2);
	cr_assert_eq(pic.chip[1].init_step, 0);
	pulse(9);
	cr_assert_eq(vpic_acknowledge(&pic), 0x29, "still 8086 vectors");
	eoi_slave();
	eoi_master();
	/* The master names a slave on IR3 that is not there: the bus floats. */
	out(0x20, 0x11);
	out(0x21, 0x20);
	out(0x21, 0x0c);
	out(0x21, 0x01);
	pulse(3);
	cr_assert_eq(vpic_acknowledge(&pic), 0xff);
	cr_assert_eq(pic.bad_values, 4);
}

Test(vpic, single_mode_skips_icw3)
{
	vpic_init(&pic, NULL);
	out(0x20, 0x13); /* single, ICW4 needed */
	out(0x21, 0x40);
	out(0x21, 0x01); /* ICW4, not ICW3 */
	cr_assert_eq(pic.chip[0].init_step, 0);
	cr_assert_eq(pic.chip[0].icw4, 0x01);
	out(0x21, 0x00);
	out(0xa1, 0x00);
	vpic_set_irq(&pic, 10, true);
	cr_assert_eq(vpic_acknowledge(&pic), 0x42, "IR2 is a plain input in single mode");
}
