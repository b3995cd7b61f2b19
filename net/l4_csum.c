/* Why the pseudo-header goes in the checksum field: Intel's descriptors
 * and virtio's NEEDS_CSUM both sum from the TCP header to the end of the
 * frame and store the complement, so the field must already hold the part
 * the device does not see (addresses, protocol, length). */
#include "net/l4_csum.h"

#define ETH_HLEN 14
#define ETHERTYPE_IPV4 0x0800
#define IP_PROTO_TCP 6
#define TCP_CSUM_OFFSET 16
#define TCP_MIN_HLEN 20

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t inet_sum(const void *data, size_t len, uint32_t acc, bool odd)
{
	const uint8_t *p = data;
	uint64_t sum = 0;

	if (odd && len) {
		sum += *p++; /* the low byte of a word begun before */
		len--;
	}
	/* Four bytes a step as two big-endian words: a 64-bit sum of 32-bit
	 * pieces folds to the same 16-bit ones' complement sum (RFC 1071,
	 * "parallel summation"), in a quarter of the steps. */
	for (; len >= 4; p += 4, len -= 4) {
		uint32_t w;
		__builtin_memcpy(&w, p, 4);
		sum += __builtin_bswap32(w);
	}
	for (; len >= 2; p += 2, len -= 2)
		sum += be16(p);
	if (len)
		sum += (uint32_t)*p << 8;
	while (sum >> 32)
		sum = (sum & 0xffffffff) + (sum >> 32);
	uint64_t total = (uint64_t)acc + sum;
	return (uint32_t)((total & 0xffffffff) + (total >> 32));
}

uint16_t inet_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static bool is_ipv4_tcp(const uint8_t *frame, size_t len)
{
	return len >= ETH_HLEN + 20 && be16(frame + 12) == ETHERTYPE_IPV4 &&
	       (frame[ETH_HLEN] >> 4) == 4 && frame[ETH_HLEN + 9] == IP_PROTO_TCP;
}

static bool is_fragment(const uint8_t *ip)
{
	return be16(ip + 6) & 0x3fff; /* more fragments, or an offset */
}

/* The IPv4 header of an unfragmented TCP segment: its length, or 0. */
static size_t tcp_ip_header(const uint8_t *frame, size_t len)
{
	if (!is_ipv4_tcp(frame, len))
		return 0;
	const uint8_t *ip = frame + ETH_HLEN;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ihl < 20 || is_fragment(ip))
		return 0;
	size_t total = be16(ip + 2);
	if (total < ihl + TCP_MIN_HLEN || ETH_HLEN + total > len)
		return 0;
	return ihl;
}

static uint32_t pseudo_header_sum(const uint8_t *ip, size_t ihl)
{
	/* Protocol and length go in as the starting sum: added to the
	 * addresses' 32-bit sum afterwards, they could wrap and lose a carry. */
	return inet_sum(ip + 12, 8, IP_PROTO_TCP + (uint32_t)(be16(ip + 2) - ihl), false);
}

bool l4_csum_prepare(uint8_t *frame, size_t head, size_t len, struct nic_tx_csum *out)
{
	if (head > len)
		head = len;
	/* The IP header is read only once it is known to lie in 'head'. */
	size_t ihl = head >= ETH_HLEN + 20 ? tcp_ip_header(frame, len) : 0;

	if (!ihl || ETH_HLEN + ihl + TCP_MIN_HLEN > head)
		return false;
	uint8_t *ip = frame + ETH_HLEN;
	uint16_t seed = inet_fold(pseudo_header_sum(ip, ihl));
	uint8_t *field = ip + ihl + TCP_CSUM_OFFSET;
	field[0] = (uint8_t)(seed >> 8);
	field[1] = (uint8_t)seed;
	*out = (struct nic_tx_csum){ (uint16_t)(ETH_HLEN + ihl), TCP_CSUM_OFFSET };
	return true;
}

bool l4_csum_headers_split(const uint8_t *frame, size_t head, size_t len)
{
	if (head >= len)
		return false;
	if (head < ETH_HLEN + 20)
		return true; /* too short to tell: a flat copy will */
	if (!is_ipv4_tcp(frame, head))
		return false;
	return head < ETH_HLEN + (size_t)(frame[ETH_HLEN] & 0x0f) * 4 + TCP_MIN_HLEN;
}

enum l4_csum_verdict l4_csum_check(const uint8_t *frame, size_t len)
{
	size_t ihl = tcp_ip_header(frame, len);

	if (!ihl && is_ipv4_tcp(frame, len) && is_fragment(frame + ETH_HLEN))
		return L4_CSUM_TCP_FRAGMENT;
	if (!ihl)
		return L4_CSUM_NOT_TCP;
	const uint8_t *ip = frame + ETH_HLEN;
	size_t tcp_len = be16(ip + 2) - ihl;
	uint32_t acc = inet_sum(ip + ihl, tcp_len, pseudo_header_sum(ip, ihl), false);
	return inet_fold(acc) == 0xffff ? L4_CSUM_GOOD : L4_CSUM_BAD;
}
