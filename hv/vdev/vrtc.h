/* The MC146818A real-time clock and its CMOS RAM as on a PC: index port
 * 0x70 (bit 7: NMI disable, stored for the VM), data port 0x71, 128 bytes,
 * IRQ8. Built to the Motorola MC146818A datasheet:
 *
 * - The clock runs from a 32.768 kHz divider chain (register A DV = 010;
 *   any other divider stops it, and going back to 010 starts the chain so
 *   that the first update comes half a second later, as after a divider
 *   reset). The chain's position is a function of the VM clock, so the
 *   time, the periodic interrupt taps and the update cycle all stay in
 *   phase with each other, as on the chip.
 * - The date and time follow a base (Unix seconds at a VM clock value);
 *   time registers are computed in BCD or binary and 12/24 hour as register
 *   B says. Guest writes to them re-base the clock, at once when SET is
 *   clear, or when SET is cleared (SET freezes the registers, and stops the
 *   updates, as the datasheet's "set" procedure expects).
 * - The century is CMOS byte 0x32 (VRTC_CENTURY_INDEX, named by the FADT),
 *   owned by the model, in the same BCD/binary mode as the year, and it
 *   advances with the year (the chip has no century; PC firmware keeps one
 *   there and guests read it with the date).
 * - The update is instantaneous at the second boundary; UIP reads 1 during
 *   the 244.14 us (8 chain ticks) before it. The datasheet's 1984 us update
 *   cycle, during which the registers are not valid, is not modelled: the
 *   registers are always valid, which a guest that honours UIP cannot tell.
 * - DSE (daylight saving, the 1986 US rule) is stored and ignored; the time
 *   is UTC. SQWE is stored (a PC has no SQW pin).
 * - Day of week is a counter of its own, as on the chip: it advances at
 *   midnight and keeps whatever offset the guest gave it.
 * - Invalid time values written by the guest (BCD digits over 9, hour 25,
 *   31 February...) are clamped into range when the clock is re-based and
 *   counted in bad_times; the chip's behaviour is undefined there.
 * - The RESET pin is not modelled: a PC keeps the RTC across resets.
 *
 * Guest state: every field but 'irq'; 'irq' is wiring. Times are VM clock
 * nanoseconds (now_ns), which must not go backwards between calls. */
#ifndef HV_VDEV_VRTC_H
#define HV_VDEV_VRTC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/vdev/irq.h"

#define VRTC_CMOS_SIZE 128
#define VRTC_CENTURY_INDEX 0x32
#define VRTC_CHAIN_HZ 32768u

enum {
	VRTC_SECONDS = 0x00, VRTC_SECONDS_ALARM = 0x01, VRTC_MINUTES = 0x02,
	VRTC_MINUTES_ALARM = 0x03, VRTC_HOURS = 0x04, VRTC_HOURS_ALARM = 0x05,
	VRTC_DAY_OF_WEEK = 0x06, VRTC_DAY_OF_MONTH = 0x07, VRTC_MONTH = 0x08,
	VRTC_YEAR = 0x09, VRTC_REG_A = 0x0a, VRTC_REG_B = 0x0b, VRTC_REG_C = 0x0c,
	VRTC_REG_D = 0x0d, VRTC_RAM_FIRST = 0x0e,
};

#define VRTC_A_UIP 0x80
#define VRTC_A_DV_MASK 0x70
#define VRTC_A_DV_32K 0x20   /* DV = 010: 32.768 kHz time base, the clock runs */
#define VRTC_A_RS_MASK 0x0f
#define VRTC_B_SET 0x80
#define VRTC_B_PIE 0x40
#define VRTC_B_AIE 0x20
#define VRTC_B_UIE 0x10
#define VRTC_B_SQWE 0x08
#define VRTC_B_DM_BINARY 0x04
#define VRTC_B_24H 0x02
#define VRTC_B_DSE 0x01
#define VRTC_C_IRQF 0x80
#define VRTC_C_PF 0x40
#define VRTC_C_AF 0x20
#define VRTC_C_UF 0x10
#define VRTC_D_VRT 0x80

