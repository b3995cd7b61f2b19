/* The migration channel's TLS (migrate/mig_tls.c): what it refuses and how it says so:
 * bad arguments, no or failing entropy, use before the handshake, a write retried with
 * other bytes, the pipe closing; and partly read records staying pending. */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/unit/mig_tls_port_host.h"
#include "tests/unit/tls_harness.h"

static struct tls_pair pair;

/* Never called: the arguments are refused first. */
static int no_send(void *ctx, const uint8_t *buf, size_t len)
{
	(void)ctx, (void)buf, (void)len;
	return -1;
}

static int no_recv(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx, (void)buf, (void)len;
	return -1;
}

static struct mig_tls *try_new(const uint8_t *key, size_t len, const char *id, char *err)
{
	return mig_tls_new(MIG_TLS_CLIENT, key, len, id, no_send, no_recv, NULL, err, 160);
}

Test(mig_tls, bad_arguments)
{
	char err[160];

	cr_assert_null(try_new(tls_key_a, 15, "id", err));
	cr_assert_str_eq(err, "TLS key must be 16 to 64 bytes, not 15");
	cr_assert_null(try_new(tls_key_a, 65, "id", err));
	cr_assert_str_eq(err, "TLS key must be 16 to 64 bytes, not 65");
	cr_assert_null(try_new(NULL, 32, "id", err));
	cr_assert_str_eq(err, "TLS key must be 16 to 64 bytes, not 0");
	cr_assert_null(try_new(tls_key_a, 32, "", err));
	cr_assert_str_eq(err, "TLS key identity must be 1 to 128 characters");
	cr_assert_null(mig_tls_new(MIG_TLS_SERVER, tls_key_a, 32, "id", NULL, no_recv, NULL, err,
				   sizeof(err)));
	cr_assert_str_eq(err, "TLS channel needs a send and a receive function");
	mig_tls_free(NULL);
}

Test(mig_tls, no_hardware_entropy_refuses_tls)
{
	char err[160];

	mig_tls_host_no_entropy = true;
	cr_assert_eq(mig_tls_global_init(err, sizeof(err)), -1);
	cr_assert_str_eq(err, "no hardware entropy source (RDRAND/RDSEED): TLS refused");
	strcpy(err, "");
	cr_assert_null(try_new(tls_key_a, 32, "id", err));
	cr_assert_str_eq(err, "no hardware entropy source (RDRAND/RDSEED): TLS refused");
}

Test(mig_tls, failing_entropy_refuses_tls_until_it_recovers)
{
	char err[160];

	mig_tls_host_entropy_fails = true;
	cr_assert_eq(mig_tls_global_init(err, sizeof(err)), -1);
	cr_assert_str_eq(err, "hardware entropy source (test-seed) failed: CTR_DRBG - The "
			      "entropy source failed (-0x0034): TLS refused");
	mig_tls_host_entropy_fails = false;
	cr_assert_eq(mig_tls_global_init(err, sizeof(err)), 0);
	cr_assert_eq(mig_tls_global_init(err, sizeof(err)), 0, "idempotent");
}

Test(mig_tls, use_before_the_handshake_fails)
{
	uint8_t byte = 7;

	tls_pair_init(&pair, 4000, tls_key_a, tls_key_a);
	cr_assert_eq(mig_tls_write(pair.client.tls, &byte, 1), -1);
	cr_assert_str_eq(mig_tls_error(pair.client.tls),
			 "TLS write before the handshake completed");
	cr_assert_eq(mig_tls_handshake(pair.client.tls), -1, "the channel stays failed");
	cr_assert_eq(mig_tls_read(pair.server.tls, &byte, 1), -1);
	cr_assert_str_eq(mig_tls_error(pair.server.tls), "TLS read before the handshake completed");
	tls_pair_free(&pair);
}

Test(mig_tls, offer_only_takes_compiled_suites_before_the_handshake)
{
	tls_pair_init(&pair, 4000, tls_key_a, tls_key_a);
	cr_assert_eq(mig_tls_offer_only(pair.client.tls, "TLS-PSK-WITH-AES-128-GCM-SHA256"), -1);
	cr_assert_eq(mig_tls_offer_only(pair.client.tls, "nonsense"), -1);
	cr_assert_eq(mig_tls_handshake(pair.client.tls), 0);
	cr_assert_eq(mig_tls_offer_only(pair.client.tls, mig_tls_suite_name(0)), -1);
	tls_pair_free(&pair);
}

