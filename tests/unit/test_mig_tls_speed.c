/* Host throughput of each suite through mig_tls_write/read over an in-memory pipe (one
 * thread encrypting and decrypting, so the figure is the cost of both ends together).
 * Printed, not asserted: this build is -O2 mbedTLS on the build machine, not hv.efi; the
 * bytes must still arrive exactly. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/unit/tls_harness.h"

#define BYTES (16u << 20)
#define CHUNK 16384

static struct tls_pair pair;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Client to server: write one record's worth, read what arrived, repeat. */
static double transfer(const uint8_t *src, uint8_t *dst)
{
	size_t sent = 0, got = 0;
	double t0 = now_s();

	while (got < BYTES) {
		if (sent < BYTES) {
			size_t n = BYTES - sent < CHUNK ? BYTES - sent : CHUNK;
			int w = mig_tls_write(pair.client.tls, src + sent, n);
			cr_assert_geq(w, 0, "%s", mig_tls_error(pair.client.tls));
			sent += (size_t)w;
		}
		int r = mig_tls_read(pair.server.tls, dst + got, BYTES - got);
		cr_assert_geq(r, 0, "%s", mig_tls_error(pair.server.tls));
		got += (size_t)r;
	}
	return now_s() - t0;
}

Test(mig_tls_speed, throughput_per_suite, .timeout = 120)
{
	uint8_t *src = malloc(BYTES), *dst = malloc(BYTES);
	const char *suite;

	tls_fill_random(src, BYTES, 11);
	for (size_t i = 0; (suite = mig_tls_suite_name(i)); i++) {
		tls_pair_init(&pair, TLS_FIFO_MAX, tls_key_a, tls_key_a);
		mig_tls_offer_only(pair.client.tls, suite);
		double t0 = now_s();
		cr_assert(tls_pair_handshake(&pair));
		double hs = now_s() - t0;
		memset(dst, 0, BYTES);
		double s = transfer(src, dst);
		cr_assert(memcmp(src, dst, BYTES) == 0);
		fprintf(stderr, "mig_tls: %s: handshake %.1f ms, %.0f MB/s (%u MiB)\n",
			mig_tls_channel(pair.client.tls), hs * 1e3, BYTES / s / 1e6, BYTES >> 20);
		tls_pair_free(&pair);
	}
	free(src);
	free(dst);
}
