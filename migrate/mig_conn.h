/* One migration connection over lwIP's raw TCP API: whole records out
 * (copied into lwIP as its send buffer allows), whole records in (bytes
 * gathered until a record is complete and its CRCs check). Both ends of a
 * migration use it; everything is polled from the main loop. */
#ifndef MIGRATE_MIG_CONN_H
#define MIGRATE_MIG_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migrate/rx_window.h"
#include "migrate/stream.h"

struct tcp_pcb;

struct mig_conn {
	struct tcp_pcb *pcb;
	bool connected;
	bool failed;             /* reset, closed by the peer, or a local error */
	bool peer_closed;        /* FIN with ciphertext still unread: TLS reads it first */
	char error[96];
	uint32_t peer;           /* host order */
	/* out: one staged record (or header) being pushed into lwIP */
	uint8_t *out;
	size_t out_len, out_pos;
	uint64_t bytes_out;      /* pushed into lwIP */
	uint64_t bytes_acked;
	/* in */
	uint8_t *in;
	size_t in_len, in_cap;
	size_t in_drop;          /* the record handed out last, dropped next time */
	bool ack_due;            /* consumed input not yet acknowledged */
	uint64_t bytes_in;       /* from the wire (ciphertext under TLS) */
	/* TLS (mig_channel.c): records go through it; NULL is plaintext. */
	struct mig_tls *tls;
	bool tls_up;             /* handshake done */
	struct rx_window raw;    /* received ciphertext, until TLS reads it */
	uint8_t first[8];        /* the peer's first bytes, to name a plaintext peer */
	size_t first_len;
};

#define MIG_CONN_OUT_CAP (MIG_RECORD_HDR_LEN + MIG_MAX_BODY)
/* A record being handed out plus a full TCP window behind it. */
#define MIG_CONN_IN_CAP (2 * MIG_CONN_OUT_CAP)

/* Buffers; false when memory is short. */
bool mig_conn_init(struct mig_conn *c, size_t in_cap);
/* Starts connecting to dst:port (host order). */
bool mig_conn_connect(struct mig_conn *c, uint32_t dst, uint16_t port);
/* Takes over an accepted pcb. */
void mig_conn_attach(struct mig_conn *c, struct tcp_pcb *pcb);
/* Puts TLS (mig_tls.h) between the records and the wire, with this role
 * and key; the handshake runs from mig_conn_flush. -1 with the reason. */
int mig_conn_secure(struct mig_conn *c, int role, const uint8_t *psk, size_t psk_len,
		    const char *identity, char *err, size_t errlen);
/* Detaches from lwIP (abort when 'abort', else a graceful close) and frees. */
void mig_conn_close(struct mig_conn *c, bool abort);

/* The staging buffer for the next record body (MIG_MAX_BODY bytes). */
static inline uint8_t *mig_conn_body(struct mig_conn *c)
{
	return c->out + MIG_RECORD_HDR_LEN;
}
/* Stages a record whose body is already in mig_conn_body() (or raw bytes
 * when type == 0: len bytes at mig_conn_body(), no record header).
 * @pre mig_conn_idle(c) */
void mig_conn_stage(struct mig_conn *c, uint32_t type, uint32_t len);
/* Stages a record with a body from elsewhere. @pre mig_conn_idle(c) */
void mig_conn_stage_copy(struct mig_conn *c, uint32_t type, const void *body, uint32_t len);
/* Pushes staged bytes into lwIP; true when nothing is left staged. */
bool mig_conn_flush(struct mig_conn *c);
static inline bool mig_conn_idle(const struct mig_conn *c)
{
	return c->out_pos == c->out_len;
}
/* Bytes pushed but not yet acknowledged by the peer. */
static inline uint64_t mig_conn_unacked(const struct mig_conn *c)
{
	return c->bytes_out - c->bytes_acked;
}

/* The next complete record: 1 (valid until the next call), 0 when none yet,
 * -1 on a malformed one (reason in err). */
int mig_conn_next_record(struct mig_conn *c, struct mig_record *r, char *err, size_t errlen);
/* Raw bytes at the start of the input (the stream header): true once 'len'
 * bytes are there; they are consumed. */
bool mig_conn_take(struct mig_conn *c, void *out, size_t len);

#endif