struct vrtc {
	/* RAM and registers. cmos[0x00-0x09] and [0x32] hold the time only
	 * while SET freezes it (otherwise it is computed); the alarm bytes,
	 * A (without UIP), B and C's flags (PF, AF, UF) live here always. */
	uint8_t cmos[VRTC_CMOS_SIZE];
	uint8_t index;             /* selected register, 0-127 */
	bool nmi_disabled;         /* bit 7 of the last index write */
	int64_t seconds_at_tick0;  /* Unix time shown at chain tick 0 */
	uint8_t dow_offset;        /* guest day-of-week counter minus the real weekday, mod 7 */
	uint64_t chain_ref_ns;     /* VM clock at which the chain stood at chain_ref_tick */
	uint64_t chain_ref_tick;   /* chain ticks (32.768 kHz) counted at chain_ref_ns */
	uint64_t tick_done;        /* chain ticks whose PF/UF/AF events are applied */
	bool irq_level;            /* IRQ8 as last driven (IRQF) */
	uint64_t bad_accesses;     /* writes to C and D; port offsets other than 0-1 */
	uint64_t bad_times;        /* invalid time values clamped at a re-base */
	struct irq_line irq;       /* wiring: IRQ8 */
};

/* Power-on state as a PC firmware leaves it: A = 0x26 (32.768 kHz, 1024 Hz
 * periodic rate), B = 0x02 (24 hour, BCD, no interrupts), C = 0, D = VRT,
 * RAM zero; the clock reads 'unix_seconds_at_base' at VM clock 'base_ns'
 * (a second boundary). IRQ8 starts low (not driven). */
void vrtc_init(struct vrtc *rtc, int64_t unix_seconds_at_base, uint64_t base_ns,
	       const struct irq_line *irq);

/* Port access; offset 0 is port 0x70 (index, write-only: reads 0xff as on
 * a PC/AT), 1 is 0x71 (data). Other offsets read 0xff, ignore writes and
 * are counted. Reading register C clears it and lowers IRQ8. */
uint8_t vrtc_read(struct vrtc *rtc, unsigned offset, uint64_t now_ns);
void vrtc_write(struct vrtc *rtc, unsigned offset, uint8_t value, uint64_t now_ns);

/* The VM clock at which the next event that raises IRQ8 is due (periodic,
 * update-ended or alarm, each when enabled), or UINT64_MAX when none can
 * come (IRQ8 already high, clock stopped, nothing enabled); a value at or
 * before now_ns is due at once. The answer changes with every port access
 * and advance: ask again after them. Flags of disabled interrupts are
 * brought up to date lazily on register access. */
uint64_t vrtc_next_event(const struct vrtc *rtc, uint64_t now_ns);
/* Applies every event up to now_ns and drives IRQ8. */
void vrtc_advance(struct vrtc *rtc, uint64_t now_ns);

/* Presets a RAM byte as a PC BIOS would (memory sizes at 0x15-0x18,
 * 0x30-0x31, 0x34-0x35, 0x5b-0x5d...). False, and nothing written, for
 * bytes the model owns: 0x00-0x0d, the century byte, or index >= 128. */
bool vrtc_cmos_set(struct vrtc *rtc, unsigned index, uint8_t value);

/* The Unix time the clock shows at now_ns (frozen value while SET is set),
 * for the VM (e.g. to report the guest's clock). */
int64_t vrtc_unix_time(struct vrtc *rtc, uint64_t now_ns);

/* Migration (vrtc_state.c; layout and checks in docs/device-state.md). */
#define VRTC_STATE_SIZE 164 /* cmos, index, nmi_disabled, time base, tick_done, irq_level */
/* The guest state (cmos, index, nmi_disabled, the time base fields,
 * tick_done, irq_level) as a blob of exactly VRTC_STATE_SIZE bytes; bytes
 * computed on read (the time registers while SET is clear) go as 0.
 * Returns the size, or 0 when 'size' is too small. Counters and wiring are
 * not included. */
size_t vrtc_save(const struct vrtc *rtc, uint8_t *buf, size_t size);
/* Checks every field as the chip's registers and clock would allow, and
 * only when all of it is acceptable replaces the guest state, keeping
 * wiring and counters. Returns 0, or -1 with the reason (naming the field)
 * in err and the RTC unchanged. On success IRQ8 is driven to irq_level;
 * the caller asks vrtc_next_event() again.
 * @pre the VM clock goes on from the source's. */
int vrtc_load(struct vrtc *rtc, const uint8_t *buf, size_t len, char *err, size_t errlen);

#endif
