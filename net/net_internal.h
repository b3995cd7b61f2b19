/* Between the files of net/ only. */
#ifndef NET_NET_INTERNAL_H
#define NET_NET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

struct net_if;
struct nic;

bool net_if_attach(struct net_if *nif, struct nic *nic);
bool net_if_send_raw(struct net_if *nif, const void *frame, size_t len);
void net_rawperf_input(struct net_if *nif, const void *frame, size_t len);

#endif
