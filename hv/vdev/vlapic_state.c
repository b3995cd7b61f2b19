/* The local APIC's fields that the stream's LAPIC record does not carry
 * (docs/device-state.md): TMR, IA32_APIC_BASE, IA32_TSC_DEADLINE and a
 * pending NMI, checked against what the APIC and its MSRs allow. */
#include "hv/vdev/vlapic.h"

#include "hv/vdev/vdev_state.h"
#include "hv/vdev/vlapic_priv.h"

#define BASE_EN (1ull << 11)
#define BASE_RESERVED_LOW 0x6ffull /* bits 0-7, 9, 10 (EXTD: no x2APIC) */
#define ILLEGAL_VECTORS 0xffffu    /* vectors 0-15 (SDM 10.5.2) */

_Static_assert(VLAPIC_EXTRA_STATE_SIZE == 8 * 4 + 8 + 8 + 1, "layout in docs/device-state.md");

size_t vlapic_save_extra(const struct vlapic *l, uint8_t *buf, size_t size)
{
	if (size < VLAPIC_EXTRA_STATE_SIZE)
		return 0;
	struct wire_cursor w = wire_writer(buf, VLAPIC_EXTRA_STATE_SIZE);
	for (unsigned i = 0; i < 8; i++)
		wput32(&w, l->tmr[i]);
	wput64(&w, l->apic_base);
	wput64(&w, l->tsc_deadline);
	wput8(&w, l->nmi_pending);
	return VLAPIC_EXTRA_STATE_SIZE;
}

/* IA32_APIC_BASE as vlapic_write_apic_base() accepts it: no reserved bit,
 * no address bit at or above MAXPHYADDR. */
static void check_apic_base(struct vdev_state_reader *r, uint64_t base, unsigned maxphyaddr)
{
	if (maxphyaddr < 32)
		maxphyaddr = 32;
	if (maxphyaddr > 52)
		maxphyaddr = 52;
	vdev_state_check(r, !(base & BASE_RESERVED_LOW),
			 "apic_base 0x%llx: reserved bits 0-7, 9 or 10 set",
			 (unsigned long long)base);
	vdev_state_check(r, !(base & ~0ull << maxphyaddr),
			 "apic_base 0x%llx: bits at or above MAXPHYADDR %u set",
			 (unsigned long long)base, maxphyaddr);
}

int vlapic_load_extra(struct vlapic *l, const uint8_t *buf, size_t len, unsigned maxphyaddr,
		      char *err, size_t errlen)
{
	struct vdev_state_reader r;
	struct vlapic next = *l; /* the LAPIC record's registers, wiring and counters stay */

	if (!vdev_state_begin(&r, "vlapic", buf, len, VLAPIC_EXTRA_STATE_SIZE, err, errlen))
		return -1;
	for (unsigned i = 0; i < 8; i++)
		next.tmr[i] = wget32(&r.c);
	next.apic_base = wget64(&r.c);
	next.tsc_deadline = wget64(&r.c);
	next.nmi_pending = vdev_state_bool(&r, "nmi_pending");
	if (vdev_state_end(&r))
		return -1;
	check_apic_base(&r, next.apic_base, maxphyaddr);
	/* A TMR bit is set only when a vector >= 16 is accepted. */
	vdev_state_check(&r, !(next.tmr[0] & ILLEGAL_VECTORS),
			 "tmr[0] 0x%08x: vectors 0-15 are never accepted", next.tmr[0]);
	bool enabled = next.apic_base & BASE_EN, any_tmr = false;
	for (unsigned i = 0; i < 8; i++)
		any_tmr |= next.tmr[i] != 0;
	/* Clearing EN resets the APIC (TMR and the deadline with it), and a
	 * disabled APIC accepts no fixed interrupt and ignores the MSR. */
	vdev_state_check(&r, enabled || !any_tmr, "tmr bits set with apic_base EN clear");
	vdev_state_check(&r, enabled || !next.tsc_deadline,
			 "tsc_deadline armed with apic_base EN clear");
	/* Only TSC-deadline mode takes the MSR; leaving the mode disarms it. */
	vdev_state_check(&r, !next.tsc_deadline ||
			 (next.lvt_timer & APIC_LVT_TIMER_MODE) == APIC_LVT_TSC_DEADLINE,
			 "tsc_deadline armed but LVT timer 0x%08x is not in TSC-deadline mode",
			 next.lvt_timer);
	if (vdev_state_end(&r))
		return -1;
	*l = next; /* only the four fields differ */
	return 0;
}
