/* A minimal local APIC for one vCPU (xAPIC, MMIO at 0xFEE00000): ID,
 * version, TPR, SVR, EOI, ISR/IRR, ICR (self-IPIs delivered, others
 * accepted and counted), the LVT registers and the timer in one-shot and
 * periodic modes. Time is passed in (host TSC), so the device is pure and
 * host-testable. The timer counts at VLAPIC_BUS_HZ before the divider. */
#ifndef HV_VDEV_VLAPIC_H
#define HV_VDEV_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define VLAPIC_BASE 0xfee00000ull
#define VLAPIC_SIZE 0x1000ull
#define VLAPIC_BUS_HZ 1000000000ull /* 1 GHz: one count per ns at divide 1 */

enum {
	APIC_ID = 0x20, APIC_VERSION = 0x30, APIC_TPR = 0x80, APIC_APR = 0x90, APIC_PPR = 0xa0,
	APIC_EOI = 0xb0, APIC_LDR = 0xd0, APIC_DFR = 0xe0, APIC_SVR = 0xf0, APIC_ISR = 0x100,
	APIC_TMR = 0x180, APIC_IRR = 0x200, APIC_ESR = 0x280, APIC_LVT_CMCI = 0x2f0,
	APIC_ICR_LO = 0x300, APIC_ICR_HI = 0x310, APIC_LVT_TIMER = 0x320,
	APIC_LVT_THERMAL = 0x330, APIC_LVT_PERF = 0x340, APIC_LVT_LINT0 = 0x350,
	APIC_LVT_LINT1 = 0x360, APIC_LVT_ERROR = 0x370, APIC_TIMER_INIT = 0x380,
	APIC_TIMER_CUR = 0x390, APIC_TIMER_DIV = 0x3e0,
};

#define APIC_LVT_MASKED (1u << 16)
#define APIC_LVT_PERIODIC (1u << 17)
#define APIC_SVR_ENABLE (1u << 8)

struct vlapic {
	uint32_t id, tpr, svr, ldr, dfr, esr, icr_lo, icr_hi;
	uint32_t lvt_timer, lvt_thermal, lvt_perf, lvt_lint0, lvt_lint1, lvt_error, lvt_cmci;
	uint32_t timer_init, timer_div;
	uint32_t irr[8], isr[8];
	uint64_t tsc_hz;          /* host TSC rate, to convert counts */
	uint64_t timer_start;     /* TSC when the current period began */
	uint64_t timer_period;    /* TSC ticks per period, 0 when stopped */
	uint64_t timer_deadline;  /* next expiry (TSC), 0 when stopped */
	uint64_t timer_fired, ipis_ignored, bad_accesses;
};

void vlapic_init(struct vlapic *l, uint32_t id, uint64_t tsc_hz);

/* 32-bit register access at an offset into the page. Returns false for
 * offsets or widths the APIC does not decode (the access is ignored). */
bool vlapic_read(struct vlapic *l, uint32_t offset, uint32_t *value, uint64_t now);
bool vlapic_write(struct vlapic *l, uint32_t offset, uint32_t value, uint64_t now);

/* Fires the timer if its deadline passed. */
void vlapic_tick(struct vlapic *l, uint64_t now);
/* Highest-priority deliverable vector, or -1. */
int vlapic_pending(const struct vlapic *l);
/* The vCPU took 'vector': IRR -> ISR. */
void vlapic_accept(struct vlapic *l, int vector);
/* Raises a fixed interrupt. */
void vlapic_raise(struct vlapic *l, int vector);
bool vlapic_enabled(const struct vlapic *l);

#endif
