/* What mbedTLS and mig_tls.c need from their surroundings: memory, formatting and
 * entropy. hv.efi implements it in migrate/mig_tls_port.c (the hypervisor's heap, its
 * formatter, RDSEED/RDRAND and TSC jitter from hv/x86/entropy.h); the host unit tests in
 * tests/unit/mig_tls_port_host.c (libc and a test seed), so no test ever depends on, or
 * stands in for, the hardware path. Included by migrate/tls/mbedtls_config.h, hence
 * plain C with no mbedTLS types. */
#ifndef MIGRATE_MIG_TLS_PORT_H
#define MIGRATE_MIG_TLS_PORT_H

#include <stddef.h>

/* calloc and free semantics: zeroed, NULL on overflow or exhaustion; free(NULL) is a
 * no-op. */
void *mig_tls_port_calloc(size_t count, size_t size);
void mig_tls_port_free(void *p);

/* Formatting is the project's own fmt_snprintf on both sides (mbedTLS formats only
 * integers and strings with it). */
#include "hv/lib/format.h"

/* The strong entropy source's name ("rdseed", "rdrand"), or NULL when there is none:
 * then no key may be generated. */
const char *mig_tls_port_entropy_source(void);

/* mbedTLS entropy callbacks (mbedtls_entropy_f_source_ptr): fill out[0..len) and set
 * *olen, return 0; or return nonzero when the source failed. The strong one is counted
 * towards the pool's threshold, the weak one (timing jitter) is only mixed in. */
int mig_tls_port_entropy_strong(void *data, unsigned char *out, size_t len, size_t *olen);
int mig_tls_port_entropy_weak(void *data, unsigned char *out, size_t len, size_t *olen);

#endif
