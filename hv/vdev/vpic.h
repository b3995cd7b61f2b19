/* The PC's pair of Intel 8259A interrupt controllers and the PIIX/ICH
 * edge/level control registers (ELCR).
 *
 * Wiring as on a PC/AT: the master at ports 0x20/0x21 drives the CPU's INTR
 * (the local APIC's LINT0 in ExtINT mode); the slave at 0xa0/0xa1 drives
 * master input 2 (its INT output is master IR2's line). ISA IRQ n is master
 * input n for n < 8 and slave input n - 8 otherwise. The ELCR at
 * 0x4d0/0x4d1 selects edge (0) or level (1) per IRQ; IRQ0, 1, 2, 8 and 13 are
 * hard-wired to edge. As on PIIX/ICH, ICW1's LTIM bit is ignored: the ELCR
 * alone selects the trigger mode.
 *
 * The INTR output: the VM may poll vpic_output() or pass an irq_line to
 * vpic_init(), which is then set to the new level each time the output
 * changes (also from within vpic_acknowledge(), where INTR may drop and rise
 * again as on the chip).
 *
 * Guest state: every field of struct vpic_chip, and pic->intr (the INTR
 * level last reported, derived from the chips). Wiring: pic->intr_line.
 * Statistics: spurious, bad_io, bad_values. */
#ifndef HV_VDEV_VPIC_H
#define HV_VDEV_VPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/vdev/irq.h"

#define VPIC_MASTER_PORT 0x20 /* command (even) and data (odd) port */
#define VPIC_SLAVE_PORT 0xa0
#define VPIC_ELCR_PORT 0x4d0  /* ELCR1 (IRQ0-7); 0x4d1: ELCR2 (IRQ8-15) */
#define VPIC_IRQS 16

struct vpic_chip {
	uint8_t irr, isr, imr;
	uint8_t line;        /* input levels as last set (edge detection) */
	uint8_t elcr;        /* 1 = level-triggered input */
	uint8_t vector_base; /* ICW2 bits 7-3 */
	uint8_t icw1, icw3, icw4; /* as written (icw3 of the slave: its ID) */
	uint8_t init_step;   /* ICW expected next at the odd port (2, 3, 4), 0: none */
	uint8_t lowest;      /* the input of lowest priority (rotation) */
	bool read_isr;       /* OCW3: the even port reads ISR, not IRR */
	bool poll;           /* OCW3: the next read is a poll */
	bool special_mask;   /* OCW3: special mask mode */
	bool rotate_on_aeoi; /* OCW2: rotate in automatic EOI mode */
};

struct vpic {
	struct vpic_chip chip[2]; /* master, slave */
	bool intr;                /* INTR level last reported */
	uint64_t spurious;        /* acknowledges answered with an IR7 vector */
	uint64_t bad_io;          /* ports not decoded, odd access sizes, IRQ numbers */
	uint64_t bad_values;      /* reserved bits set, 8080 mode, no slave answering */
	struct irq_line intr_line;
};

/* Puts both chips in the state a PC BIOS leaves them in: initialised in
 * cascade, 8086 mode, vectors 0x08 (master) and 0x70 (slave), all inputs
 * masked, all edge-triggered, no request. intr may be NULL (the VM polls
 * vpic_output). */
void vpic_init(struct vpic *pic, const struct irq_line *intr);

/* A guest port access of size 1, 2 or 4 bytes: split into byte accesses at
 * port, port + 1, ... as the ISA bus does. Bytes at ports the PIC does not
 * decode read as 0xff and are counted; other sizes read as all ones. */
uint32_t vpic_read(struct vpic *pic, uint16_t port, unsigned size);
void vpic_write(struct vpic *pic, uint16_t port, unsigned size, uint32_t value);

/* The level of ISA IRQ line irq (0-15), called on every change (calling
 * it again with the same level is harmless). An edge-triggered input
 * latches a request on a rising edge, kept until acknowledged (so a device
 * may pulse its line with irq_pulse); a level-triggered input requests
 * while its line is high. IRQ2 does not exist on the bus (the slave drives
 * master input 2): it is counted and ignored, as are numbers past 15. */
void vpic_set_irq(struct vpic *pic, unsigned irq, bool level);

/* The INTR line to the CPU: an unmasked request that the in-service
 * levels do not hold back is pending on the master. */
bool vpic_output(const struct vpic *pic);
/* The slave's INT output, which is master input 2's line. */
bool vpic_slave_output(const struct vpic *pic);

/* The interrupt acknowledge cycle: returns the vector the PIC pair puts
 * on the bus and updates IRR/ISR (automatic EOI included). With no request
 * left (it went away or was masked since INTR was seen), the answer is the
 * spurious vector of IR7 with no ISR bit set; if the request was the
 * slave's and it has none, the slave's IR7 vector (the master still marks
 * IR2 in service, as on the chip). */
uint8_t vpic_acknowledge(struct vpic *pic);

/* Migration (vpic_state.c; layout and checks in docs/device-state.md). */
#define VPIC_STATE_SIZE 31 /* 15 bytes per chip (master, slave), then intr */
/* The guest state (both chips and intr) as a blob of exactly
 * VPIC_STATE_SIZE bytes. Returns the size, or 0 when 'size' is too small.
 * Counters and wiring are not included. */
size_t vpic_save(const struct vpic *pic, uint8_t *buf, size_t size);
/* Checks every field as the chips' own registers would allow, and only
 * when all of it is acceptable replaces the guest state, keeping wiring
 * and counters. Returns 0, or -1 with the reason (naming the field) in err
 * and the pair unchanged. On success the INTR line is driven to the loaded
 * level. Devices feeding its inputs re-drive their lines when they load:
 * load them first and the PIC (and IOAPIC) after, so those levels land on
 * state this load replaces and the move itself raises no request. */
int vpic_load(struct vpic *pic, const uint8_t *buf, size_t len, char *err, size_t errlen);

#endif
