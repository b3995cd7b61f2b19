/* The NS16550A model's interrupts: the THRE lifecycle Linux relies on, the
 * PC's OUT2 gating and the exact levels on the line, receive trigger
 * levels, IIR priorities. */
#include <criterion/criterion.h>
#include <string.h>

#include "vuart_harness.h"

Test(vuart_irq, linux_startup_thre_tests)
{
	vu_setup();
	/* THRE re-asserted on an IER rewrite after IIR acknowledged it. */
	vu_wr(IER, 0x02);
	cr_assert_eq(vu_rd(IIR), 0x02);
	vu_wr(IER, 0);
	vu_wr(IER, 0x02);
	cr_assert_eq(vu_rd(IIR), 0x02, "UART_BUG_THRE would be set");
	vu_wr(IER, 0);
	/* TXEN test: THRI enabled with an idle transmitter is pending. */
	vu_wr(IER, 0x02);
	cr_assert_eq(vu_rd(LSR) & 0x40, 0x40);
	cr_assert_eq(vu_rd(IIR) & 0x01, 0, "UART_BUG_TXEN would be set");
	vu_wr(IER, 0);
}

Test(vuart_irq, thre_lifecycle_out2_gating_and_edges)
{
	vu_setup();
	vu_wr(IER, 0x02);
	cr_assert_eq(vu.thre_int, true);
	vu_assert_levels((bool[]){ false }, 1); /* pending, but OUT2 is off */
	vu_wr(MCR, OUT2);
	vu_assert_levels((bool[]){ false, true }, 2);
	cr_assert_eq(vu_rd(IIR), 0x02);
	vu_assert_levels((bool[]){ false, true, false }, 3);
	cr_assert_eq(vu_rd(IIR), 0x01, "acknowledged: not again until THR is written");
	vu_wr(THR, 'a');
	vu_assert_levels((bool[]){ false, true, false, true }, 4); /* a new rising edge */
	vu_wr(THR, 'b'); /* already high: no glitch */
	vu_assert_levels((bool[]){ false, true, false, true }, 4);
	cr_assert_eq(vu_rd(IIR), 0x02);
	vu_wr(THR, 'c');
	cr_assert_eq(vu_rd(IIR), 0x02);
	vu_wr(IER, 0);
	vu_wr(IER, 0x02); /* ETBEI re-enabled with THR empty */
	vu_wr(MCR, 0);    /* OUT2 off: the PIC no longer sees INTR */
	cr_assert_eq(vu_rd(IIR), 0x02, "INTR is still pending inside the chip");
	vu_assert_levels((bool[]){ false, true, false, true, false, true, false, true, false }, 9);
	cr_assert_eq(vu_nsent, 3);
	cr_assert_eq(memcmp(vu_sent, "abc", 3), 0);
	cr_assert_eq(vu.tx_bytes, 3);
}

Test(vuart_irq, thr_write_without_etbei_raises_nothing)
{
	vu_setup();
	vu_wr(MCR, OUT2);
	vu_wr(THR, 'x');
	cr_assert_eq(vu_rd(IIR), 0x01);
	vu_assert_levels((bool[]){ false }, 1);
	vu_wr(IER, 0x02);
	vu_assert_levels((bool[]){ false, true }, 2);
}

static void check_trigger(uint8_t fcr, unsigned trigger)
{
	vu_setup();
	vu_wr(FCR, fcr);
	vu_wr(IER, 0x01);
	vu_wr(MCR, OUT2);
	for (unsigned i = 1; i < trigger; i++) {
		cr_assert(vuart_receive(&vu, (uint8_t)i));
		cr_assert_eq(vu_rd(IIR), 0xcc, "%u of %u bytes: character timeout", i, trigger);
	}
	cr_assert(vuart_receive(&vu, (uint8_t)trigger));
	cr_assert_eq(vu_rd(IIR), 0xc4, "trigger level %u reached", trigger);
	cr_assert_eq(vu_rd(RBR), 1);
	cr_assert_eq(vu_rd(IIR), trigger > 1 ? 0xcc : 0xc1, "below the trigger again");
	for (unsigned i = 2; i <= trigger; i++)
		cr_assert_eq(vu_rd(RBR), i);
	cr_assert_eq(vu_rd(IIR), 0xc1);
	cr_assert_eq(vu_rd(LSR), 0x60);
	vu_assert_levels((bool[]){ false, true, false }, 3);
}

Test(vuart_irq, rda_trigger_levels)
{
	check_trigger(0x01, 1);
	check_trigger(0x41, 4);
	check_trigger(0x81, 8);
	check_trigger(0xc1, 14);
	check_trigger(0xc9, 14); /* DMA mode select changes nothing visible */
}

Test(vuart_irq, iir_priority)
{
	vu_setup();
	vu_wr(FCR, 0x01);
	vu_wr(IER, 0x0f);
	cr_assert_eq(vu_rd(IIR), 0xc2, "THRE from enabling ETBEI");
	vu_wr(MCR, LOOP); /* DCD, DSR, CTS drop: modem status */
	for (unsigned i = 0; i < 17; i++)
		vu_wr(THR, (uint8_t)('a' + i)); /* 17th: overrun */
	cr_assert_eq(vu_rd(IIR), 0xc6, "receiver line status first");
	cr_assert_eq(vu_rd(IIR), 0xc6, "reading IIR does not clear it");
	cr_assert_eq(vu_rd(LSR), 0x63, "OE, reported once");
	cr_assert_eq(vu_rd(IIR), 0xc4, "then data (16 >= trigger 1)");
	for (unsigned i = 0; i < 16; i++)
		cr_assert_eq(vu_rd(RBR), 'a' + i);
	cr_assert_eq(vu_rd(IIR), 0xc2, "then THRE");
	cr_assert_eq(vu_rd(IIR), 0xc0, "then modem status (THRE acknowledged)");
	cr_assert_eq(vu_rd(MSR), 0x0b);
	cr_assert_eq(vu_rd(IIR), 0xc1);
	cr_assert_eq(vu.rx_overruns, 1);
	vu_assert_levels((bool[]){ false }, 1); /* loopback: OUT2 pin inactive */
}

Test(vuart_irq, sync_irq_after_fields_are_restored)
{
	vu_setup();
	vu.ier = 0x01;
	vu.mcr = OUT2;
	vu.rx[0] = 'm';
	vu.rx_head = 0;
	vu.rx_tail = 1;
	vuart_sync_irq(&vu);
	vu_assert_levels((bool[]){ false, true }, 2);
	vuart_sync_irq(&vu);
	cr_assert_eq(vu_nlevels, 2, "only changes are driven");
	cr_assert_eq(vu_rd(RBR), 'm');
	vu_assert_levels((bool[]){ false, true, false }, 3);
}

Test(vuart_irq, no_line_connected)
{
	vuart_init(&vu, NULL, NULL);
	vu_wr(MCR, OUT2);
	vu_wr(IER, 0x02);
	vu_wr(THR, 'x'); /* neither a tx callback nor an interrupt line: no crash */
	cr_assert_eq(vu.tx_bytes, 1);
	cr_assert(vu.irq_level);
}
