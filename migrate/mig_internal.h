/* Shared between the two sides of migration (not for the console). */
#ifndef MIGRATE_MIG_INTERNAL_H
#define MIGRATE_MIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* This instance: an identity for stream headers (name and first MAC). */
uint64_t mig_instance_id(void);
void mig_instance_name(char *out, size_t size);

bool migrate_send_poll(void);
bool migrate_recv_poll(void);
/* Registers the poller that drops fragments past fragment_expire. */
void mig_fragment_expiry_init(void);

#endif
