/* A byte queue for output that a slow device drains: the console's bytes
 * wait here until the UART takes them. Writers choose how full they let
 * the queue get ('limit'), so bulk output can be cut off early while more
 * important output still finds room. A write goes in whole or not at all,
 * so a line is never cut; what does not fit is counted, not waited for.
 * Pure, so it builds for the host. */
#ifndef HV_LIB_TX_RING_H
#define HV_LIB_TX_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tx_ring {
	char *buf;
	size_t size;
	uint64_t head;          /* bytes ever queued; buf[head % size] is next free */
	uint64_t tail;          /* bytes ever taken out */
	uint64_t dropped_bytes; /* refused by tx_ring_put_within */
	uint64_t dropped_writes;
};

/* @pre size > 0 and buf holds size bytes */
void tx_ring_init(struct tx_ring *r, char *buf, size_t size);

size_t tx_ring_used(const struct tx_ring *r);
size_t tx_ring_room(const struct tx_ring *r);

/* The queued size of s when every '\n' goes out as "\r\n" (a terminal's
 * line end). */
size_t tx_ring_crlf_size(const char *s, size_t n);

/* Whether n more bytes keep the queue at or below 'limit' bytes (clamped
 * to the ring's size). */
bool tx_ring_fits_within(const struct tx_ring *r, size_t n, size_t limit);

/* Queues s with '\n' as "\r\n" if all of it fits within 'limit'; otherwise
 * queues nothing, counts the write as dropped and returns false. */
bool tx_ring_put_within(struct tx_ring *r, const char *s, size_t n, size_t limit);

/* The oldest queued bytes that lie contiguous in the buffer: returns how
 * many (0 when empty) and points *out at them. */
size_t tx_ring_peek(const struct tx_ring *r, const char **out);

/* @pre n <= tx_ring_used(r) */
void tx_ring_consume(struct tx_ring *r, size_t n);

#endif
