/* A PCI function's 256-byte configuration space (type 0 header, PCI Local
 * Bus Specification 3.0, 6.1-6.2.5) with the rules guest writes follow:
 * per bit, writable (wmask), write-1-to-clear (w1c) or read-only. Device
 * models embed one, describe themselves with the calls below, and register
 * it with the bus (vpci.h). All of it is guest state.
 *
 * Defaults after vpci_config_init(): IDs, revision, class and header type
 * read-only; command: bus master, parity error response, SERR# enable and
 * interrupt disable writable (I/O and memory space enables become writable
 * with a BAR of that kind); status: the error bits (8, 11-15) write-1-to-
 * clear, the rest read-only; cache line size, latency timer and interrupt
 * line writable; no BARs, no expansion ROM, no capabilities (all read 0). */
#ifndef HV_VDEV_VPCI_CONFIG_H
#define HV_VDEV_VPCI_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define VPCI_CONFIG_SIZE 256
#define VPCI_BAR_COUNT 6

enum {
	PCI_VENDOR_ID = 0x00, PCI_DEVICE_ID = 0x02, PCI_COMMAND = 0x04, PCI_STATUS = 0x06,
	PCI_REVISION_ID = 0x08, PCI_CLASS_PROG = 0x09, PCI_CACHE_LINE_SIZE = 0x0c,
	PCI_LATENCY_TIMER = 0x0d, PCI_HEADER_TYPE = 0x0e, PCI_BIST = 0x0f, PCI_BAR0 = 0x10,
	PCI_SUBSYSTEM_VENDOR_ID = 0x2c, PCI_SUBSYSTEM_ID = 0x2e, PCI_ROM_ADDRESS = 0x30,
	PCI_CAPABILITY_LIST = 0x34, PCI_INTERRUPT_LINE = 0x3c, PCI_INTERRUPT_PIN = 0x3d,
};

#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_PARITY 0x0040
#define PCI_COMMAND_SERR 0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_INTERRUPT 0x0008
#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_STATUS_FAST_BACK 0x0080
#define PCI_STATUS_DEVSEL_MEDIUM 0x0200
#define PCI_STATUS_ERRORS 0xf900 /* parity, target/master aborts, SERR#, detected parity */
#define PCI_HEADER_MULTI_FUNCTION 0x80

enum vpci_bar_kind {
	VPCI_BAR_IO,          /* I/O space, 4-256 bytes */
	VPCI_BAR_MEM32,       /* 32-bit memory, 16 bytes - 2 GiB */
	VPCI_BAR_MEM64,       /* 64-bit memory: takes this BAR and the next */
};

struct vpci_config {
	uint8_t bytes[VPCI_CONFIG_SIZE]; /* the registers as the guest reads them */
	uint8_t wmask[VPCI_CONFIG_SIZE]; /* bits a guest write sets to the value written */
	uint8_t w1c[VPCI_CONFIG_SIZE];   /* bits a guest write of 1 clears */
	uint16_t cap_free;               /* where the next capability goes; 0: none yet */
};

/* class_code: base class << 16 | subclass << 8 | programming interface. */
void vpci_config_init(struct vpci_config *cfg, uint16_t vendor, uint16_t device,
		      uint32_t class_code, uint8_t revision, uint8_t header_type);
/* pin: 1-4 for INTA#-INTD# (read-only to the guest), 0 for none. */
void vpci_config_set_interrupt_pin(struct vpci_config *cfg, uint8_t pin);
/* Declares BAR 'index' (0-5; 0-4 for a 64-bit one) of 'size' bytes, a
 * power of two in the kind's range; prefetchable applies to memory BARs.
 * The guest sizes it the standard way: write all ones, read back
 * ~(size - 1) with the type bits. False, and nothing changed, when the
 * arguments are out of range or the BAR (or the next, for 64 bits) is
 * taken. */
bool vpci_config_set_bar(struct vpci_config *cfg, unsigned index, enum vpci_bar_kind kind,
			 uint64_t size, bool prefetchable);
/* The address BAR 'index' holds (the type bits masked off; both halves of a
 * 64-bit BAR), and whether the command register enables its decoding.
 * Returns false for an undeclared BAR (or the upper half of a 64-bit one). */
bool vpci_config_bar(const struct vpci_config *cfg, unsigned index, uint64_t *address,
		     bool *enabled);

/* Appends a capability to the list (PCI 3.0, 6.7): a byte 'id', the next
 * pointer, then 'body_len' bytes of 'body', all read-only to the guest.
 * The first goes at 0x40 (the end of the type 0 header), each next one at
 * the dword after the previous one's end; the list stays in the order of
 * the calls, and the status register's capabilities-list bit is set.
 * Returns the capability's offset, or 0 with nothing changed when it does
 * not fit below 256 (or id is 0). */
#define VPCI_CAP_FIRST 0x40
#define PCI_CAP_ID_VENDOR 0x09
unsigned vpci_config_add_capability(struct vpci_config *cfg, uint8_t id, const void *body,
				    unsigned body_len);

/* Guest accesses, width 1, 2 or 4, little-endian.
 * @pre offset + width <= VPCI_CONFIG_SIZE */
uint32_t vpci_config_read(const struct vpci_config *cfg, unsigned offset, unsigned width);
void vpci_config_write(struct vpci_config *cfg, unsigned offset, unsigned width, uint32_t value);

/* Model-side helpers that ignore the masks. */
void vpci_config_set16(struct vpci_config *cfg, unsigned offset, uint16_t value);
void vpci_config_set_wmask16(struct vpci_config *cfg, unsigned offset, uint16_t mask);

#endif
