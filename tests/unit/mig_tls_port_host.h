/* Knobs of the host build's mig_tls port (mig_tls_port_host.c). */
#ifndef TESTS_UNIT_MIG_TLS_PORT_HOST_H
#define TESTS_UNIT_MIG_TLS_PORT_HOST_H

#include <stdbool.h>

/* As if the CPU had neither RDRAND nor RDSEED. */
extern bool mig_tls_host_no_entropy;
/* As if the instruction kept failing. */
extern bool mig_tls_host_entropy_fails;

#endif
