/* Two mig_tls ends over in-memory byte FIFOs of small capacity, so every path that would
 * block does; the FIFOs are linear buffers the tests can read and tamper with. */
#ifndef TESTS_UNIT_TLS_HARNESS_H
#define TESTS_UNIT_TLS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migrate/mig_tls.h"

#define TLS_FIFO_MAX (64 * 1024)

struct fifo {
	uint8_t buf[TLS_FIFO_MAX];
	size_t cap; /* what send accepts at most, <= TLS_FIFO_MAX */
	size_t len;
	bool closed; /* the reader sees the end once len is 0 */
};

struct tls_end {
	struct fifo *tx, *rx;
	struct mig_tls *tls;
	int hs; /* last mig_tls_handshake result */
};

struct tls_pair {
	struct fifo c2s, s2c;
	struct tls_end client, server;
};

extern const uint8_t tls_key_a[32], tls_key_b[32];

/* The FIFO pipe functions; ctx is the struct tls_end. */
int tls_fifo_send(void *ctx, const uint8_t *buf, size_t len);
int tls_fifo_recv(void *ctx, uint8_t *buf, size_t len);

/* Creates both ends (identity "hv-test") with FIFOs of capacity cap. */
void tls_pair_init(struct tls_pair *p, size_t cap, const uint8_t *client_key,
		   const uint8_t *server_key);
/* Steps both handshakes until each has finished or failed; true when both succeeded. */
bool tls_pair_handshake(struct tls_pair *p);
void tls_pair_free(struct tls_pair *p);

/* Sends a[0..len) from the client and b[0..len) from the server at the same time, in
 * chunks of random size (some past one record) with random read sizes, and asserts both
 * arrive byte-exact. */
void tls_pair_exchange(struct tls_pair *p, const uint8_t *a, const uint8_t *b, size_t len,
		       unsigned seed);

/* Writes len bytes from one end until all are taken (the FIFO must be able to hold
 * them), without reading on the other. */
void tls_write_all(struct tls_end *e, const uint8_t *buf, size_t len);

/* Reads from e until want bytes came, it fails (returns the bytes so far), or nothing
 * moves anymore. */
size_t tls_read_some(struct tls_end *e, uint8_t *buf, size_t want, int *last);

void tls_fill_random(uint8_t *buf, size_t len, unsigned seed);

#endif
