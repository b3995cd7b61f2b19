/* ACPI fixed-hardware power management registers (ACPI 6.4, 4.8.4): the
 * PM1a event block (PM1_STS, PM1_EN), the PM1a control block (PM1_CNT) and
 * the power management timer, in one 12-byte I/O block:
 *
 *   +0  PM1_STS  16 bits, write 1 to clear      PM1a_EVT_BLK (PM1_EVT_LEN 4)
 *   +2  PM1_EN   16 bits
 *   +4  PM1_CNT  16 bits                        PM1a_CNT_BLK (PM1_CNT_LEN 2)
 *   +6  (nothing: reads all ones)
 *   +8  PM_TMR   32 bits, read-only             PM_TMR_BLK (PM_TMR_LEN 4)
 *
 * The VM maps ports 0x600-0x60b (docs/guest-platform.md) and passes
 * offsets from 0x600; the FADT names 0x600, 0x604 and 0x608.
 *
 * - The platform is always in ACPI mode (the FADT's SMI_CMD is 0): SCI_EN
 *   reads 1 and cannot be cleared.
 * - SCI (IRQ9, level, active high) is high while a status bit that has an
 *   enable is set together with it: TMR, GBL, PWRBTN, SLPBTN, RTC.
 * - The PM timer counts at 3.579545 MHz from the VM clock (count 0 at VM
 *   clock 0) and is 32 bits wide (TMR_VAL_EXT): TMR_STS is set whenever its
 *   bit 31 changes.
 * - A write with SLP_EN set asks for sleep state SLP_TYP: the model calls
 *   the sleep callback with SLP_TYP (the VM powers off on the S5 value its
 *   DSDT names) and does nothing else. SLP_EN and GBL_RLS read 0. No
 *   firmware owns the global lock, so GBL_STS is never set; GBL_EN is
 *   kept (ACPICA checks that it sticks).
 * - Widths: each byte of the block is addressed on its own, as a device
 *   decoding byte enables does; an access of 1, 2 or 4 bytes reads or writes
 *   the bytes it covers (a dword at +0 is PM1_STS | PM1_EN << 16; a byte
 *   write to +1 clears status bits 8-15 only). Accesses narrower than, or
 *   misaligned to, the register they touch are served and counted in
 *   odd_accesses; bytes +6, +7 and past +11 read 0xff and ignore writes,
 *   writes to the timer are ignored, other widths do nothing and read all
 *   ones: those count in bad_accesses.
 *
 * Guest state: sts, en, cnt, tmr_done, sci_level and the counters; 'sci',
 * 'sleep' and 'sleep_ctx' are wiring. */
#ifndef HV_VDEV_VACPI_PM_H
#define HV_VDEV_VACPI_PM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/vdev/irq.h"

#define VACPI_PM_EVT_OFFSET 0
#define VACPI_PM_CNT_OFFSET 4
#define VACPI_PM_TMR_OFFSET 8
#define VACPI_PM_SIZE 12
#define VACPI_PM_TIMER_HZ 3579545u

/* PM1_STS and PM1_EN bits (ACPI 6.4, 4.8.4.1.1 and 4.8.4.1.2). */
#define ACPI_PM1_TMR 0x0001
#define ACPI_PM1_BM 0x0010
#define ACPI_PM1_GBL 0x0020
#define ACPI_PM1_PWRBTN 0x0100
#define ACPI_PM1_SLPBTN 0x0200
#define ACPI_PM1_RTC 0x0400
#define ACPI_PM1_PCIEXP_WAKE 0x4000 /* in PM1_EN: PCIEXP_WAKE_DIS */
#define ACPI_PM1_WAK 0x8000

/* PM1_CNT bits (ACPI 6.4, 4.8.4.2.1). */
#define ACPI_PM1_CNT_SCI_EN 0x0001
#define ACPI_PM1_CNT_BM_RLD 0x0002
#define ACPI_PM1_CNT_GBL_RLS 0x0004
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK 0x1c00
#define ACPI_PM1_CNT_SLP_EN 0x2000

