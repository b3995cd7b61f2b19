/* IPv4 address helpers that need no stack (host-testable): CIDR parsing,
 * prefix/mask conversion. Addresses in host byte order. */
#ifndef NET_NET_ADDR_H
#define NET_NET_ADDR_H

#include <stdbool.h>
#include <stdint.h>

/* "A.B.C.D/N" with N in 1..32. */
bool net_parse_cidr(const char *s, uint32_t *addr, unsigned *prefix);
uint32_t net_prefix_to_mask(unsigned prefix);
/* The prefix length of a contiguous mask, or 0 if it is not contiguous. */
unsigned net_mask_to_prefix(uint32_t mask);
/* Not the network or broadcast address of its subnet (for prefixes < 31),
 * not 0.0.0.0, multicast or 255.255.255.255. */
bool net_addr_is_host(uint32_t addr, unsigned prefix);
/* "A.B.C.D" into buf (at least 16 bytes). */
void net_addr_format(uint32_t addr, char *buf);

#endif
