/* The NS16550A model's registers and data path: Linux's identification
 * sequence, the receive FIFO and the console's queue, loopback, modem
 * status, the divisor latch and bad input. Interrupts: test_vuart_irq.c. */
#include <criterion/criterion.h>
#include <string.h>

#include "vuart_harness.h"

/* ---- Linux 6.1, drivers/tty/serial/8250/8250_port.c, replayed. */

/* autoconfig()'s existence tests; returns IIR >> 6 after FCR = 0x01. */
static unsigned linux_autoconfig(void)
{
	uint8_t save_ier = vu_rd(IER), save_mcr, save_lcr;

	vu_wr(IER, 0);
	cr_assert_eq(vu_rd(IER) & 0x0f, 0, "IER test: 0 reads back");
	vu_wr(IER, 0x0f);
	cr_assert_eq(vu_rd(IER) & 0x0f, 0x0f, "IER test: 0x0f reads back");
	vu_wr(IER, save_ier);
	save_mcr = vu_rd(MCR);
	save_lcr = vu_rd(LCR);
	vu_wr(MCR, LOOP | 0x0a);
	cr_assert_eq(vu_rd(MSR) & 0xf0, 0x90, "loopback test");
	vu_wr(MCR, save_mcr);
	vu_wr(LCR, 0xbf); /* "EFR" = 0: on a 16550A that is FCR */
	vu_wr(FCR, 0);
	vu_wr(LCR, 0);
	vu_wr(FCR, 0x01);
	unsigned kind = vu_rd(IIR) >> 6;
	vu_wr(LCR, save_lcr);
	return kind;
}

/* size_fifo(): 256 bytes through loopback, count what the FIFO kept. */
static unsigned linux_size_fifo(void)
{
	uint8_t old_lcr = vu_rd(LCR), old_fcr, old_mcr, old_dll, old_dlm;
	unsigned count;

	vu_wr(LCR, 0);
	old_fcr = vu_rd(FCR); /* Linux reads IIR here and writes it back as FCR */
	old_mcr = vu_rd(MCR);
	vu_wr(FCR, 0x07);
	vu_wr(MCR, LOOP);
	vu_wr(LCR, 0x80);
	old_dll = vu_rd(DLL);
	old_dlm = vu_rd(DLM);
	vu_wr(DLL, 1);
	vu_wr(DLM, 0);
	vu_wr(LCR, 0x03);
	for (count = 0; count < 256; count++)
		vu_wr(THR, (uint8_t)count);
	for (count = 0; (vu_rd(LSR) & 0x01) && count < 256; count++)
		cr_assert_eq(vu_rd(RBR), count, "the FIFO keeps the first bytes");
	vu_wr(FCR, old_fcr);
	vu_wr(MCR, old_mcr);
	vu_wr(LCR, 0x80);
	vu_wr(DLL, old_dll);
	vu_wr(DLM, old_dlm);
	vu_wr(LCR, old_lcr);
	return count;
}

/* autoconfig_16550a(): the checks for later chips must all fail. */
static void linux_autoconfig_16550a(void)
{
	vu_wr(LCR, 0x80);
	cr_assert_neq(vu_rd(IIR), 0, "no EFR under LCR 0x80 (ST16C650V1)");
	vu_wr(LCR, 0xbf);
	cr_assert_neq(vu_rd(IIR), 0, "no EFR under LCR 0xbf (ST16C650V2)");
	vu_wr(LCR, 0);
	uint8_t mcr = vu_rd(MCR);
	vu_wr(LCR, 0xe0);
	cr_assert_eq((vu_rd(IIR) ^ mcr) & LOOP, 0);
	vu_wr(LCR, 0);
	vu_wr(MCR, mcr ^ LOOP);
	vu_wr(LCR, 0xe0);
	cr_assert_eq((vu_rd(IIR) ^ mcr) & LOOP, 0, "not a NatSemi SuperIO");
	vu_wr(LCR, 0);
	vu_wr(MCR, mcr);
	vu_wr(FCR, 0x21);
	cr_assert_eq(vu_rd(IIR) >> 5, 6, "no 64-byte FIFO");
	vu_wr(FCR, 0x01);
	vu_wr(LCR, 0x80);
	vu_wr(FCR, 0x21);
	cr_assert_eq(vu_rd(IIR) >> 5, 6, "not a TI16750");
	vu_wr(FCR, 0x01);
	vu_wr(LCR, 0);
	uint8_t ier = vu_rd(IER);
	vu_wr(IER, ier & ~0x40);
	cr_assert_eq(vu_rd(IER) & 0x40, 0);
	vu_wr(IER, ier | 0x40);
	cr_assert_eq(vu_rd(IER) & 0x40, 0, "not an XScale (IER bit 6)");
	vu_wr(IER, ier);
	cr_assert_eq(linux_size_fifo(), 16, "a 16-byte FIFO");
}

