/* Shared between the parts of migrate/mig_tls*.c; not for other callers. */
#ifndef MIGRATE_MIG_TLS_INTERNAL_H
#define MIGRATE_MIG_TLS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "mbedtls/ctr_drbg.h"

/* The process-wide DRBG every channel draws from; NULL until mig_tls_global_init
 * succeeded. */
mbedtls_ctr_drbg_context *mig_tls_drbg(void);

/* Readable text for an mbedTLS error code, in "what failed" terms where the code says it
 * (key mismatch, altered record...); in_handshake refines a bad MAC or alert into "the
 * peer holds a different key". alert is the fatal alert received, for
 * MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE. */
void mig_tls_describe(int ret, bool in_handshake, int alert, char *buf, size_t size);

#endif
