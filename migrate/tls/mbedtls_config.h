/* mbedTLS 2.28 configuration for the migration channel (migrate/mig_tls.c), used by
 * hv.efi and the host unit tests alike (-DMBEDTLS_CONFIG_FILE). Everything not named here is
 * off: TLS 1.2 only, PSK key exchanges with ephemeral (EC)DH, AEAD ciphers, no X.509, no
 * sockets, files, clock, printf or threads. The platform hooks (memory, snprintf, entropy)
 * are migrate/mig_tls_port.h, implemented by migrate/mig_tls_port.c in hv.efi and by
 * tests/unit/mig_tls_port_host.c for the tests. */
#ifndef MIG_TLS_MBEDTLS_CONFIG_H
#define MIG_TLS_MBEDTLS_CONFIG_H

/* System: x86-64 assembly in bignum (general-purpose registers only, so it builds with
 * -mgeneral-regs-only). 128-by-64-bit division would call libgcc's __udivti3, which
 * hv.efi does not link. */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_NO_UDBL_DIVISION
#define MBEDTLS_DEPRECATED_REMOVED

/* Platform: our allocator and formatter; no libc functions are assumed beyond the string
 * routines hv/lib/string.c provides. */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#define MBEDTLS_PLATFORM_CALLOC_MACRO mig_tls_port_calloc
#define MBEDTLS_PLATFORM_FREE_MACRO mig_tls_port_free
#define MBEDTLS_PLATFORM_SNPRINTF_MACRO fmt_snprintf
#include "migrate/mig_tls_port.h"

/* Randomness: no OS entropy; mig_tls.c adds the port's sources (RDSEED/RDRAND and TSC
 * jitter in hv.efi) to the entropy pool, conditioned with SHA-256 (no SHA-512 here), and
 * keys a CTR_DRBG (AES-256) from it. */
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_ENTROPY_FORCE_SHA256
#define MBEDTLS_ENTROPY_MAX_SOURCES 2
#define MBEDTLS_CTR_DRBG_C

/* Primitives. AES and GCM are table-driven software (no AES-NI: hv.efi has no SSE);
 * ChaCha20-Poly1305 is plain integer code and the faster of the two there. */
#define MBEDTLS_AES_C
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0 /* only helps Weierstrass curves; saves RAM */
#define MBEDTLS_DHM_C

/* TLS 1.2, both ends. PSK with an ephemeral exchange, so recorded traffic stays secret
 * if the key leaks later. 2.28 has ECDHE-PSK only with ChaCha20-Poly1305 (RFC 7905); its
 * AES-GCM ECDHE-PSK suite (RFC 8442) does not exist, so the AES-GCM fallback is DHE-PSK
 * over RFC 7919's ffdhe2048. */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_ECDHE_PSK_ENABLED
#define MBEDTLS_KEY_EXCHANGE_DHE_PSK_ENABLED
/* Binds the keys to the whole handshake (RFC 7627). */
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
/* Tell the peer why (bad_record_mac, unknown_psk_identity...), so both ends can say it. */
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES
#define MBEDTLS_PSK_MAX_LEN 64

/* The suites offered and accepted, most preferred first (the server picks by this order).
 * mig_tls.c uses exactly this list. */
#define MBEDTLS_SSL_CIPHERSUITES                                  \
	MBEDTLS_TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,      \
	MBEDTLS_TLS_DHE_PSK_WITH_AES_128_GCM_SHA256

/* Readable reasons for mig_tls_error(). */
#define MBEDTLS_ERROR_C

#include "mbedtls/check_config.h"

#endif
