/* How a migration or disk-transfer connection is protected: TLS with the
 * pre-shared key `migrate_psk` (both ends must hold it), or plaintext when
 * `migrate_insecure=1` says so explicitly. Without either, no transfer
 * starts: the default is never silently weak. */
#ifndef MIGRATE_MIG_CHANNEL_H
#define MIGRATE_MIG_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>

#include "migrate/mig_conn.h"
#include "migrate/mig_tls.h"

/* Protects c (after mig_conn_connect or mig_conn_attach) as the settings
 * say; -1 with the reason when it cannot (no key, bad key, no entropy). */
int mig_channel_open(struct mig_conn *c, enum mig_tls_role role, char *err, size_t errlen);

/* "insecure", "tls (handshake)" or e.g. "tls1.2 TLS-ECDHE-PSK-WITH-...". */
const char *mig_channel_name(const struct mig_conn *c);

/* Checks the settings at boot: a malformed key is reported then. */
void mig_channel_check_settings(void);

#endif
