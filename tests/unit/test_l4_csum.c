/* TCP checksum offload's stack side (net/l4_csum.c): what the stack leaves
 * in the frame plus what a device sums must give RFC 793's checksum, as an
 * independent, plain RFC 1071 sum over an explicit pseudo-header says. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "net/l4_csum.h"

#define ETH 14

/* RFC 1071, word by word, over one buffer. */
static uint16_t plain_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The checksum RFC 793 defines, from a pseudo-header built out. */
static uint16_t reference_tcp_csum(const uint8_t *frame)
{
	const uint8_t *ip = frame + ETH;
	size_t ihl = (size_t)(ip[0] & 15) * 4, total = (size_t)(ip[2] << 8 | ip[3]);
	size_t tcp_len = total - ihl;
	uint8_t *buf = calloc(1, 12 + tcp_len);

	memcpy(buf, ip + 12, 8);
	buf[9] = 6;
	buf[10] = (uint8_t)(tcp_len >> 8);
	buf[11] = (uint8_t)tcp_len;
	memcpy(buf + 12, ip + ihl, tcp_len);
	buf[12 + 16] = buf[12 + 17] = 0; /* the field itself counts as zero */
	uint16_t c = plain_csum(buf, 12 + tcp_len);
	free(buf);
	return c;
}

/* An IPv4 TCP frame: 'opt' words of IP options, 'payload' bytes of data,
 * 'pad' bytes of Ethernet padding after it. */
static size_t make_frame(uint8_t *f, unsigned opt, size_t payload, size_t pad, unsigned seed)
{
	size_t ihl = 20 + 4 * opt, total = ihl + 20 + payload;

	srand(seed);
	for (size_t i = 0; i < ETH + total + pad; i++)
		f[i] = (uint8_t)rand();
	f[12] = 0x08;
	f[13] = 0x00;
	uint8_t *ip = f + ETH;
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	ip[2] = (uint8_t)(total >> 8);
	ip[3] = (uint8_t)total;
	ip[6] = 0x40; /* DF, no offset */
	ip[7] = 0;
	ip[9] = 6;
	ip[ihl + 12] = 0x50; /* data offset 5 */
	return ETH + total + pad;
}

/* What Intel's TXSM and virtio's NEEDS_CSUM do with the request. */
static void device_fills(uint8_t *f, size_t len, const struct nic_tx_csum *c)
{
	uint16_t v = plain_csum(f + c->start, len - c->start);
	f[c->start + c->offset] = (uint8_t)(v >> 8);
	f[c->start + c->offset + 1] = (uint8_t)v;
}

static void put_csum(uint8_t *f, uint16_t v)
{
	size_t at = ETH + (size_t)(f[ETH] & 15) * 4 + 16;
	f[at] = (uint8_t)(v >> 8);
	f[at + 1] = (uint8_t)v;
}

Test(l4_csum, the_stack_and_a_device_together_give_the_reference_checksum)
{
	static uint8_t f[2048];
	size_t payloads[] = { 0, 1, 2, 3, 17, 536, 1023, 1459, 1460 };

	for (unsigned opt = 0; opt <= 2; opt++)
		for (size_t k = 0; k < sizeof(payloads) / sizeof(payloads[0]); k++) {
			size_t len = make_frame(f, opt, payloads[k], 0, (unsigned)(k * 7 + opt));
			uint16_t want = reference_tcp_csum(f);
			struct nic_tx_csum c;
			cr_assert(l4_csum_prepare(f, len, len, &c));
			cr_assert_eq(c.start, ETH + 20 + 4 * opt);
			cr_assert_eq(c.offset, 16);
			device_fills(f, len, &c);
			uint16_t got = (uint16_t)(f[c.start + 16] << 8 | f[c.start + 17]);
			cr_assert_eq(got, want, "options %u payload %zu: 0x%04x, want 0x%04x", opt,
				     payloads[k], got, want);
			cr_assert_eq(l4_csum_check(f, len), L4_CSUM_GOOD);
		}
}

/* Addresses whose 32-bit sum is 0xfffffffa: adding the protocol and length
 * afterwards would wrap and lose a carry (a reviewer's example). */
Test(l4_csum, addresses_near_the_top_of_the_sum_keep_their_carry)
{
	static uint8_t f[2048];
	const uint8_t a[4] = { 192, 168, 1, 10 }, b[4] = { 63, 87, 254, 240 };

	for (size_t payload = 0; payload < 64; payload += 7) {
		size_t len = make_frame(f, 0, payload, 0, (unsigned)payload);
		memcpy(f + ETH + 12, a, 4);
		memcpy(f + ETH + 16, b, 4);
		uint16_t want = reference_tcp_csum(f);
		struct nic_tx_csum c;
		cr_assert(l4_csum_prepare(f, len, len, &c));
		device_fills(f, len, &c);
		cr_assert_eq(f[c.start + 16] << 8 | f[c.start + 17], want, "payload %zu", payload);
		cr_assert_eq(l4_csum_check(f, len), L4_CSUM_GOOD);
	}
}

