/* The local APIC of one vCPU, an xAPIC without x2APIC as the SDM (vol. 3A,
 * chapter 10) describes it: ID, version, TPR/PPR, SVR, EOI, ISR/IRR/TMR,
 * ICR (IPIs go out through the VM's bus, vlapic_set_ipi_bus), the LVT, the
 * timer in one-shot, periodic and TSC-deadline modes, LINT0/LINT1,
 * IA32_APIC_BASE (relocation, global disable) and IA32_TSC_DEADLINE.
 *
 * Time: every `now` is the host TSC. The guest TSC is host TSC +
 * `tsc_offset`, which the VM keeps current with vlapic_set_tsc_offset();
 * the model converts IA32_TSC_DEADLINE values (guest TSC) itself. The timer
 * counts at VLAPIC_BUS_HZ before the divider.
 *
 * Interrupts in: vlapic_receive() (IOAPIC messages), vlapic_raise*() (the
 * VM's own sources), vlapic_lint_pulse() (LINT pins); out to the vCPU:
 * vlapic_pending()/vlapic_accept(), vlapic_take_nmi(), and
 * vlapic_accepts_extint() for the 8259 behind LINT0, and INIT and
 * start-up for the vCPU to act on (vlapic_take_init/_sipi). EOIs of
 * level-triggered vectors go out through the eoi_broadcast callback. */
#ifndef HV_VDEV_VLAPIC_H
#define HV_VDEV_VLAPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/vdev/apic_msg.h"

#define VLAPIC_BASE 0xfee00000ull /* the base after reset */
#define VLAPIC_SIZE 0x1000ull
#define VLAPIC_BASE_BSP (1ull << 8) /* IA32_APIC_BASE.BSP */
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
#define APIC_LVT_PERIODIC (1u << 17)     /* timer mode 01b */
#define APIC_LVT_TSC_DEADLINE (2u << 17) /* timer mode 10b */
#define APIC_LVT_DM_SHIFT 8              /* delivery mode, enum apic_delivery */
#define APIC_SVR_ENABLE (1u << 8)

/* Called when the APIC ends a level-triggered vector (its TMR bit was
 * set): the IOAPIC clears remote IRR of the entries using that vector. */
typedef void (*vlapic_eoi_fn)(void *ctx, uint8_t vector);
struct vlapic;
/* An IPI written to the ICR, for the bus to hand to its targets:
 * vlapic_is_target() and vlapic_receive() on each, or the sender alone
 * (APIC_SH_SELF), every APIC or every other one. */
typedef void (*vlapic_ipi_fn)(void *ctx, struct vlapic *from, const struct apic_msg *m,
			      enum apic_shorthand sh);

struct vlapic {
	/* Guest state (what migration must carry). The first block is what
	 * the stream's LAPIC record holds today (docs/migration-stream.md). */
	uint32_t id, tpr, svr, ldr, dfr, esr, icr_lo, icr_hi;
	uint32_t lvt_timer, lvt_thermal, lvt_perf, lvt_lint0, lvt_lint1, lvt_error, lvt_cmci;
	uint32_t timer_init, timer_div;
	uint32_t irr[8], isr[8];
	/* Not in the stream yet: */
	uint32_t tmr[8];       /* trigger mode of each accepted vector: 1 = level */
	uint64_t apic_base;    /* IA32_APIC_BASE: base, EN (bit 11), BSP (bit 8) */
	uint64_t tsc_deadline; /* IA32_TSC_DEADLINE in guest TSC; 0 = disarmed */
	bool nmi_pending;      /* an NMI (LINT, message) the vCPU has not taken */
	bool init_pending;     /* an INIT message the vCPU has not acted on */
	bool sipi_pending;     /* a start-up message, with its vector */
	uint8_t sipi_vector;

	/* Configuration and wiring, set by the VM, not guest state. */
	uint64_t tsc_hz;      /* host TSC rate, to convert counts */
	uint64_t tsc_offset;  /* guest TSC - host TSC (vlapic_set_tsc_offset) */
	uint32_t hw_id;       /* the APIC ID the hardware assigns at power-up */
	vlapic_eoi_fn eoi_broadcast;
	void *eoi_ctx;
	vlapic_ipi_fn ipi_send;
	void *ipi_ctx;

