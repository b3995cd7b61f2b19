/* Records changed in flight, for every compiled suite: a flipped bit, a replayed record
 * and a record spliced in from another session with the same key each fail the receiver
 * (bad MAC: TLS authenticates every record under its session's keys and the implicit
 * sequence number) and deliver nothing of the bad record; the sender hears of it. */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/unit/tls_harness.h"

#define BAD_MAC "TLS read failed: bad record MAC (record altered, replayed or from another session)"
#define HEADER 5 /* type, version, length */

static struct tls_pair pair, other;

static void open_pair(struct tls_pair *p, size_t suite)
{
	tls_pair_init(p, 4000, tls_key_a, tls_key_a);
	cr_assert_eq(mig_tls_offer_only(p->client.tls, mig_tls_suite_name(suite)), 0);
	cr_assert(tls_pair_handshake(p));
	cr_assert_eq(p->c2s.len + p->s2c.len, 0, "the handshake left nothing in flight");
}

/* Sends msg as one record from the client and returns its length on the wire. */
static size_t send_record(struct tls_pair *p, const char *msg)
{
	size_t before = p->c2s.len;

	tls_write_all(&p->client, (const uint8_t *)msg, strlen(msg));
	cr_assert_eq(p->c2s.buf[before], 23, "an application-data record");
	return p->c2s.len - before;
}

static void expect(struct tls_end *e, const char *msg)
{
	char got[64] = "";
	int last;

	cr_assert_eq(tls_read_some(e, (uint8_t *)got, strlen(msg), &last), strlen(msg),
		     "%s", mig_tls_error(e->tls));
	cr_assert_str_eq(got, msg);
}

/* The server must fail on the next record without delivering any of it, and the client
 * must learn why from the alert. */
static void expect_rejected(struct tls_pair *p)
{
	uint8_t got[64];
	int last;

	memset(got, 0, sizeof(got));
	cr_assert_eq(tls_read_some(&p->server, got, sizeof(got), &last), 0);
	cr_assert_eq(last, -1);
	cr_assert_str_eq(mig_tls_error(p->server.tls), BAD_MAC);
	for (size_t i = 0; i < sizeof(got); i++)
		cr_assert_eq(got[i], 0, "nothing delivered");
	cr_assert_eq(tls_read_some(&p->client, got, 1, &last), 0);
	cr_assert_eq(last, -1);
	cr_assert_str_eq(mig_tls_error(p->client.tls),
			 "TLS read failed: peer sent fatal alert bad_record_mac (20)");
}

Test(mig_tls_tamper, flipped_bit_fails_the_receiver)
{
	for (size_t s = 0; mig_tls_suite_name(s); s++) {
		/* First ciphertext byte, a middle one, the tag's last byte. */
		for (int where = 0; where < 3; where++) {
			open_pair(&pair, s);
			send_record(&pair, "warm-up");
			expect(&pair.server, "warm-up");
			size_t len = send_record(&pair, "guest memory page");
			size_t at = where == 0 ? HEADER : where == 1 ? len / 2 : len - 1;
			pair.c2s.buf[at] ^= 0x10;
			expect_rejected(&pair);
			tls_pair_free(&pair);
		}
	}
}

Test(mig_tls_tamper, replayed_record_is_rejected)
{
	uint8_t first[256];

	for (size_t s = 0; mig_tls_suite_name(s); s++) {
		/* Replayed right after itself. */
		open_pair(&pair, s);
		size_t len = send_record(&pair, "page 1");
		memcpy(first, pair.c2s.buf, len);
		expect(&pair.server, "page 1");
		memcpy(pair.c2s.buf, first, len);
		pair.c2s.len = len;
		send_record(&pair, "page 2");
		expect_rejected(&pair);
		tls_pair_free(&pair);

		/* Replayed later, after a genuine record. */
		open_pair(&pair, s);
		len = send_record(&pair, "page 1");
		memcpy(first, pair.c2s.buf, len);
		expect(&pair.server, "page 1");
		send_record(&pair, "page 2");
		memcpy(pair.c2s.buf + pair.c2s.len, first, len);
		pair.c2s.len += len;
		expect(&pair.server, "page 2");
		expect_rejected(&pair);
		tls_pair_free(&pair);
	}
}

/* Same key, same position in the stream, same length: only the session differs. */
Test(mig_tls_tamper, record_from_another_session_is_rejected)
{
	for (size_t s = 0; mig_tls_suite_name(s); s++) {
		open_pair(&pair, s);
		open_pair(&other, s);
		size_t len = send_record(&other, "page from session 2");
		cr_assert_eq(send_record(&pair, "page from session 1"), len);
		memcpy(pair.c2s.buf, other.c2s.buf, len);
		expect_rejected(&pair);
		expect(&other.server, "page from session 2");
		tls_pair_free(&pair);
		tls_pair_free(&other);
	}
}

Test(mig_tls_tamper, record_overhead)
{
	/* ChaCha20-Poly1305: header and 16-byte tag; AES-GCM also an 8-byte explicit nonce. */
	size_t want[] = { HEADER + 5 + 16, HEADER + 5 + 8 + 16 };

	for (size_t s = 0; mig_tls_suite_name(s); s++) {
		open_pair(&pair, s);
		cr_assert_eq(send_record(&pair, "12345"), want[s], "%s", mig_tls_suite_name(s));
		tls_pair_free(&pair);
	}
}
