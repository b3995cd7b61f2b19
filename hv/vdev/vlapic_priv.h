/* What the local APIC's files (vlapic.c, vlapic_timer.c, vlapic_irq.c)
 * share; not part of its API. */
#ifndef HV_VDEV_VLAPIC_PRIV_H
#define HV_VDEV_VLAPIC_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/vdev/vlapic.h"

#define APIC_LVT_VECTOR 0xffu
#define APIC_LVT_DM (7u << APIC_LVT_DM_SHIFT)
#define APIC_LVT_TIMER_MODE (3u << 17)

static inline void vlapic_set_bit(uint32_t *v, unsigned bit)
{
	v[bit / 32] |= 1u << (bit % 32);
}

static inline void vlapic_clear_bit(uint32_t *v, unsigned bit)
{
	v[bit / 32] &= ~(1u << (bit % 32));
}

static inline bool vlapic_test_bit(const uint32_t *v, unsigned bit)
{
	return v[bit / 32] & (1u << (bit % 32));
}

/* Highest set bit of a 256-bit register (IRR, ISR), or -1. */
static inline int vlapic_highest(const uint32_t *v)
{
	for (int w = 7; w >= 0; w--)
		if (v[w])
			return w * 32 + 31 - __builtin_clz(v[w]);
	return -1;
}

static inline unsigned vlapic_lvt_mode(uint32_t lvt)
{
	return (lvt & APIC_LVT_DM) >> APIC_LVT_DM_SHIFT;
}

/* vlapic_irq.c */
uint32_t vlapic_ppr(const struct vlapic *l);

/* vlapic_timer.c: the timer registers' side effects. */
void vlapic_timer_write_lvt(struct vlapic *l, uint32_t value);
void vlapic_timer_write_init(struct vlapic *l, uint32_t value, uint64_t now);
uint32_t vlapic_timer_current(const struct vlapic *l, uint64_t now);

#endif