Test(vuart, linux_identifies_16550a)
{
	vu_setup();
	cr_assert_eq(linux_autoconfig(), 3, "IIR bits 7:6 = 11: FIFOs, a 16550A");
	linux_autoconfig_16550a();
	/* The 16450 scratch test (autoconfig_8250) passes as well. */
	vu_wr(SCR, 0xa5);
	cr_assert_eq(vu_rd(SCR), 0xa5);
	vu_wr(SCR, 0x5a);
	cr_assert_eq(vu_rd(SCR), 0x5a);
	cr_assert_eq(vu_nsent, 0, "loopback bytes must not leave");
	cr_assert_eq(vu.rx_overruns, 240);
	cr_assert_eq(vu.bad_accesses, 3, "IER bit 6 once, FCR bit 5 twice");
	cr_assert_eq(vu_rd(LSR), 0x60, "probe leaves no data and no error");
	vu_assert_levels((bool[]){ false }, 1); /* OUT2 never set: the line stayed low */
}

Test(vuart, fifo_detection_with_fcr_e7)
{
	vu_setup();
	cr_assert_eq(vu_rd(IIR), 0x01, "16450 mode, nothing pending");
	vu_wr(FCR, 0xe7);
	cr_assert_eq(vu_rd(IIR) & 0xe0, 0xc0, "FIFOs on, no 64-byte mode");
	vu_wr(FCR, 0x00);
	cr_assert_eq(vu_rd(IIR), 0x01);
}

Test(vuart, fifo_holds_16_and_the_console_waits)
{
	vu_setup();
	vu_wr(FCR, 0xc1);
	for (unsigned i = 0; i < VUART_RX_SIZE; i++)
		cr_assert(vuart_receive(&vu, (uint8_t)i));
	cr_assert_not(vuart_receive(&vu, 0xee), "the console's queue is full");
	cr_assert_eq(vu.rx_dropped, 1);
	cr_assert_eq(vu_rd(LSR), 0x61, "no overrun: the console waits for room");
	for (unsigned i = 0; i < VUART_RX_SIZE; i++)
		cr_assert_eq(vu_rd(RBR), (uint8_t)i);
	cr_assert_eq(vu_rd(LSR), 0x60);
	cr_assert_eq(vu.rx_bytes, VUART_RX_SIZE);
	cr_assert_eq(vu_rd(RBR), 0xff, "an empty RBR keeps the last character");
	cr_assert_eq(vu.rx_bytes, VUART_RX_SIZE);
}

Test(vuart, fifo_resets_empty_the_chip_only)
{
	vu_setup();
	for (unsigned i = 0; i < 20; i++)
		vuart_receive(&vu, (uint8_t)i);
	vu_wr(FCR, 0x01); /* 16450 -> FIFO mode: RBR (byte 0) cleared */
	cr_assert_eq(vu_rd(RBR), 1);
	vu_wr(FCR, 0x03); /* RX reset: bytes 2-17 were in the FIFO */
	cr_assert_eq(vu_rd(RBR), 18);
	vu_wr(FCR, 0x02); /* without FCR bit 0 nothing is programmed: leaves FIFO mode only */
	cr_assert_eq(vu_rd(IIR) & 0xc0, 0, "FIFOs off");
	cr_assert_eq(vu_rd(LSR) & 1, 0, "leaving FIFO mode cleared byte 19");
	vuart_receive(&vu, 'k');
	vu_wr(FCR, 0x06); /* FIFOs stay off and, bit 0 clear, no reset either */
	cr_assert_eq(vu_rd(RBR), 'k');
}