/* The guest asked for sleep state 'slp_typ' (0-7, the value of its DSDT's
 * \_Sx package) by writing SLP_EN. */
typedef void (*vacpi_pm_sleep_fn)(void *ctx, unsigned slp_typ);

struct vacpi_pm {
	uint16_t sts;           /* PM1_STS */
	uint16_t en;            /* PM1_EN */
	uint16_t cnt;           /* PM1_CNT as stored: BM_RLD and SLP_TYP */
	uint64_t tmr_done;      /* PM timer count up to which TMR_STS is applied */
	bool sci_level;         /* SCI as last driven */
	uint64_t sleep_requests;
	uint64_t odd_accesses;  /* served, but narrower or misaligned */
	uint64_t bad_accesses;  /* holes, timer writes, bad widths */
	struct irq_line sci;    /* wiring: IRQ9 */
	vacpi_pm_sleep_fn sleep;
	void *sleep_ctx;
};

/* Registers at reset (all status and enables clear, SCI low); the timer
 * keeps counting from the VM clock. 'sleep' may be NULL (requests are then
 * only counted). */
void vacpi_pm_init(struct vacpi_pm *pm, const struct irq_line *sci, vacpi_pm_sleep_fn sleep,
		   void *sleep_ctx, uint64_t now_ns);

/* width: 1, 2 or 4 bytes; offset from the block's base (0x600). */
uint32_t vacpi_pm_read(struct vacpi_pm *pm, unsigned offset, unsigned width, uint64_t now_ns);
void vacpi_pm_write(struct vacpi_pm *pm, unsigned offset, unsigned width, uint32_t value,
		    uint64_t now_ns);

/* The VM clock at which TMR_STS next needs setting while TMR_EN is set and
 * TMR_STS clear (bit 31 of the timer changes about every 600 s), else
 * UINT64_MAX. */
uint64_t vacpi_pm_next_event(const struct vacpi_pm *pm, uint64_t now_ns);
void vacpi_pm_advance(struct vacpi_pm *pm, uint64_t now_ns);

/* Sets fixed event status bits the platform owns: ACPI_PM1_PWRBTN (the
 * power button: Linux shuts down), ACPI_PM1_SLPBTN, ACPI_PM1_RTC,
 * ACPI_PM1_WAK. Other bits are ignored; returns false if any were given. */
bool vacpi_pm_raise(struct vacpi_pm *pm, uint16_t sts_bits, uint64_t now_ns);

/* The PM timer's count at now_ns. */
uint32_t vacpi_pm_timer(uint64_t now_ns);
/* True: the timer is 32 bits wide; the FADT sets TMR_VAL_EXT from this. */
bool vacpi_pm_timer_is_32bit(void);

/* Migration (vacpi_pm_state.c; layout and checks in docs/device-state.md). */
#define VACPI_PM_STATE_SIZE 15 /* sts, en, cnt, tmr_done, sci_level */
/* The guest state (sts, en, cnt, tmr_done, sci_level) as a blob of exactly
 * VACPI_PM_STATE_SIZE bytes. Returns the size, or 0 when 'size' is too
 * small. Counters and wiring are not included. */
size_t vacpi_pm_save(const struct vacpi_pm *pm, uint8_t *buf, size_t size);
/* Checks every field as the registers would allow, and only when all of
 * it is acceptable replaces the guest state, keeping wiring and counters.
 * Returns 0, or -1 with the reason (naming the field) in err and the block
 * unchanged. On success the SCI is driven to sci_level; the caller asks
 * vacpi_pm_next_event() again. @pre the VM clock goes on from the source's. */
int vacpi_pm_load(struct vacpi_pm *pm, const uint8_t *buf, size_t len, char *err,
		  size_t errlen);

#endif
