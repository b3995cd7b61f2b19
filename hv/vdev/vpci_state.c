/* The PCI configuration mechanism's state blob (docs/device-state.md):
 * CONFIG_ADDRESS and the configuration bytes of every registered function.
 * The write masks and write-1-to-clear masks are the device types'
 * constants, not state: the destination's own registrations supply them,
 * and incoming bytes may differ from the destination's current ones only
 * where a guest write could have changed them. */
#include "hv/vdev/vpci.h"

#include "hv/lib/string.h"
#include "hv/vdev/vdev_state.h"

#define HEADER_BYTES 5 /* address, count */
#define ENTRY_BYTES (1 + VPCI_CONFIG_SIZE)
#define ADDRESS_WRITABLE 0x80fffffcu

_Static_assert(VPCI_STATE_MAX_SIZE == HEADER_BYTES + VPCI_MAX_FUNCTIONS * ENTRY_BYTES,
	       "layout in docs/device-state.md");

size_t vpci_state_size(const struct vpci *pci)
{
	return HEADER_BYTES + (size_t)pci->function_count * ENTRY_BYTES;
}

size_t vpci_save(const struct vpci *pci, uint8_t *buf, size_t size)
{
	size_t n = vpci_state_size(pci);

	if (size < n)
		return 0;
	struct wire_cursor w = wire_writer(buf, n);
	wput32(&w, pci->address);
	wput8(&w, (uint8_t)pci->function_count);
	for (unsigned i = 0; i < pci->function_count; i++) {
		wput8(&w, pci->functions[i].devfn);
		for (unsigned at = 0; at < VPCI_CONFIG_SIZE; at++)
			wput8(&w, pci->functions[i].cfg->bytes[at]);
	}
	return n;
}

static const struct vpci_function *registered(const struct vpci *pci, unsigned devfn)
{
	for (unsigned i = 0; i < pci->function_count; i++)
		if (pci->functions[i].devfn == devfn)
			return &pci->functions[i];
	return NULL;
}

/* A guest write changes writable bits, and clears write-1-to-clear bits
 * that are set; every other bit is the device type's and must match. */
static void check_bytes(struct vdev_state_reader *r, const struct vpci_function *f,
			const uint8_t *in)
{
	const struct vpci_config *cfg = f->cfg;

	for (unsigned at = 0; at < VPCI_CONFIG_SIZE && !r->failed; at++) {
		uint8_t clearable = cfg->w1c[at] & cfg->bytes[at];
		uint8_t bad = (uint8_t)((in[at] ^ cfg->bytes[at]) & ~cfg->wmask[at] & ~clearable);
		vdev_state_check(r, !bad,
				 "function 00:%02x.%u config[0x%02x] 0x%02x: read-only bits 0x%02x "
				 "differ from 0x%02x",
				 f->devfn >> 3, f->devfn & 7u, at, in[at], bad, cfg->bytes[at]);
	}
}

/* Every entry names a function registered here, once each; the count then
 * says the sets are equal. */
static void check_functions(struct vdev_state_reader *r, const struct vpci *pci,
			    const uint8_t *entries, unsigned count)
{
	uint32_t seen[256 / 32] = { 0 };

	for (unsigned i = 0; i < count && !r->failed; i++) {
		const uint8_t *e = entries + (size_t)i * ENTRY_BYTES;
		unsigned devfn = e[0];
		const struct vpci_function *f = registered(pci, devfn);
		vdev_state_check(r, f != NULL, "function 00:%02x.%u is not registered here",
				 devfn >> 3, devfn & 7u);
		vdev_state_check(r, !(seen[devfn / 32] & (1u << (devfn % 32))),
				 "function 00:%02x.%u appears twice", devfn >> 3, devfn & 7u);
		seen[devfn / 32] |= 1u << (devfn % 32);
		if (f)
			check_bytes(r, f, e + 1);
	}
}

int vpci_load(struct vpci *pci, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct vdev_state_reader r;

	vdev_state_begin(&r, "vpci", buf, len, len, err, errlen); /* the size is variable */
	if (len < HEADER_BYTES || len > VPCI_STATE_MAX_SIZE ||
	    (len - HEADER_BYTES) % ENTRY_BYTES) {
		vdev_state_fail(&r, "state is %zu bytes: not 5 + 257 per function, at most %u", len,
				(unsigned)VPCI_STATE_MAX_SIZE);
		return -1;
	}
	uint32_t address = wget32(&r.c);
	unsigned count = wget8(&r.c);
	vdev_state_check(&r, count == (len - HEADER_BYTES) / ENTRY_BYTES,
			 "count %u but %zu entries follow", count,
			 (len - HEADER_BYTES) / ENTRY_BYTES);
	vdev_state_check(&r, !(address & ~ADDRESS_WRITABLE),
			 "address 0x%08x: bits 30-24 and 1-0 read 0", address);
	vdev_state_check(&r, count == pci->function_count, "%u functions, %u registered here",
			 count, pci->function_count);
	if (!r.failed)
		check_functions(&r, pci, buf + HEADER_BYTES, count);
	if (r.failed)
		return -1;
	pci->address = address;
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *e = buf + HEADER_BYTES + (size_t)i * ENTRY_BYTES;
		const struct vpci_function *f = registered(pci, e[0]);
		memcpy(f->cfg->bytes, e + 1, VPCI_CONFIG_SIZE);
	}
	return 0;
}
