/* The MC146818A's state blob (docs/device-state.md). Bytes the model
 * computes on read (UIP, IRQF, register D, the time registers while the
 * clock runs) travel as 0 and must be 0; the rest must be what the
 * registers and the clock can produce (vrtc.c). */
#include "hv/vdev/vrtc.h"

#include "hv/lib/muldiv.h"
#include "hv/vdev/rtc_calendar.h"
#include "hv/vdev/vdev_state.h"
#include "hv/vdev/vrtc_fields.h"

#define TICKS_PER_SECOND ((uint64_t)VRTC_CHAIN_HZ)
#define NS_PER_SEC 1000000000ull
#define C_FLAGS (VRTC_C_PF | VRTC_C_AF | VRTC_C_UF)
/* VM time (ns since the VM was created) that no VM reaches: 292 years.
 * Event times are the chain's reference plus at most a day or so of ticks
 * past tick_done, so below this they cannot wrap. */
#define VM_CLOCK_LIMIT_NS (1ull << 63)

_Static_assert(VRTC_STATE_SIZE == VRTC_CMOS_SIZE + 2 + 8 + 1 + 3 * 8 + 1,
	       "layout in docs/device-state.md");

static bool set_mode(const uint8_t *cmos)
{
	return cmos[VRTC_REG_B] & VRTC_B_SET;
}

/* While SET is clear the time registers are computed from the base; the
 * bytes in cmos[] are left-overs no read or rebase uses. */
static bool computed_now(const uint8_t *cmos, unsigned index)
{
	return !set_mode(cmos) && vrtc_is_time_register(index);
}

size_t vrtc_save(const struct vrtc *rtc, uint8_t *buf, size_t size)
{
	if (size < VRTC_STATE_SIZE)
		return 0;
	struct wire_cursor w = wire_writer(buf, VRTC_STATE_SIZE);
	for (unsigned i = 0; i < VRTC_CMOS_SIZE; i++)
		wput8(&w, computed_now(rtc->cmos, i) ? 0 : rtc->cmos[i]);
	wput8(&w, rtc->index);
	wput8(&w, rtc->nmi_disabled);
	wput64(&w, (uint64_t)rtc->seconds_at_tick0);
	wput8(&w, rtc->dow_offset);
	wput64(&w, rtc->chain_ref_ns);
	wput64(&w, rtc->chain_ref_tick);
	wput64(&w, rtc->tick_done);
	wput8(&w, rtc->irq_level);
	return VRTC_STATE_SIZE;
}

/* Registers A-D: UIP is computed on read and never stored; SET going high
 * clears UIE (datasheet), so both are never set together; C holds only
 * the flags (IRQF is computed, bits 3-0 read 0); D (VRT) is a constant. */
static void check_registers(struct vdev_state_reader *r, const uint8_t *cmos)
{
	uint8_t b = cmos[VRTC_REG_B];

	vdev_state_check(r, !(cmos[VRTC_REG_A] & VRTC_A_UIP), "cmos[0x0a] 0x%02x: UIP is computed",
			 cmos[VRTC_REG_A]);
	vdev_state_check(r, (b & (VRTC_B_SET | VRTC_B_UIE)) != (VRTC_B_SET | VRTC_B_UIE),
			 "cmos[0x0b] 0x%02x: UIE with SET", b);
	vdev_state_check(r, !(cmos[VRTC_REG_C] & ~C_FLAGS),
			 "cmos[0x0c] 0x%02x: only PF, AF and UF are stored", cmos[VRTC_REG_C]);
	vdev_state_check(r, cmos[VRTC_REG_D] == 0, "cmos[0x0d] 0x%02x: register D is computed",
			 cmos[VRTC_REG_D]);
	for (unsigned i = 0; i < VRTC_TIME_REGISTER_COUNT; i++) {
		uint8_t index = vrtc_time_registers[i];
		vdev_state_check(r, !computed_now(cmos, index) || cmos[index] == 0,
				 "cmos[0x%02x] 0x%02x: computed while SET is clear (must be 0)",
				 index, cmos[index]);
	}
}

/* Chain ticks a VM clock can reach: 2^64 ns at 32.768 kHz, twice over,
 * because re-enabling the divider puts the chain half a second into the
 * current second (guest toggling DV every half second can make it run
 * at up to twice the rate), plus that half second. */
static uint64_t max_ticks(void)
{
	return 2 * mul_div_u64(UINT64_MAX, TICKS_PER_SECOND, NS_PER_SEC) + TICKS_PER_SECOND / 2;
}