Test(l4_csum, only_the_headers_need_be_in_the_first_segment)
{
	static uint8_t f[2048];
	size_t len = make_frame(f, 0, 1000, 0, 3);
	struct nic_tx_csum c;

	cr_assert(l4_csum_prepare(f, ETH + 40, len, &c));
	make_frame(f, 0, 1000, 0, 3);
	cr_assert_not(l4_csum_prepare(f, ETH + 39, len, &c), "the TCP header is cut");
	cr_assert(l4_csum_headers_split(f, ETH + 39, len));
	cr_assert(l4_csum_headers_split(f, ETH + 10, len), "too short to tell");
	cr_assert_not(l4_csum_headers_split(f, ETH + 40, len));
	cr_assert_not(l4_csum_headers_split(f, len, len));
	f[ETH + 9] = 17; /* UDP: not ours to finish */
	cr_assert_not(l4_csum_headers_split(f, ETH + 30, len));
}

Test(l4_csum, a_checked_frame_with_any_bit_flipped_is_bad)
{
	static uint8_t f[2048];
	size_t len = make_frame(f, 1, 300, 0, 11);
	put_csum(f, reference_tcp_csum(f));
	cr_assert_eq(l4_csum_check(f, len), L4_CSUM_GOOD);

	/* Every bit of the addresses (pseudo-header) and the TCP segment. */
	size_t from = ETH + 12, to = len;
	for (size_t i = from; i < to; i++) {
		if (i >= ETH + 20 && i < ETH + 24)
			continue; /* the IP options are not summed */
		for (int b = 0; b < 8; b++) {
			f[i] ^= (uint8_t)(1 << b);
			cr_assert_eq(l4_csum_check(f, len), L4_CSUM_BAD, "byte %zu bit %d", i, b);
			f[i] ^= (uint8_t)(1 << b);
		}
	}
}

Test(l4_csum, ethernet_padding_is_not_summed)
{
	static uint8_t f[128];
	size_t len = make_frame(f, 0, 2, 10, 5); /* a short ACK-sized frame, padded to 60+ */

	put_csum(f, reference_tcp_csum(f));
	cr_assert_eq(l4_csum_check(f, len), L4_CSUM_GOOD);
}

Test(l4_csum, other_frames_are_left_to_the_stack_untouched)
{
	static uint8_t f[256], copy[256];
	struct nic_tx_csum c;
	enum { UDP, ARP, IPV6, MORE_FRAGMENTS, OFFSET, SHORT_IHL, VERSION, TRUNCATED, TINY, N };

	for (int kind = 0; kind < N; kind++) {
		size_t len = make_frame(f, 0, 40, 0, (unsigned)kind);
		uint8_t *ip = f + ETH;
		switch (kind) {
		case UDP: ip[9] = 17; break;
		case ARP: f[12] = 0x08, f[13] = 0x06; break;
		case IPV6: f[12] = 0x86, f[13] = 0xdd; break;
		case MORE_FRAGMENTS: ip[6] = 0x20; break;
		case OFFSET: ip[6] = 0, ip[7] = 1; break;
		case SHORT_IHL: ip[0] = 0x44; break;
		case VERSION: ip[0] = 0x65; break;
		case TRUNCATED: len -= 1; break;
		case TINY: len = ETH + 19; break;
		}
		memcpy(copy, f, sizeof(f));
		cr_assert_not(l4_csum_prepare(f, len, len, &c), "kind %d", kind);
		cr_assert_eq(memcmp(f, copy, sizeof(f)), 0, "kind %d was written", kind);
		bool fragment = kind == MORE_FRAGMENTS || kind == OFFSET;
		cr_assert_eq(l4_csum_check(f, len), fragment ? L4_CSUM_TCP_FRAGMENT : L4_CSUM_NOT_TCP,
			     "kind %d", kind);
	}
}

Test(l4_csum, a_sum_split_at_an_odd_byte_equals_the_whole)
{
	uint8_t buf[301];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	uint16_t whole = inet_fold(inet_sum(buf, sizeof(buf), 0, false));
	for (size_t cut = 0; cut <= sizeof(buf); cut++) {
		uint32_t acc = inet_sum(buf, cut, 0, false);
		acc = inet_sum(buf + cut, sizeof(buf) - cut, acc, cut & 1);
		cr_assert_eq(inet_fold(acc), whole, "cut at %zu", cut);
	}
	cr_assert_eq((uint16_t)~whole, plain_csum(buf, sizeof(buf)));
}
