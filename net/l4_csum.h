/* TCP checksums around a NIC that computes them: what the stack puts in a
 * frame it hands to the device, and the check of a received frame the
 * device did not vouch for. IPv4 only (lwIP is built without IPv6). Pure
 * functions over frame bytes, so the host tests run them. */
#ifndef NET_L4_CSUM_H
#define NET_L4_CSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/net/nic.h"

/* RFC 1071 ones' complement sum of 'len' bytes, added to 'acc' (not
 * folded); 'odd' says the bytes start at an odd offset of the whole. */
uint32_t inet_sum(const void *data, size_t len, uint32_t acc, bool odd);
uint16_t inet_fold(uint32_t acc);

/* For an IPv4 TCP frame of 'len' bytes whose Ethernet, IP and TCP headers
 * lie in the first 'head' bytes: writes the pseudo-header's sum into the
 * TCP checksum field and says where the device must finish it. False for
 * any other frame, which is left alone. */
bool l4_csum_prepare(uint8_t *frame, size_t head, size_t len, struct nic_tx_csum *out);

/* Whether a frame's first 'head' of 'len' bytes may cut its TCP headers:
 * it goes as a flat copy then (lwIP left the checksum to the NIC). */
bool l4_csum_headers_split(const uint8_t *frame, size_t head, size_t len);

enum l4_csum_verdict {
	L4_CSUM_NOT_TCP, /* not IPv4 TCP: the stack checks what it must */
	L4_CSUM_TCP_FRAGMENT, /* a piece of a TCP segment: only the whole can be checked */
	L4_CSUM_GOOD,
	L4_CSUM_BAD,
};
enum l4_csum_verdict l4_csum_check(const uint8_t *frame, size_t len);

#endif
