/* An interrupt message as local APICs receive it from the system bus: what
 * an IOAPIC redirection entry (82093AA 3.2.4) describes, and what an MSI
 * will describe later. The sender builds one; the VM hands it to every
 * local APIC for which vlapic_is_target() holds. */
#ifndef HV_VDEV_APIC_MSG_H
#define HV_VDEV_APIC_MSG_H

#include <stdbool.h>
#include <stdint.h>

/* Delivery modes: bits 10:8 of a redirection entry, an LVT entry and the
 * ICR (SDM vol. 3A 10.5.1, 10.6.1). 3 is reserved everywhere; 6 (start-up)
 * only exists in the ICR. */
enum apic_delivery {
	APIC_DM_FIXED = 0,
	APIC_DM_LOWEST = 1,
	APIC_DM_SMI = 2,
	APIC_DM_NMI = 4,
	APIC_DM_INIT = 5,
	APIC_DM_STARTUP = 6,
	APIC_DM_EXTINT = 7,
};

/* The ICR's destination shorthand (bits 19:18). */
enum apic_shorthand { APIC_SH_NONE = 0, APIC_SH_SELF = 1, APIC_SH_ALL = 2, APIC_SH_OTHERS = 3 };

#define APIC_DEST_BROADCAST 0xffu /* physical or logical: every local APIC */

struct apic_msg {
	uint8_t vector;
	uint8_t dest;      /* an APIC ID (physical) or a logical destination set */
	bool dest_logical; /* destination mode: 0 physical, 1 logical */
	uint8_t delivery;  /* enum apic_delivery */
	/* Level-triggered (fixed and lowest-priority only): the receiver sets
	 * the vector's TMR bit and broadcasts an EOI for it. */
	bool level;
};

#endif
