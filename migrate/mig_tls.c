/* The migration channel's TLS (mig_tls.h) over mbedTLS: configuration, the non-blocking
 * pipe glue, and the contract of write/read on top of mbedTLS's retry rules. */
#include "migrate/mig_tls.h"

#include <stdbool.h>

#include "hv/lib/crc32c.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "mbedtls/dhm.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/ssl.h"
#include "migrate/mig_tls_internal.h"
#include "migrate/mig_tls_port.h"

#define IDENTITY_MAX 128

/* The preference order of migrate/tls/mbedtls_config.h, the one place it is written. */
static const int suites[] = { MBEDTLS_SSL_CIPHERSUITES, 0 };
#define SUITE_COUNT (sizeof(suites) / sizeof(suites[0]) - 1)

/* X25519 only: constant-time by construction, and both ends are ours. */
static const mbedtls_ecp_group_id curves[] = { MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_NONE };

/* For DHE-PSK: RFC 7919's ffdhe2048 (a safe prime; no trapdoor choice by the server). */
static const unsigned char ffdhe2048_p[] = MBEDTLS_DHM_RFC7919_FFDHE2048_P_BIN;
static const unsigned char ffdhe2048_g[] = MBEDTLS_DHM_RFC7919_FFDHE2048_G_BIN;

enum tls_state { TLS_HANDSHAKE, TLS_OPEN, TLS_FAILED };

struct mig_tls {
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mig_tls_send_fn send;
	mig_tls_recv_fn recv;
	void *ctx;
	enum tls_state state;
	bool started;      /* the handshake sent or read something */
	bool pipe_closed;  /* recv reported the end */
	bool pipe_broken;  /* send reported failure */
	int only_suite[2]; /* mig_tls_offer_only's list */
	/* A record built from the caller's bytes that the pipe has not wholly taken yet. */
	size_t blocked_len;
	uint32_t blocked_crc;
	char channel[80];
	char error[160];
};