Test(vuart, overrun_in_16450_mode_overwrites_rbr)
{
	vu_setup();
	vu_wr(IER, 0x04);
	vu_wr(MCR, LOOP | OUT2);
	vu_wr(THR, 'a');
	cr_assert_eq(vu_rd(IIR), 0x01);
	vu_wr(THR, 'b');
	cr_assert_eq(vu_rd(IIR), 0x06);
	cr_assert_eq(vu_rd(LSR), 0x63);
	cr_assert_eq(vu_rd(LSR), 0x61, "OE clears on read");
	cr_assert_eq(vu_rd(IIR), 0x01);
	cr_assert_eq(vu_rd(RBR), 'b');
	cr_assert_eq(vu.rx_overruns, 1);
}

Test(vuart, loopback_echo_and_disconnected_line)
{
	vu_setup();
	vu_wr(FCR, 0x01);
	vuart_receive(&vu, 'x');
	vuart_receive(&vu, 'y');
	vu_wr(IER, 0x01);
	vu_wr(MCR, OUT2);
	vu_assert_levels((bool[]){ false, true }, 2);
	vu_wr(MCR, LOOP | OUT2); /* the chip keeps x and y; the PIC loses INTR */
	vu_assert_levels((bool[]){ false, true, false }, 3);
	vuart_receive(&vu, 'z'); /* waits: the line from the console is cut */
	vu_wr(THR, 'A');
	vu_wr(THR, 'B');
	cr_assert_eq(vu_nsent, 0);
	cr_assert_eq(vu.tx_bytes, 0);
	cr_assert_eq(vu_rd(IIR), 0xc4);
	const char *want = "xyAB";
	for (int i = 0; i < 4; i++)
		cr_assert_eq(vu_rd(RBR), want[i]);
	cr_assert_eq(vu_rd(LSR) & 1, 0, "z stays outside in loopback");
	vu_wr(MCR, OUT2);
	cr_assert_eq(vu_rd(LSR) & 1, 1);
	cr_assert_eq(vu_rd(RBR), 'z');
	vu_wr(THR, 'C');
	cr_assert_eq(vu_nsent, 1);
	cr_assert_eq(vu_sent[0], 'C');
	vu_assert_levels((bool[]){ false, true, false, true, false }, 5);
}

Test(vuart, loopback_byte_displaces_console_byte_when_full)
{
	vu_setup();
	vu_wr(FCR, 0x01);
	for (unsigned i = 0; i < VUART_RX_SIZE; i++)
		vuart_receive(&vu, (uint8_t)i);
	vu_wr(MCR, LOOP);
	cr_assert_eq(vu_rd(RBR), 0);
	cr_assert(vuart_receive(&vu, 0xaa)); /* queue full again */
	vu_wr(THR, 'L');
	cr_assert_eq(vu.rx_dropped, 1);
	for (unsigned i = 1; i < 16; i++)
		cr_assert_eq(vu_rd(RBR), i);
	cr_assert_eq(vu_rd(RBR), 'L');
	cr_assert_eq(vu_rd(LSR) & 1, 0);
	vu_wr(MCR, 0);
	for (unsigned i = 16; i < VUART_RX_SIZE; i++)
		cr_assert_eq(vu_rd(RBR), (uint8_t)i);
	cr_assert_eq(vu_rd(LSR) & 1, 0, "0xaa was the byte displaced");
}