/* The time base: the clock is rebased from register values of years
 * 0-9999 (or started from the firmware's clock), minus the seconds the
 * chain has counted. */
static void check_time_base(struct vdev_state_reader *r, const struct vrtc *n)
{
	struct rtc_civil first = { .year = 0, .month = 1, .day = 1 };
	struct rtc_civil last = { .year = RTC_CAL_YEAR_MAX, .month = 12, .day = 31, .hour = 23,
				  .minute = 59, .second = 59 };
	int64_t lo = rtc_cal_seconds_from_civil(&first) - (int64_t)(max_ticks() / TICKS_PER_SECOND);
	int64_t hi = rtc_cal_seconds_from_civil(&last);

	vdev_state_check(r, n->seconds_at_tick0 >= lo && n->seconds_at_tick0 <= hi,
			 "seconds_at_tick0 %lld: outside years 0-9999",
			 (long long)n->seconds_at_tick0);
	vdev_state_check(r, n->dow_offset < 7, "dow_offset %u: not 0-6", n->dow_offset);
}

/* The divider chain: its reference never passes what was applied
 * (tick_done), a stopped chain stands exactly where it stopped. */
static void check_chain(struct vdev_state_reader *r, const struct vrtc *n)
{
	bool running = (n->cmos[VRTC_REG_A] & VRTC_A_DV_MASK) == VRTC_A_DV_32K;

	vdev_state_check(r, n->tick_done <= max_ticks(),
			 "tick_done %llu: more than a VM clock can count",
			 (unsigned long long)n->tick_done);
	vdev_state_check(r, n->chain_ref_tick <= n->tick_done,
			 "chain_ref_tick %llu: past tick_done %llu",
			 (unsigned long long)n->chain_ref_tick, (unsigned long long)n->tick_done);
	vdev_state_check(r, running || n->chain_ref_tick == n->tick_done,
			 "chain stopped but chain_ref_tick %llu differs from tick_done %llu",
			 (unsigned long long)n->chain_ref_tick, (unsigned long long)n->tick_done);
	/* The reference is a VM time; a running chain has counted at most
	 * the ticks from it to the VM time of the last access. */
	if (!vdev_state_check(r, n->chain_ref_ns <= VM_CLOCK_LIMIT_NS,
			      "chain_ref_ns %llu: past 2^63 ns of VM time",
			      (unsigned long long)n->chain_ref_ns) || r->failed)
		return;
	uint64_t span = mul_div_u64(VM_CLOCK_LIMIT_NS - n->chain_ref_ns, TICKS_PER_SECOND,
				    NS_PER_SEC);
	vdev_state_check(r, !running || n->tick_done - n->chain_ref_tick <= span,
			 "tick_done %llu: more ticks since chain_ref_tick than VM time up to "
			 "2^63 ns holds", (unsigned long long)n->tick_done);
}

int vrtc_load(struct vrtc *rtc, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct vdev_state_reader r;
	struct vrtc next = *rtc; /* wiring and counters stay */

	if (!vdev_state_begin(&r, "vrtc", buf, len, VRTC_STATE_SIZE, err, errlen))
		return -1;
	for (unsigned i = 0; i < VRTC_CMOS_SIZE; i++)
		next.cmos[i] = wget8(&r.c);
	next.index = wget8(&r.c);
	next.nmi_disabled = vdev_state_bool(&r, "nmi_disabled");
	next.seconds_at_tick0 = (int64_t)wget64(&r.c);
	next.dow_offset = wget8(&r.c);
	next.chain_ref_ns = wget64(&r.c);
	next.chain_ref_tick = wget64(&r.c);
	next.tick_done = wget64(&r.c);
	next.irq_level = vdev_state_bool(&r, "irq_level");
	if (vdev_state_end(&r))
		return -1;
	vdev_state_check(&r, next.index < VRTC_CMOS_SIZE, "index %u: past 127 (bit 7 is NMI)",
			 next.index);
	check_registers(&r, next.cmos);
	check_time_base(&r, &next);
	check_chain(&r, &next);
	/* IRQ8 is IRQF, recomputed after every access and advance. */
	bool irqf = next.cmos[VRTC_REG_C] & next.cmos[VRTC_REG_B] & C_FLAGS;
	vdev_state_check(&r, next.irq_level == irqf, "irq_level %u but IRQF is %u", next.irq_level,
			 irqf);
	if (vdev_state_end(&r))
		return -1;
	*rtc = next;
	irq_set(&rtc->irq, rtc->irq_level);
	return 0;
}