static int pipe_send(void *p, const unsigned char *buf, size_t len)
{
	struct mig_tls *t = p;
	int n = t->send(t->ctx, buf, len);

	if (n > 0 && (size_t)n <= len)
		return n;
	if (n == 0)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	t->pipe_broken = true;
	return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int pipe_recv(void *p, unsigned char *buf, size_t len)
{
	struct mig_tls *t = p;
	int n = t->recv(t->ctx, buf, len);

	if (n > 0 && (size_t)n <= len)
		return n;
	if (n == 0)
		return MBEDTLS_ERR_SSL_WANT_READ;
	t->pipe_closed = true;
	return MBEDTLS_ERR_NET_CONN_RESET;
}

/* Records why, once (the first reason is the cause; later calls only see its effects). */
static int fail(struct mig_tls *t, const char *what, int ret)
{
	if (t->state == TLS_FAILED)
		return -1;
	bool in_handshake = t->state == TLS_HANDSHAKE;
	char why[128];
	if (t->pipe_closed)
		fmt_snprintf(why, sizeof(why), "connection closed by the peer");
	else if (t->pipe_broken)
		fmt_snprintf(why, sizeof(why), "connection broken while sending");
	else
		mig_tls_describe(ret, in_handshake, t->ssl.in_msg ? t->ssl.in_msg[1] : 0, why,
				 sizeof(why));
	fmt_snprintf(t->error, sizeof(t->error), "TLS %s failed: %s", what, why);
	t->state = TLS_FAILED;
	t->blocked_len = 0;
	return -1;
}

static bool would_block(int ret)
{
	return ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE;
}

static int configure(struct mig_tls *t, enum mig_tls_role role, const uint8_t *psk,
		     size_t psk_len, const char *identity)
{
	mbedtls_ssl_config *c = &t->conf;
	int end = role == MIG_TLS_SERVER ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT;
	int ret = mbedtls_ssl_config_defaults(c, end, MBEDTLS_SSL_TRANSPORT_STREAM,
					      MBEDTLS_SSL_PRESET_DEFAULT);

	if (ret)
		return ret;
	mbedtls_ssl_conf_rng(c, mbedtls_ctr_drbg_random, mig_tls_drbg());
	mbedtls_ssl_conf_min_version(c, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(c, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(c, suites);
	mbedtls_ssl_conf_curves(c, curves);
	if (role == MIG_TLS_SERVER)
		ret = mbedtls_ssl_conf_dh_param_bin(c, ffdhe2048_p, sizeof(ffdhe2048_p),
						    ffdhe2048_g, sizeof(ffdhe2048_g));
	else
		mbedtls_ssl_conf_dhm_min_bitlen(c, 8 * sizeof(ffdhe2048_p));
	if (ret)
		return ret;
	/* Both ends hold the key: the client offers it under this identity, the server
	 * accepts only this identity and this key. */
	return mbedtls_ssl_conf_psk(c, psk, psk_len, (const unsigned char *)identity,
				    strlen(identity));
}

static bool check_args(const uint8_t *psk, size_t psk_len, const char *identity,
		       mig_tls_send_fn send, mig_tls_recv_fn recv, char *err, size_t errlen)
{
	if (!psk || psk_len < MIG_TLS_PSK_MIN || psk_len > MIG_TLS_PSK_MAX) {
		fmt_snprintf(err, errlen, "TLS key must be %d to %d bytes, not %zu",
			     MIG_TLS_PSK_MIN, MIG_TLS_PSK_MAX, psk ? psk_len : 0);
		return false;
	}
	if (!identity || !identity[0] || strnlen(identity, IDENTITY_MAX + 1) > IDENTITY_MAX) {
		fmt_snprintf(err, errlen, "TLS key identity must be 1 to %d characters",
			     IDENTITY_MAX);
		return false;
	}
	if (!send || !recv) {
		fmt_snprintf(err, errlen, "TLS channel needs a send and a receive function");
		return false;
	}
	return true;
}

struct mig_tls *mig_tls_new(enum mig_tls_role role, const uint8_t *psk, size_t psk_len,
			    const char *identity, mig_tls_send_fn send, mig_tls_recv_fn recv,
			    void *ctx, char *err, size_t errlen)
{
	if (!check_args(psk, psk_len, identity, send, recv, err, errlen) ||
	    mig_tls_global_init(err, errlen) < 0)
		return NULL;
	struct mig_tls *t = mig_tls_port_calloc(1, sizeof(*t));
	if (!t) {
		fmt_snprintf(err, errlen, "TLS channel: out of memory");
		return NULL;
	}
	mbedtls_ssl_init(&t->ssl);
	mbedtls_ssl_config_init(&t->conf);
	t->send = send;
	t->recv = recv;
	t->ctx = ctx;
	int ret = configure(t, role, psk, psk_len, identity);
	if (!ret)
		ret = mbedtls_ssl_setup(&t->ssl, &t->conf);
	if (ret) {
		char why[128];
		mig_tls_describe(ret, false, 0, why, sizeof(why));
		fmt_snprintf(err, errlen, "TLS setup failed: %s", why);
		mig_tls_free(t);
		return NULL;
	}
	mbedtls_ssl_set_bio(&t->ssl, t, pipe_send, pipe_recv, NULL);
	return t;
}

int mig_tls_handshake(struct mig_tls *t)
{
	if (t->state != TLS_HANDSHAKE)
		return t->state == TLS_OPEN ? 1 : -1;
	t->started = true;
	int ret = mbedtls_ssl_handshake(&t->ssl);
	if (would_block(ret))
		return 0;
	if (ret)
		return fail(t, "handshake", ret);
	fmt_snprintf(t->channel, sizeof(t->channel), "tls1.2 %s",
		     mbedtls_ssl_get_ciphersuite(&t->ssl));
	t->state = TLS_OPEN;
	return 1;
}

static bool usable(struct mig_tls *t, const char *what)
{
	if (t->state == TLS_OPEN)
		return true;
	if (t->state == TLS_HANDSHAKE)
		fmt_snprintf(t->error, sizeof(t->error), "TLS %s before the handshake completed",
			     what);
	t->state = TLS_FAILED;
	return false;
}

/* mbedTLS builds a record from the caller's bytes, then pushes it into the pipe; when the
 * pipe fills midway it keeps the rest and expects the same call again, answering it by
 * flushing, without looking at the bytes. Those bytes are reported taken only when the
 * record is out, and a retry must bring the same bytes (checked by CRC) so that what is
 * on the wire is what the caller thinks it sent. */
int mig_tls_write(struct mig_tls *t, const uint8_t *buf, size_t len)
{
	if (!usable(t, "write"))
		return -1;
	if (!len)
		return 0;
	size_t chunk;
	if (t->blocked_len) {
		chunk = t->blocked_len;
		if (len < chunk || crc32c(0, buf, chunk) != t->blocked_crc) {
			fmt_snprintf(t->error, sizeof(t->error),
				     "TLS write retried with other bytes than the blocked record");
			t->state = TLS_FAILED;
			return -1;
		}
	} else {
		int max = mbedtls_ssl_get_max_out_record_payload(&t->ssl);
		if (max <= 0)
			return fail(t, "write", max);
		chunk = len < (size_t)max ? len : (size_t)max;
	}
	int ret = mbedtls_ssl_write(&t->ssl, buf, chunk);
	if (ret > 0) {
		t->blocked_len = 0;
		return ret;
	}
	if (!would_block(ret))
		return fail(t, "write", ret);
	if (!t->blocked_len && t->ssl.out_left) {
		t->blocked_len = chunk;
		t->blocked_crc = crc32c(0, buf, chunk);
	}
	return 0;
}

int mig_tls_read(struct mig_tls *t, uint8_t *buf, size_t len)
{
	if (!usable(t, "read"))
		return -1;
	if (!len)
		return 0;
	int ret = mbedtls_ssl_read(&t->ssl, buf, len);
	if (ret > 0)
		return ret;
	if (would_block(ret))
		return 0;
	/* 0 is the pipe's end without close_notify; the pipe glue never reports it so. */
	return fail(t, "read", ret ? ret : MBEDTLS_ERR_SSL_CONN_EOF);
}

size_t mig_tls_pending(const struct mig_tls *t)
{
	return t->state == TLS_OPEN ? mbedtls_ssl_get_bytes_avail(&t->ssl) : 0;
}

const char *mig_tls_channel(const struct mig_tls *t)
{
	return t->channel;
}

const char *mig_tls_error(const struct mig_tls *t)
{
	return t->error;
}

void mig_tls_free(struct mig_tls *t)
{
	if (!t)
		return;
	/* Both wipe their secrets (keys, PSK copy, transcript) before freeing. */
	mbedtls_ssl_free(&t->ssl);
	mbedtls_ssl_config_free(&t->conf);
	mbedtls_platform_zeroize(t, sizeof(*t));
	mig_tls_port_free(t);
}

const char *mig_tls_suite_name(size_t i)
{
	return i < SUITE_COUNT ? mbedtls_ssl_get_ciphersuite_name(suites[i]) : NULL;
}

int mig_tls_offer_only(struct mig_tls *t, const char *suite)
{
	int id = mbedtls_ssl_get_ciphersuite_id(suite);

	if (t->started || t->state != TLS_HANDSHAKE || !id)
		return -1;
	for (size_t i = 0; i < SUITE_COUNT; i++) {
		if (suites[i] == id) {
			t->only_suite[0] = id;
			t->only_suite[1] = 0;
			mbedtls_ssl_conf_ciphersuites(&t->conf, t->only_suite);
			return 0;
		}
	}
	return -1;
}
