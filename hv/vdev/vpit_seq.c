/* 8254 counting sequences after the Intel 8254 datasheet, per mode:
 *  0 interrupt on terminal count: OUT low until the CE reaches 0, then high;
 *    the CE keeps counting down through 0 (wrapping).
 *  1 hardware one-shot: as mode 0 once triggered (OUT low while counting).
 *  2 rate generator: CE n, n-1, ..., 1, reload; OUT low while the CE is 1.
 *  3 square wave: each half cycle reloads and counts down by two; even n:
 *    n/2 clocks high, n/2 low; odd n: n-1 is loaded, OUT is high for
 *    (n+1)/2 clocks (reading 0 in its last) and low for (n-1)/2.
 *  4/5 strobes: OUT low for the one clock at which the CE reaches 0.
 * Counts of 1 in modes 2 and 3 are below the datasheet's minimum of 2:
 * mode 2 then keeps OUT low, mode 3 keeps it high (no edges, no storm). */
#include "hv/vdev/vpit_seq.h"

#include "hv/lib/muldiv.h"

#define NS_PER_S 1000000000ull

static uint32_t modulus(const struct vpit_seq *q)
{
	return q->bcd ? 10000 : 65536;
}

uint32_t vpit_count(uint16_t cr, bool bcd, bool *bad)
{
	uint32_t n = cr;

	*bad = false;
	if (bcd) {
		n = 0;
		for (int shift = 12; shift >= 0; shift -= 4) {
			uint32_t digit = (cr >> shift) & 0xf;
			*bad |= digit > 9;
			n = n * 10 + digit;
		}
	}
	return n ? n : (bcd ? 10000 : 65536);
}

static uint16_t encode(const struct vpit_seq *q, uint32_t v)
{
	v %= modulus(q);
	if (!q->bcd)
		return (uint16_t)v;
	return (uint16_t)((v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

static uint32_t high_half(uint32_t n)
{
	return (n + 1) / 2;
}

uint16_t vpit_seq_ce(const struct vpit_seq *q, uint64_t s)
{
	uint32_t m = modulus(q);
	uint32_t p = (uint32_t)(s % q->n);

	switch (q->mode) {
	case 2:
		return encode(q, q->n - p);
	case 3: {
		uint32_t half_pos = p < high_half(q->n) ? p : p - high_half(q->n);
		return encode(q, (q->n & ~1u) - 2 * half_pos);
	}
	default: /* one-shots and strobes count down through 0 */
		return encode(q, q->n % m + m - (uint32_t)(s % m));
	}
}

bool vpit_seq_out(const struct vpit_seq *q, uint64_t s)
{
	switch (q->mode) {
	case 0:
	case 1: return s >= q->n;
	case 2: return s % q->n != q->n - 1;
	case 3: return s % q->n < high_half(q->n);
	default: return s != q->n;
	}
}

/* The position of a one-shot's or strobe's only rising edge. */
static uint64_t single_rise(const struct vpit_seq *q)
{
	return q->mode <= 1 ? q->n : (uint64_t)q->n + 1;
}

static bool periodic(const struct vpit_seq *q)
{
	return q->mode == 2 || q->mode == 3;
}

uint64_t vpit_seq_next_rise(const struct vpit_seq *q, uint64_t s)
{
	if (!periodic(q))
		return s < single_rise(q) ? single_rise(q) : UINT64_MAX;
	if (q->n < 2)
		return UINT64_MAX;
	return (s / q->n + 1) * q->n; /* OUT rises as each period begins */
}

uint64_t vpit_seq_rises(const struct vpit_seq *q, uint64_t a, uint64_t b)
{
	if (!periodic(q))
		return a < single_rise(q) && single_rise(q) <= b;
	if (q->n < 2)
		return 0;
	return b / q->n - a / q->n;
}

uint64_t vpit_seq_switch_point(const struct vpit_seq *q, uint64_t s, uint32_t n,
			       uint64_t *next_s0)
{
	uint64_t period_start = s - s % q->n;

	*next_s0 = 0;
	if (q->mode == 3 && s % q->n < high_half(q->n)) {
		*next_s0 = high_half(n);
		return period_start + high_half(q->n);
	}
	return period_start + q->n;
}

uint64_t vpit_tick(uint64_t now_ns)
{
	return mul_div_u64(now_ns, VPIT_HZ, NS_PER_S);
}

uint64_t vpit_tick_ns(uint64_t tick)
{
	uint64_t ns = mul_div_u64(tick, NS_PER_S, VPIT_HZ);

	return vpit_tick(ns) < tick ? ns + 1 : ns;
}