	/* Timer state in host TSC, derived from the guest state above: the
	 * stream carries it as nanoseconds to the next expiry. */
	uint64_t timer_start;    /* TSC when the current period began */
	uint64_t timer_period;   /* TSC ticks per period, 0 when stopped */
	uint64_t timer_deadline; /* next expiry (TSC), 0 when stopped */

	/* Counters (diagnostics). */
	uint64_t timer_fired, bad_accesses;
	uint64_t ipis_sent, ipis_ignored; /* ICR writes sent, and refused as invalid */
	uint64_t irqs_dropped;    /* refused: bad vector, APIC disabled, LINT masked */
	uint64_t msgs_ignored;    /* SMI, ExtINT, reserved modes */
	uint64_t eoi_broadcasts;
};

/* Power-up state (SDM 10.4.7.1) of the BSP's APIC: enabled in
 * IA32_APIC_BASE at 0xfee00000, software-disabled (SVR 0xff), every LVT
 * entry masked. No EOI callback, TSC offset 0. */
void vlapic_init(struct vlapic *l, uint32_t id, uint64_t tsc_hz);
void vlapic_set_eoi_broadcast(struct vlapic *l, vlapic_eoi_fn fn, void *ctx);
void vlapic_set_ipi_bus(struct vlapic *l, vlapic_ipi_fn fn, void *ctx);
/* An application processor's APIC: IA32_APIC_BASE.BSP clear. */
void vlapic_make_ap(struct vlapic *l);
/* The vCPU acts on an INIT (SDM 10.4.7.3): registers as at power-up, the
 * APIC ID and IA32_APIC_BASE kept. A start-up message that came after
 * the INIT stays pending. */
void vlapic_init_signal(struct vlapic *l);
/* The vCPU's TSC offset changed (creation, a guest write to IA32_TSC,
 * migration restore): an armed TSC deadline is re-timed against it. */
void vlapic_set_tsc_offset(struct vlapic *l, uint64_t tsc_offset, uint64_t now);

/* 32-bit register access at an offset into the page. Returns false (reads
 * 0, the access is ignored and counted) for offsets the APIC does not
 * decode, or when it is globally disabled (it decodes nothing then). */
bool vlapic_read(struct vlapic *l, uint32_t offset, uint32_t *value, uint64_t now);
bool vlapic_write(struct vlapic *l, uint32_t offset, uint32_t value, uint64_t now);

/* IA32_APIC_BASE. A write returns false where the SDM raises #GP (the
 * MSR then keeps its value): reserved bits 0-7 and 9, bits maxphyaddr-63,
 * and EXTD (bit 10), as x2APIC is not offered. Clearing EN puts the APIC
 * in its power-up state and stops it decoding; setting EN again starts
 * from there (software-disabled). @pre 32 <= maxphyaddr <= 52 (clamped). */
uint64_t vlapic_read_apic_base(const struct vlapic *l);
bool vlapic_write_apic_base(struct vlapic *l, uint64_t value, unsigned maxphyaddr);
/* Where the register page is (from IA32_APIC_BASE), and whether the APIC
 * answers an access at guest-physical address gpa. */
uint64_t vlapic_mmio_base(const struct vlapic *l);
bool vlapic_claims(const struct vlapic *l, uint64_t gpa);
/* Globally enabled (IA32_APIC_BASE.EN). */
bool vlapic_hw_enabled(const struct vlapic *l);
/* Globally and software-enabled (SVR bit 8). */
bool vlapic_enabled(const struct vlapic *l);

/* IA32_TSC_DEADLINE (SDM 10.5.4.1). In TSC-deadline mode a non-zero write
 * arms the timer for when the guest TSC reaches the value (at once if it
 * already has), 0 disarms; a read returns the armed value, 0 once fired.
 * In other modes, or globally disabled, writes are ignored, reads give 0. */
uint64_t vlapic_read_tsc_deadline(struct vlapic *l, uint64_t now);
void vlapic_write_tsc_deadline(struct vlapic *l, uint64_t value, uint64_t now);

/* Fires the timer if its deadline passed. */
void vlapic_tick(struct vlapic *l, uint64_t now);
/* The host TSC at which vlapic_tick() has work, or UINT64_MAX. */
uint64_t vlapic_next_event(const struct vlapic *l);

/* Highest-priority deliverable vector, or -1. Interrupts already in the
 * IRR stay deliverable while software-disabled (SDM 10.4.7.2: "held"). */
