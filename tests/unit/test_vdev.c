#include <criterion/criterion.h>
#include <string.h>

#include "hv/vdev/vlapic.h"
#include "hv/vdev/vuart.h"

#define GHZ 1000000000ull

static struct vlapic l;

static void enable(void)
{
	vlapic_init(&l, 0, GHZ); /* TSC at 1 GHz: one tick per ns, as the bus */
	cr_assert(vlapic_write(&l, APIC_SVR, 0x1ff, 0));
}

Test(vlapic, registers_read_back)
{
	uint32_t v;

	enable();
	cr_assert(vlapic_read(&l, APIC_VERSION, &v, 0));
	cr_assert_eq(v & 0xff, 0x14);
	vlapic_write(&l, APIC_TPR, 0x20, 0);
	vlapic_read(&l, APIC_TPR, &v, 0);
	cr_assert_eq(v, 0x20);
	cr_assert_not(vlapic_read(&l, 0x12, &v, 0), "unaligned offset decoded");
	cr_assert_not(vlapic_write(&l, 0xff0, 1, 0), "unknown register accepted");
}

Test(vlapic, one_shot_timer_fires_once)
{
	uint32_t cur;

	enable();
	vlapic_write(&l, APIC_TIMER_DIV, 0xb, 0);       /* divide by 1 */
	vlapic_write(&l, APIC_LVT_TIMER, 0x40, 0);      /* one shot, vector 0x40 */
	vlapic_write(&l, APIC_TIMER_INIT, 1000, 100);   /* 1000 ns */
	vlapic_read(&l, APIC_TIMER_CUR, &cur, 600);
	cr_assert_eq(cur, 500);
	vlapic_tick(&l, 1099);
	cr_assert_eq(vlapic_pending(&l), -1);
	vlapic_tick(&l, 1100);
	cr_assert_eq(vlapic_pending(&l), 0x40);
	vlapic_accept(&l, 0x40);
	cr_assert_eq(vlapic_pending(&l), -1);
	vlapic_tick(&l, 5000);
	cr_assert_eq(l.timer_fired, 1);
	vlapic_write(&l, APIC_EOI, 0, 5000);
	uint32_t isr;
	vlapic_read(&l, APIC_ISR + 0x20, &isr, 5000);
	cr_assert_eq(isr, 0, "EOI must clear the in-service bit");
}

Test(vlapic, periodic_timer_and_divider)
{
	enable();
	vlapic_write(&l, APIC_TIMER_DIV, 0x3, 0);                  /* divide by 16 */
	vlapic_write(&l, APIC_LVT_TIMER, APIC_LVT_PERIODIC | 0x30, 0);
	vlapic_write(&l, APIC_TIMER_INIT, 100, 0);                 /* 1600 ns */
	for (uint64_t t = 1600; t <= 16000; t += 1600) {
		vlapic_tick(&l, t);
		cr_assert_eq(vlapic_pending(&l), 0x30, "no tick at %lu", t);
		vlapic_accept(&l, 0x30);
		vlapic_write(&l, APIC_EOI, 0, t);
	}
	cr_assert_eq(l.timer_fired, 10);
	/* A long gap yields one interrupt, not a burst, and stays in phase. */
	vlapic_tick(&l, 160000 + 800);
	cr_assert_eq(l.timer_fired, 11);
	cr_assert_eq(l.timer_deadline, 161600);
}

Test(vlapic, masked_or_disabled_timer_raises_nothing)
{
	enable();
	vlapic_write(&l, APIC_LVT_TIMER, APIC_LVT_MASKED | 0x30, 0);
	vlapic_write(&l, APIC_TIMER_INIT, 10, 0);
	vlapic_tick(&l, 100000);
	cr_assert_eq(vlapic_pending(&l), -1);
	vlapic_write(&l, APIC_SVR, 0xff, 0); /* software disable */
	vlapic_raise(&l, 0x50);
	cr_assert_eq(vlapic_pending(&l), -1);
}

Test(vlapic, priorities_and_self_ipi)
{
	enable();
	vlapic_write(&l, APIC_ICR_LO, (1u << 18) | 0x60, 0); /* self IPI, vector 0x60 */
	vlapic_raise(&l, 0x41);
	cr_assert_eq(vlapic_pending(&l), 0x60);
	vlapic_accept(&l, 0x60);
	cr_assert_eq(vlapic_pending(&l), -1, "lower class must wait for EOI");
	vlapic_write(&l, APIC_EOI, 0, 0);
	cr_assert_eq(vlapic_pending(&l), 0x41);
	vlapic_write(&l, APIC_TPR, 0x50, 0);
	cr_assert_eq(vlapic_pending(&l), -1, "TPR must mask class 4");
	vlapic_write(&l, APIC_ICR_HI, 5u << 24, 0);
	vlapic_write(&l, APIC_ICR_LO, (5u << 8) | (1u << 14), 0); /* INIT to APIC 5: not us */
	cr_assert_not(vlapic_take_init(&l));
	cr_assert_eq(l.ipis_sent, 2);
	vlapic_write(&l, APIC_ICR_LO, (5u << 8) | (1u << 15), 0); /* INIT de-assert: ignored */
	cr_assert_eq(l.ipis_ignored, 1);
}

static char tx[64];
static size_t ntx;

static void tx_fn(void *ctx, uint8_t b)
{
	(void)ctx;
	tx[ntx++] = (char)b;
}

Test(vuart, transmit_receive_and_status)
{
	struct vuart u;

	vuart_init(&u, tx_fn, NULL);
	cr_assert_eq(vuart_read(&u, 5) & 0x61, 0x60, "empty: THRE|TEMT, no data");
	vuart_write(&u, 0, 'h');
	vuart_write(&u, 0, 'i');
	cr_assert_eq(ntx, 2);
	cr_assert_eq(memcmp(tx, "hi", 2), 0);
	vuart_receive(&u, 'x');
	cr_assert(vuart_read(&u, 5) & 1);
	cr_assert_eq(vuart_read(&u, 0), 'x');
	cr_assert_eq(vuart_read(&u, 5) & 1, 0);
	/* DLAB: the divisor latch, not the data register. */
	vuart_write(&u, 3, 0x83);
	vuart_write(&u, 0, 12);
	cr_assert_eq(vuart_read(&u, 0), 12);
	cr_assert_eq(ntx, 2, "a divisor write must not transmit");
	vuart_write(&u, 3, 0x03);
	for (int i = 0; i < VUART_RX_SIZE; i++)
		cr_assert(vuart_receive(&u, 'a'));
	cr_assert_not(vuart_receive(&u, 'b'));
	cr_assert_eq(u.rx_dropped, 1);
}
