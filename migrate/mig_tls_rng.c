/* The DRBG behind every TLS key: a CTR_DRBG (AES-256) keyed from mbedTLS's entropy pool,
 * which conditions the port's strong source (RDSEED/RDRAND in hv.efi) and its timing
 * jitter through SHA-256. Without a strong source nothing is seeded and TLS is refused:
 * jitter alone is not trusted with keys. */
#include "migrate/mig_tls.h"

#include <stdbool.h>

#include "hv/lib/format.h"
#include "mbedtls/entropy.h"
#include "migrate/mig_tls_internal.h"
#include "migrate/mig_tls_port.h"

static mbedtls_entropy_context pool;
static mbedtls_ctr_drbg_context drbg;
static bool seeded;

/* Domain separation only: the secrecy comes from the entropy. */
static const unsigned char personalisation[] = "hv migration tls drbg";

mbedtls_ctr_drbg_context *mig_tls_drbg(void)
{
	return seeded ? &drbg : NULL;
}

static int seed(const char *source, char *err, size_t errlen)
{
	mbedtls_entropy_init(&pool);
	mbedtls_ctr_drbg_init(&drbg);
	/* Threshold: a full SHA-256 block from the strong source before the pool yields. */
	int ret = mbedtls_entropy_add_source(&pool, mig_tls_port_entropy_strong, NULL,
					     MBEDTLS_ENTROPY_BLOCK_SIZE,
					     MBEDTLS_ENTROPY_SOURCE_STRONG);
	if (!ret)
		ret = mbedtls_entropy_add_source(&pool, mig_tls_port_entropy_weak, NULL, 0,
						 MBEDTLS_ENTROPY_SOURCE_WEAK);
	if (!ret)
		ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &pool, personalisation,
					    sizeof(personalisation) - 1);
	if (ret) {
		char why[96];
		mig_tls_describe(ret, false, 0, why, sizeof(why));
		fmt_snprintf(err, errlen, "hardware entropy source (%s) failed: %s: TLS refused",
			     source, why);
		mbedtls_ctr_drbg_free(&drbg);
		mbedtls_entropy_free(&pool);
		return -1;
	}
	/* Prediction resistance stays off: the DRBG reseeds from the pool every 10000
	 * requests (mbedTLS's default), and a handshake makes only a few; records need no
	 * randomness (their nonces are sequence numbers). */
	seeded = true;
	return 0;
}

int mig_tls_global_init(char *err, size_t errlen)
{
	if (seeded)
		return 0;
	const char *source = mig_tls_port_entropy_source();
	if (!source) {
		fmt_snprintf(err, errlen,
			     "no hardware entropy source (RDRAND/RDSEED): TLS refused");
		return -1;
	}
	return seed(source, err, errlen);
}
