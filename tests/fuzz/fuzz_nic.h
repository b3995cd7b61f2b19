/* Between the parts of fuzz_nic_rx: the input reader, the network layer's
 * side (the client lending receive buffers), and the simulated devices
 * (fuzz_nic_e1000.c, fuzz_nic_vnet.c). */
#ifndef TESTS_FUZZ_FUZZ_NIC_H
#define TESTS_FUZZ_FUZZ_NIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/net/nic.h"

/* The fuzz input, read front to back; zeros once it is used up. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t in_u8(struct fuzz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

/* Little-endian; one read per statement, so the byte order does not rest
 * on the unspecified order of a call's operands. */
static inline uint16_t in_u16(struct fuzz_in *in)
{
	uint16_t lo = in_u8(in);

	return (uint16_t)(lo | in_u8(in) << 8);
}

static inline uint32_t in_u32(struct fuzz_in *in)
{
	uint32_t lo = in_u16(in);

	return lo | (uint32_t)in_u16(in) << 16;
}

/* The client: receive buffers lent to the driver are heap blocks of
 * exactly NIC_RX_BUF_SIZE bytes, freed when they come back. */
extern const struct nic_client fuzz_client;
/* The lent buffer holding [addr, addr + len), or NULL: what a descriptor
 * the driver gave the device may point at. */
uint8_t *fuzz_client_lent(uint64_t addr, uint64_t len);
size_t fuzz_client_lent_count(void);
/* Whether [addr, addr + len) lies in a frame the harness sent. */
bool fuzz_client_sent(uint64_t addr, uint64_t len);
/* Set: rx_buf_alloc fails (the network layer is out of buffers). */
extern bool fuzz_client_starved;

/* A device under a driver: built from the input, then driven by it. */
struct nic_model {
	/* Builds the device and probes the driver; NULL if it refused. */
	struct nic *(*probe)(struct fuzz_in *in);
	/* The device completes receive buffers: a well-behaved device takes
	 * them in order and reports lengths, status and IDs the input picks. */
	void (*rx)(struct fuzz_in *in);
	/* The device finishes transmissions. */
	void (*tx)(struct fuzz_in *in);
	/* The device writes what it may write (descriptor status, used ring)
	 * with no regard for the protocol. */
	void (*hostile)(struct fuzz_in *in);
	/* The driver's rings still obey the rules (after a poll). */
	void (*check)(void);
	void (*release)(void);
};

extern const struct nic_model fuzz_e1000_model, fuzz_e1000e_model, fuzz_vnet_model;

/* Bytes a device writes into a receive buffer (a frame's worth). */
void fuzz_fill_frame(uint8_t *buf, size_t len, uint8_t seed);

#endif