int vlapic_pending(const struct vlapic *l);
/* Highest vector in service (taken, not yet ended by EOI), or -1. */
int vlapic_in_service(const struct vlapic *l);
/* The vCPU took 'vector': IRR -> ISR. @pre vector came from vlapic_pending. */
void vlapic_accept(struct vlapic *l, int vector);
/* Raises a fixed edge-triggered interrupt (vlapic_raise_level, edge). */
void vlapic_raise(struct vlapic *l, int vector);
/* Accepts a fixed interrupt into the IRR and records its trigger mode in
 * the TMR. Refused (false, counted) for vectors 0-15 and while the APIC is
 * software- or globally disabled. */
bool vlapic_raise_level(struct vlapic *l, int vector, bool level_triggered);

/* Whether a message is addressed to this APIC (SDM 10.6.2: physical ID,
 * flat or cluster logical model, 0xff broadcast). Never when disabled. */
bool vlapic_is_target(const struct vlapic *l, const struct apic_msg *m);
/* Takes a message addressed to this APIC: fixed and lowest priority go to
 * the IRR as vlapic_raise_level(); NMI makes an NMI pending; INIT and
 * start-up are kept for the vCPU (below). Returns whether it was accepted
 * (an IOAPIC sets remote IRR only then). SMI and ExtINT are not
 * modelled: false, counted. */
bool vlapic_receive(struct vlapic *l, const struct apic_msg *m);
/* Whether an INIT arrived since the last call (cleared). */
bool vlapic_take_init(struct vlapic *l);
/* The vector of a start-up message that arrived since the last call
 * (cleared), or -1. */
int vlapic_take_sipi(struct vlapic *l);

/* Whether the 8259's INTR may reach the vCPU through LINT0: LINT0 unmasked
 * in ExtINT mode, or the APIC globally disabled (LINT0 is then the plain
 * INTR pin, SDM 10.4.3). A software-disabled APIC has LINT0 masked. */
bool vlapic_accepts_extint(const struct vlapic *l);
/* An edge on LINT0 or LINT1 (pin 0 or 1), as its LVT entry says: fixed
 * raises the vector, NMI makes an NMI pending; masked, ExtINT (the 8259
 * path above), SMI and INIT do nothing. Globally disabled, LINT1 is the
 * NMI pin. */
void vlapic_lint_pulse(struct vlapic *l, unsigned pin);
/* Returns whether an NMI is pending and clears it: the vCPU takes it. */
bool vlapic_take_nmi(struct vlapic *l);
/* What PC firmware leaves behind for the OS (MP spec 3.6.2.2, "virtual
 * wire mode"): APIC software-enabled (SVR 0x1ff), LINT0 ExtINT, LINT1 NMI. */
void vlapic_firmware_virtual_wire(struct vlapic *l, uint64_t now);

/* Migration of the fields the stream's LAPIC record does not carry
 * (vlapic_state.c; layout and checks in docs/device-state.md). */
#define VLAPIC_EXTRA_STATE_SIZE 49 /* tmr[8], apic_base, tsc_deadline, nmi_pending */
/* tmr[8], apic_base, tsc_deadline (guest TSC) and nmi_pending as a blob of
 * exactly VLAPIC_EXTRA_STATE_SIZE bytes. Returns the size, or 0 when
 * 'size' is too small. */
size_t vlapic_save_extra(const struct vlapic *l, uint8_t *buf, size_t size);
/* Checks the fields (apic_base as vlapic_write_apic_base() would with
 * this maxphyaddr; no TMR bit for vectors 0-15; with EN clear no TMR bit
 * and no deadline; a deadline only in TSC-deadline mode) and only when all
 * of it is acceptable replaces them. Returns 0, or -1 with the reason
 * (naming the field) in err and the APIC unchanged.
 * @pre the LAPIC record's registers were restored first (the LVT timer
 * mode is checked against them).
 * Afterwards the caller calls vlapic_set_tsc_offset() with the guest's
 * TSC offset on this host: it re-times an armed deadline from
 * tsc_deadline (the LAPIC record's timer fields read "stopped" for a
 * deadline that was due but had not fired at the pause). */
int vlapic_load_extra(struct vlapic *l, const uint8_t *buf, size_t len, unsigned maxphyaddr,
		      char *err, size_t errlen);

#endif
