/* Listening for migration peers (VMs on one port, disks on another): the
 * listener, the peer list it admits, and the one-record refusal a
 * connection it does not serve gets. */
#ifndef MIGRATE_MIG_LISTEN_H
#define MIGRATE_MIG_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/tcp.h"
#include "migrate/migrate.h"

struct mig_listener {
	struct tcp_pcb *pcb;
	uint16_t port;
	uint32_t peers[MIGRATE_MAX_PEERS]; /* host order */
	size_t npeers;
};

/* Listens on port for peers[0..npeers) (replacing an earlier listener);
 * accepted pcbs go to on_accept. 0, or -1 with the reason. */
int mig_listen(struct mig_listener *l, uint16_t port, const uint32_t *peers, size_t npeers,
	       tcp_accept_fn on_accept, char *err, size_t errlen);
void mig_unlisten(struct mig_listener *l);
bool mig_listener_admits(const struct mig_listener *l, uint32_t ip);
/* Sends REJECT with 'why' and closes. Returns what the accept callback
 * must return (ERR_ABRT when the pcb had to be aborted). */
err_t mig_refuse(struct tcp_pcb *pcb, const char *why);
/* The remote address of an accepted pcb, host order. */
uint32_t mig_remote_ip(const struct tcp_pcb *pcb);

#endif
