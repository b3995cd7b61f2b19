/* A TLS 1.2 channel over a non-blocking byte pipe, for migration connections: both ends
 * prove they hold the same pre-shared key, every session gets fresh keys from an ephemeral
 * (EC)DH exchange, and every record is AEAD-protected, so altered, replayed, reordered or
 * foreign records (TLS record sequence numbers are part of the nonce/AAD) fail the
 * receiver instead of reaching it. mbedTLS 2.28 underneath (migrate/tls/mbedtls_config.h).
 *
 * Nothing here blocks: every call does what the pipe allows and says how far it got; the
 * caller polls again later. One struct mig_tls per connection; not thread-safe (neither
 * is the hypervisor). */
#ifndef MIGRATE_MIG_TLS_H
#define MIGRATE_MIG_TLS_H

#include <stddef.h>
#include <stdint.h>

enum mig_tls_role { MIG_TLS_CLIENT, MIG_TLS_SERVER };

/* Byte pipe under TLS: send returns bytes taken (0: would block, <0: broken);
 * recv returns bytes given (0: nothing yet, <0: closed/broken). */
typedef int (*mig_tls_send_fn)(void *ctx, const uint8_t *buf, size_t len);
typedef int (*mig_tls_recv_fn)(void *ctx, uint8_t *buf, size_t len);

struct mig_tls;

/* Key lengths accepted: at least 128 bits, since an active attacker who sees one handshake
 * can test key guesses offline. */
#define MIG_TLS_PSK_MIN 16
#define MIG_TLS_PSK_MAX 64

/* Seeds the DRBG from the hardware entropy source; -1 with a reason if there is none
 * (then TLS must not run). Idempotent: once it succeeded it returns 0 at once; after a
 * failure it tries again. */
int mig_tls_global_init(char *err, size_t errlen);

/* A channel that has not started its handshake. Calls mig_tls_global_init itself. The
 * key and identity are copied. NULL with a reason in err on bad arguments (key length
 * outside MIG_TLS_PSK_MIN..MAX, empty identity), no entropy, or no memory. */
struct mig_tls *mig_tls_new(enum mig_tls_role role, const uint8_t *psk, size_t psk_len,
			    const char *identity, mig_tls_send_fn send, mig_tls_recv_fn recv,
			    void *ctx, char *err, size_t errlen);

/* Advances the handshake as far as the pipe allows: 1 done, 0 in progress, -1 failed
 * (mig_tls_error says why; a key mismatch shows on both ends). */
int mig_tls_handshake(struct mig_tls *t);

/* Encrypts and sends up to one record (16 KiB) of buf: bytes taken, 0 would block, -1
 * failed. Bytes are only counted as taken once their record is wholly in the pipe.
 * @pre After a 0, the next call passes the same bytes again (at least as many); a call
 * with other bytes fails rather than send something else than the caller believes. */
int mig_tls_write(struct mig_tls *t, const uint8_t *buf, size_t len);

/* Receives and decrypts: bytes, 0 nothing yet, -1 failed or closed. A record that fails
 * authentication (altered, replayed, from another session) fails the channel; nothing of
 * it is delivered. */
int mig_tls_read(struct mig_tls *t, uint8_t *buf, size_t len);

/* Decrypted bytes buffered inside (a record partly read). */
size_t mig_tls_pending(const struct mig_tls *t);

/* After the handshake: "tls1.2 <suite>", e.g.
 * "tls1.2 TLS-ECDHE-PSK-WITH-CHACHA20-POLY1305-SHA256"; "" before. */
const char *mig_tls_channel(const struct mig_tls *t);

/* Why the channel failed, readable; "" while it has not. */
const char *mig_tls_error(const struct mig_tls *t);

/* Frees the channel and wipes its keys; NULL is a no-op. Sends nothing (no close_notify):
 * the migration stream marks its own end. */
void mig_tls_free(struct mig_tls *t);

/* The compiled-in suites, most preferred first: the name of the i-th, NULL past the end. */
const char *mig_tls_suite_name(size_t i);

/* Offers (client) or accepts (server) only the named suite, one of mig_tls_suite_name();
 * for tests and benchmarks. Before the first mig_tls_handshake; 0, or -1 for a name not
 * compiled in or a handshake already started. */
int mig_tls_offer_only(struct mig_tls *t, const char *suite);

#endif
