/* net/l4_csum.c against frames from anywhere: the check and the split
 * test read only the frame's bytes, and three properties hold for every
 * input. (1) The sum is the RFC 1071 sum of a byte-at-a-time reference,
 * and summing in two pieces at any cut gives the same. (2) A frame that
 * prepare() accepted, finished as a device does (sum from 'start' to the
 * end of the IP datagram, complement into the field), checks GOOD.
 * (3) prepare() accepts only frames whose headers lie in 'head', so
 * headers_split() says no for them. (4) The check's verdict on a TCP
 * segment is that of the reference sum over an explicit pseudo-header
 * (so a mistake shared by prepare() and the check is found too).
 * Input: head as 2 bytes (little-endian), then the frame. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/l4_csum.h"

#define ETH_HLEN 14

static uint16_t reference_sum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	for (size_t i = 0; i < len; i++) {
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)sum;
}

static void check_sums(const uint8_t *p, size_t len)
{
	uint16_t whole = inet_fold(inet_sum(p, len, 0, false));
	/* 0 and 0xffff are the same number in ones' complement. */
	uint16_t ref = reference_sum(p, len);
	if (whole != ref && !((whole == 0 || whole == 0xffff) && (ref == 0 || ref == 0xffff)))
		abort();
	size_t cut = len ? p[0] % (len + 1) : 0;
	uint32_t acc = inet_sum(p, cut, 0, false);
	if (inet_fold(inet_sum(p + cut, len - cut, acc, cut & 1)) != whole)
		abort();
}

static uint16_t reference_tcp_sum(const uint8_t *frame)
{
	const uint8_t *ip = frame + ETH_HLEN;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	size_t total = (size_t)ip[2] << 8 | ip[3];
	size_t tcp_len = total - ihl;
	uint8_t *buf = malloc(12 + tcp_len);
	memcpy(buf, ip + 12, 8);
	buf[8] = 0;
	buf[9] = 6;
	buf[10] = (uint8_t)(tcp_len >> 8);
	buf[11] = (uint8_t)tcp_len;
	memcpy(buf + 12, ip + ihl, tcp_len);
	uint16_t sum = reference_sum(buf, 12 + tcp_len);
	free(buf);
	return sum;
}

static void check_verdict(const uint8_t *frame, size_t len)
{
	enum l4_csum_verdict v = l4_csum_check(frame, len);
	if (v != L4_CSUM_GOOD && v != L4_CSUM_BAD)
		return;
	/* Any sum but of all-zero bytes ends non-zero; a valid one is 0xffff. */
	if ((reference_tcp_sum(frame) == 0xffff) != (v == L4_CSUM_GOOD))
		abort();
}

static void check_prepared(uint8_t *frame, size_t head, size_t len)
{
	struct nic_tx_csum where;
	if (!l4_csum_prepare(frame, head, len, &where))
		return;
	if (l4_csum_headers_split(frame, head, len))
		abort(); /* its headers lie in 'head' */
	size_t end = ETH_HLEN + ((size_t)frame[ETH_HLEN + 2] << 8 | frame[ETH_HLEN + 3]);
	if (end != len || where.start + where.offset + 2 > len)
		return; /* a device would sum the trailing bytes too */
	uint16_t csum = (uint16_t)~inet_fold(inet_sum(frame + where.start, len - where.start, 0,
						      false));
	frame[where.start + where.offset] = (uint8_t)(csum >> 8);
	frame[where.start + where.offset + 1] = (uint8_t)csum;
	if (l4_csum_check(frame, len) != L4_CSUM_GOOD)
		abort();
	check_verdict(frame, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t head = (size_t)data[0] | (size_t)data[1] << 8;
	size_t len = size - 2;
	/* An exact-size copy: a read past the frame is the sanitizer's to find. */
	uint8_t *frame = malloc(len ? len : 1);
	memcpy(frame, data + 2, len);
	check_sums(frame, len);
	check_verdict(frame, len);
	(void)l4_csum_headers_split(frame, head, len);
	check_prepared(frame, head, len);
	free(frame);
	return 0;
}
