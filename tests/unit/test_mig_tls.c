/* The migration channel's TLS (migrate/mig_tls.c) between a client and a server over
 * small in-memory FIFOs: handshake and channel, data both ways byte-exact through every
 * would-block path, key or identity mismatch on both ends. Errors of use and entropy are
 * test_mig_tls_errors.c, tampering test_mig_tls_tamper.c, throughput test_mig_tls_speed.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/tls_harness.h"

static struct tls_pair pair;

#define CHACHA "TLS-ECDHE-PSK-WITH-CHACHA20-POLY1305-SHA256"
#define AESGCM "TLS-DHE-PSK-WITH-AES-128-GCM-SHA256"

Test(mig_tls, suites_in_preference_order)
{
	cr_assert_str_eq(mig_tls_suite_name(0), CHACHA);
	cr_assert_str_eq(mig_tls_suite_name(1), AESGCM);
	cr_assert_null(mig_tls_suite_name(2));
}

Test(mig_tls, handshake_agrees_on_chacha)
{
	tls_pair_init(&pair, 1000, tls_key_a, tls_key_a);
	cr_assert_str_eq(mig_tls_channel(pair.client.tls), "");
	cr_assert(tls_pair_handshake(&pair), "client: %s / server: %s",
		  mig_tls_error(pair.client.tls), mig_tls_error(pair.server.tls));
	cr_assert_str_eq(mig_tls_channel(pair.client.tls), "tls1.2 " CHACHA);
	cr_assert_str_eq(mig_tls_channel(pair.server.tls), "tls1.2 " CHACHA);
	cr_assert_str_eq(mig_tls_error(pair.client.tls), "");
	cr_assert_eq(mig_tls_handshake(pair.client.tls), 1, "done stays done");
	tls_pair_free(&pair);
}

Test(mig_tls, one_mib_each_way_through_a_small_pipe)
{
	size_t len = 1 << 20;
	uint8_t *a = malloc(len), *b = malloc(len);

	tls_fill_random(a, len, 1);
	tls_fill_random(b, len, 2);
	tls_pair_init(&pair, 1500, tls_key_a, tls_key_a);
	cr_assert(tls_pair_handshake(&pair));
	tls_pair_exchange(&pair, a, b, len, 3);
	tls_pair_free(&pair);
	free(a);
	free(b);
}

Test(mig_tls, each_suite_roundtrips)
{
	size_t len = 200000;
	uint8_t *a = malloc(len), *b = malloc(len);
	const char *suite;

	tls_fill_random(a, len, 4);
	tls_fill_random(b, len, 5);
	for (size_t i = 0; (suite = mig_tls_suite_name(i)); i++) {
		char want[96];
		tls_pair_init(&pair, 700, tls_key_a, tls_key_a);
		cr_assert_eq(mig_tls_offer_only(pair.client.tls, suite), 0);
		cr_assert_eq(mig_tls_offer_only(pair.server.tls, suite), 0);
		cr_assert(tls_pair_handshake(&pair), "%s: %s", suite,
			  mig_tls_error(pair.client.tls));
		snprintf(want, sizeof(want), "tls1.2 %s", suite);
		cr_assert_str_eq(mig_tls_channel(pair.client.tls), want);
		cr_assert_str_eq(mig_tls_channel(pair.server.tls), want);
		tls_pair_exchange(&pair, a, b, len, 6 + (unsigned)i);
		tls_pair_free(&pair);
	}
	free(a);
	free(b);
}

Test(mig_tls, no_suite_in_common_fails_both)
{
	tls_pair_init(&pair, 4000, tls_key_a, tls_key_a);
	mig_tls_offer_only(pair.client.tls, CHACHA);
	mig_tls_offer_only(pair.server.tls, AESGCM);
	cr_assert_not(tls_pair_handshake(&pair));
	cr_assert_str_eq(mig_tls_error(pair.server.tls),
			 "TLS handshake failed: no cipher suite in common");
	cr_assert_str_eq(mig_tls_error(pair.client.tls),
			 "TLS handshake failed: peer sent fatal alert handshake_failure (40)");
	tls_pair_free(&pair);
}

Test(mig_tls, wrong_key_fails_both_ends)
{
	tls_pair_init(&pair, 1000, tls_key_a, tls_key_b);
	cr_assert_not(tls_pair_handshake(&pair));
	cr_assert_eq(pair.client.hs, -1);
	cr_assert_eq(pair.server.hs, -1);
	cr_assert_str_eq(mig_tls_error(pair.server.tls),
			 "TLS handshake failed: bad record MAC: a different key or a replay");
	cr_assert_str_eq(mig_tls_error(pair.client.tls),
			 "TLS handshake failed: peer sent fatal alert bad_record_mac (20): "
			 "a different key or a replay");
	cr_assert_str_eq(mig_tls_channel(pair.client.tls), "");
	uint8_t byte = 0;
	cr_assert_eq(mig_tls_write(pair.client.tls, &byte, 1), -1);
	cr_assert_eq(mig_tls_read(pair.server.tls, &byte, 1), -1);
	tls_pair_free(&pair);
}

Test(mig_tls, other_identity_is_refused)
{
	char err[160];

	tls_pair_init(&pair, 4000, tls_key_a, tls_key_a);
	mig_tls_free(pair.client.tls);
	pair.client.tls = mig_tls_new(MIG_TLS_CLIENT, tls_key_a, 32, "someone-else", tls_fifo_send,
				      tls_fifo_recv, &pair.client, err, sizeof(err));
	cr_assert_not_null(pair.client.tls, "%s", err);
	cr_assert_not(tls_pair_handshake(&pair));
	cr_assert_str_eq(mig_tls_error(pair.server.tls),
			 "TLS handshake failed: peer's key identity is not ours");
	cr_assert_str_eq(mig_tls_error(pair.client.tls),
			 "TLS handshake failed: peer sent fatal alert unknown_psk_identity (115)");
	tls_pair_free(&pair);
}