Test(vuart, msr_lines_and_deltas)
{
	vu_setup();
	cr_assert_eq(vu_rd(MSR), 0xb0, "a connected terminal: DCD, DSR, CTS");
	vu_wr(IER, 0x08);
	vu_wr(MCR, LOOP);
	cr_assert_eq(vu_rd(IIR), 0x00, "modem status pending");
	cr_assert_eq(vu_rd(MSR), 0x0b, "DCD, DSR, CTS dropped");
	cr_assert_eq(vu_rd(MSR), 0x00, "deltas clear on read");
	cr_assert_eq(vu_rd(IIR), 0x01);
	vu_wr(MCR, LOOP | 0x04);
	cr_assert_eq(vu_rd(MSR), 0x40, "OUT1 -> RI; its leading edge sets nothing");
	vu_wr(MCR, LOOP);
	cr_assert_eq(vu_rd(MSR), 0x04, "TERI on RI's trailing edge");
	vu_wr(MCR, LOOP | 0x01);
	cr_assert_eq(vu_rd(MSR), 0x22, "DTR -> DSR");
	vu_wr(MCR, LOOP | 0x02);
	cr_assert_eq(vu_rd(MSR), 0x13, "RTS -> CTS, DSR dropped");
	vu_wr(MCR, LOOP | 0x08);
	cr_assert_eq(vu_rd(MSR), 0x89, "OUT2 -> DCD");
	vu_wr(MCR, OUT2); /* back to the terminal: DSR, CTS rise; DCD stays */
	vu_assert_levels((bool[]){ false, true }, 2);
	cr_assert_eq(vu_rd(MSR), 0xb3);
	vu_assert_levels((bool[]){ false, true, false }, 3);
}

Test(vuart, dlab_selects_the_divisor_latch)
{
	vu_setup();
	vu_wr(IER, 0x05);
	vu_wr(LCR, 0x83);
	vu_wr(DLL, 0x0c);
	vu_wr(DLM, 0x01);
	cr_assert_eq(vu_rd(DLL), 0x0c);
	cr_assert_eq(vu_rd(DLM), 0x01);
	cr_assert_eq(vu_nsent, 0, "a divisor write must not transmit");
	cr_assert_eq(vu_rd(IIR), 0x01, "IIR does not depend on DLAB");
	vu_wr(FCR, 0x01);
	cr_assert_eq(vu_rd(IIR), 0xc1, "nor does FCR");
	vu_wr(LCR, 0x03);
	cr_assert_eq(vu_rd(IER), 0x05);
	cr_assert_eq(vu.dll, 0x0c);
	cr_assert_eq(vu.dlm, 0x01);
	vuart_receive(&vu, 'q');
	cr_assert_eq(vu_rd(RBR), 'q');
}

Test(vuart, word_length_masks_data)
{
	vu_setup();
	vu_wr(LCR, 0x02); /* 7 bits */
	vu_wr(THR, 0xff);
	vuart_receive(&vu, 0xc1);
	cr_assert_eq(vu_rd(RBR), 0x41);
	vu_wr(LCR, 0x00); /* 5 bits */
	vu_wr(THR, 0xff);
	cr_assert_eq(vu_nsent, 2);
	cr_assert_eq(vu_sent[0], 0x7f);
	cr_assert_eq(vu_sent[1], 0x1f);
}

Test(vuart, bad_input_is_ignored_and_counted)
{
	vu_setup();
	cr_assert_eq(vu_rd(8), 0xff);
	cr_assert_eq(vu_rd(0x3f8), 0xff);
	vu_wr(8, 0x55);
	vu_wr(LSR, 0x01);
	vu_wr(MSR, 0x0f);
	cr_assert_eq(vu_rd(LSR), 0x60, "LSR writes are ignored");
	cr_assert_eq(vu_rd(MSR), 0xb0, "MSR writes are ignored");
	vu_wr(IER, 0xff);
	cr_assert_eq(vu_rd(IER), 0x0f);
	vu_wr(MCR, 0xe0);
	cr_assert_eq(vu_rd(MCR), 0x00);
	vu_wr(FCR, 0x31);
	cr_assert_eq(vu_rd(IIR) & 0xf0, 0xc0, "reserved FCR bits do not show in IIR");
	cr_assert_eq(vu.bad_accesses, 8);
	cr_assert_eq(vu_nsent, 0);
}