/* A 16 KiB record into a 1000-byte pipe: the write blocks with the record partly out; the
 * retry must carry the same bytes. */
Test(mig_tls, blocked_write_must_be_retried_with_the_same_bytes)
{
	static uint8_t data[20000], other[20000];

	tls_fill_random(data, sizeof(data), 9);
	memcpy(other, data, sizeof(other));
	other[100] ^= 1;
	tls_pair_init(&pair, 1000, tls_key_a, tls_key_a);
	cr_assert(tls_pair_handshake(&pair));
	cr_assert_eq(mig_tls_write(pair.client.tls, data, sizeof(data)), 0);
	cr_assert_eq(pair.c2s.len, 1000, "the pipe took what it could");
	cr_assert_eq(mig_tls_write(pair.client.tls, data, 16383), -1, "fewer bytes");
	cr_assert_str_eq(mig_tls_error(pair.client.tls),
			 "TLS write retried with other bytes than the blocked record");
	tls_pair_free(&pair);

	tls_pair_init(&pair, 1000, tls_key_a, tls_key_a);
	cr_assert(tls_pair_handshake(&pair));
	cr_assert_eq(mig_tls_write(pair.client.tls, data, sizeof(data)), 0);
	cr_assert_eq(mig_tls_write(pair.client.tls, other, sizeof(other)), -1, "other bytes");
	cr_assert_str_eq(mig_tls_error(pair.client.tls),
			 "TLS write retried with other bytes than the blocked record");
	tls_pair_free(&pair);
}

Test(mig_tls, blocked_write_completes_on_retry_and_partial_reads_stay_pending)
{
	static uint8_t data[20000], got[20000];
	size_t sent = 0, have = 0;
	int n, last;

	tls_fill_random(data, sizeof(data), 10);
	tls_pair_init(&pair, 1000, tls_key_a, tls_key_a);
	cr_assert(tls_pair_handshake(&pair));
	/* Reading nothing of a record drains the pipe without delivering bytes. */
	while ((n = mig_tls_write(pair.client.tls, data, sizeof(data))) == 0)
		cr_assert_eq(tls_read_some(&pair.server, got, 1, &last), 0);
	cr_assert_eq(n, 16384, "one full record");
	sent += (size_t)n;
	have = tls_read_some(&pair.server, got, 100, &last);
	cr_assert_eq(have, 100);
	cr_assert_eq(mig_tls_pending(pair.server.tls), 16384 - 100);
	while (sent < sizeof(data)) {
		n = mig_tls_write(pair.client.tls, data + sent, sizeof(data) - sent);
		cr_assert_geq(n, 0);
		sent += (size_t)n;
		have += tls_read_some(&pair.server, got + have, sizeof(got) - have, &last);
	}
	have += tls_read_some(&pair.server, got + have, sizeof(got) - have, &last);
	cr_assert_eq(have, sizeof(data));
	cr_assert(memcmp(got, data, sizeof(data)) == 0);
	cr_assert_eq(mig_tls_pending(pair.server.tls), 0);
	tls_pair_free(&pair);
}

Test(mig_tls, pipe_closing_fails_reader_and_writer)
{
	uint8_t byte = 1;

	tls_pair_init(&pair, 4000, tls_key_a, tls_key_a);
	cr_assert(tls_pair_handshake(&pair));
	pair.s2c.closed = true;
	cr_assert_eq(mig_tls_read(pair.client.tls, &byte, 1), -1);
	cr_assert_str_eq(mig_tls_error(pair.client.tls),
			 "TLS read failed: connection closed by the peer");
	cr_assert_eq(mig_tls_write(pair.server.tls, &byte, 1), -1);
	cr_assert_str_eq(mig_tls_error(pair.server.tls),
			 "TLS write failed: connection broken while sending");
	tls_pair_free(&pair);
}
