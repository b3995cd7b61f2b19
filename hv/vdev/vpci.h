/* PCI configuration mechanism #1 (PCI Local Bus Specification 3.0,
 * 3.2.2.3.2) in front of bus 0: CONFIG_ADDRESS at port 0xcf8, CONFIG_DATA at
 * 0xcfc-0xcff, and the functions device models register.
 *
 * - CONFIG_ADDRESS: bit 31 enable, 23:16 bus, 15:11 device, 10:8 function,
 *   7:2 register; bits 30:24 and 1:0 read 0. Only a dword access at 0xcf8
 *   reaches it; byte and word accesses to 0xcf8-0xcfb "are executed as
 *   normal I/O transactions", so vpci_io_*() decline them and the VM routes
 *   them on (0xcf9 is the reset control register).
 * - CONFIG_DATA: byte, word and dword accesses; the register offset is
 *   CONFIG_ADDRESS[7:2] plus the port's low two bits. An access that runs
 *   past 0xcff is not decoded (read all ones, write ignored, counted).
 * - With the enable bit clear, on a bus other than 0, or for a function
 *   nobody registered, reads return all ones and writes are dropped, as a
 *   master abort does.
 * - Device 0 function 0 is the host bridge: an Intel 82441FX PMC (440FX,
 *   8086:1237 rev 02, class 060000, header type 0, no BARs). Linux drives it
 *   with no special code beyond a harmless quirk (the one QEMU's default PC
 *   presents for decades), and, unlike Q35's MCH, it implies no PCIe ECAM
 *   window or IGD. Command reads 0006h (memory and bus master always on;
 *   parity and SERR# enables writable), status 0280h (fast back-to-back,
 *   medium DEVSEL; error bits write-1-to-clear).
 * - Multi-function devices: a model registering functions other than 0
 *   sets PCI_HEADER_MULTI_FUNCTION in its function 0's header type, or
 *   guests will not look past function 0.
 *
 * Guest state: 'address' and 'host_bridge'. The registrations (pointers to
 * the models' vpci_config, their hooks and contexts) are wiring; each
 * model's vpci_config is that model's guest state. */
#ifndef HV_VDEV_VPCI_H
#define HV_VDEV_VPCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/vdev/vpci_config.h"

#define VPCI_PORT_BASE 0xcf8
#define VPCI_PORT_COUNT 8
#define VPCI_MAX_FUNCTIONS 16
#define VPCI_ADDRESS_ENABLE 0x80000000u
#define VPCI_HOST_BRIDGE_VENDOR 0x8086
#define VPCI_HOST_BRIDGE_DEVICE 0x1237

/* A registered function's optional hooks. */
struct vpci_function_ops {
	/* Answers a guest read of [offset, offset + width) itself, for
	 * registers computed on read; false: the stored bytes are returned. */
	bool (*read)(void *ctx, const struct vpci_config *cfg, unsigned offset, unsigned width,
		     uint32_t *value);
	/* Called after a guest write went into cfg (masks applied), with the
	 * bytes' value before it: a BAR moved, decoding switched, and so on. */
	void (*written)(void *ctx, struct vpci_config *cfg, unsigned offset, unsigned width,
			uint32_t old);
};

struct vpci_function {
	uint8_t devfn;                       /* device << 3 | function */
	struct vpci_config *cfg;
	const struct vpci_function_ops *ops; /* may be NULL */
	void *ctx;
};

struct vpci {
	uint32_t address;                    /* CONFIG_ADDRESS */
	struct vpci_config host_bridge;      /* 00:00.0 */
	struct vpci_function functions[VPCI_MAX_FUNCTIONS];
	unsigned function_count;
	uint64_t bad_accesses;               /* past 0xcff, offsets past 7, widths not 1/2/4 */
};

/* Bus 0 with the host bridge alone; CONFIG_ADDRESS 0. */
void vpci_init(struct vpci *pci);

/* Puts 'cfg' at 00:device.function. False when device > 31, function > 7,
 * the slot is taken (00:00.0 is the host bridge's) or the table is full.
 * @pre cfg (and ctx) outlive the registration */
bool vpci_register(struct vpci *pci, unsigned device, unsigned function,
		   struct vpci_config *cfg, const struct vpci_function_ops *ops, void *ctx);

/* Port access; offset 0-7 from 0xcf8, width 1, 2 or 4. False when the
 * access is not the bridge's to decode (non-dword accesses to 0xcf8-0xcfb,
 * offsets past 7): the VM then treats the port as it would without the
 * bridge. True otherwise, with *value set for reads. */
bool vpci_io_read(struct vpci *pci, unsigned offset, unsigned width, uint32_t *value);
bool vpci_io_write(struct vpci *pci, unsigned offset, unsigned width, uint32_t value);

/* PCI Express enhanced configuration access (ECAM), bus 0: 'offset' into
 * the window (bus << 20 | device << 15 | function << 12 | register),
 * naturally aligned accesses of width 1, 2 or 4. Absent functions and
 * other buses read all ones; writes to them are dropped. */
#define VPCI_ECAM_BUS_SIZE (1u << 20)
uint32_t vpci_ecam_read(struct vpci *pci, uint64_t offset, unsigned width);
void vpci_ecam_write(struct vpci *pci, uint64_t offset, unsigned width, uint32_t value);

/* The configuration space at 00:device.function, or NULL. */
struct vpci_config *vpci_function_config(struct vpci *pci, unsigned device, unsigned function);

/* Migration (vpci_state.c; layout and checks in docs/device-state.md).
 * The blob is CONFIG_ADDRESS, a count, then per registered function its
 * devfn and its 256 configuration bytes: 5 + 257 * count bytes. */
#define VPCI_STATE_MAX_SIZE (5 + VPCI_MAX_FUNCTIONS * 257) /* 4117 */
/* The size vpci_save() needs for this bus: 5 + 257 per registered function. */
size_t vpci_state_size(const struct vpci *pci);
/* The guest state (address, and each registered function's configuration
 * bytes, in registration order) as a blob of vpci_state_size() bytes.
 * Returns the size, or 0 when 'size' is too small. Write masks, hooks and
 * counters are not included. */
size_t vpci_save(const struct vpci *pci, uint8_t *buf, size_t size);
/* Checks the blob against this bus: the same set of functions registered
 * (in any order), CONFIG_ADDRESS's reserved bits clear, and every incoming
 * byte equal to the function's current byte except where its write mask
 * allows a guest write, or where a write-1-to-clear bit that is set now
 * reads 0. Only when all of it is acceptable replaces the address and the
 * bytes. Returns 0, or -1 with the reason (naming the function and byte)
 * in err and nothing changed.
 * @pre every function the source had is registered, freshly initialised
 * (its read-only bits are then the device type's).
 * The functions' 'written' hooks are not called: a model that derives
 * anything from its configuration (a BAR's mapping, decoding enables) is
 * told by the caller after the load. No interrupt line is involved. */
int vpci_load(struct vpci *pci, const uint8_t *buf, size_t len, char *err, size_t errlen);

#endif
