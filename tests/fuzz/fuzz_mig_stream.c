/* libFuzzer target: the destination's view of a migration stream (and
 * the source's view of the replies). The input is a stream header
 * followed by records; every record is decoded and its body parsed as its
 * type says, as migrate/recv.c and migrate/send.c do. Nothing may crash,
 * read out of bounds or loop; errors are fine. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "migrate/disk_stream.h"
#include "migrate/state_codec.h"
#include "migrate/page_delta.h"
#include "migrate/stream.h"

static void parse_blocks(const struct mig_record *r)
{
	char err[160];
	struct mig_disk_blocks_reader rd;
	uint64_t off;
	uint32_t len;
	enum mig_disk_extent_type t;
	const uint8_t *data;
	volatile uint8_t sink = 0;

	if (mig_disk_blocks_open(&rd, r->body, r->len, err, sizeof(err)))
		return;
	/* Touch both ends of each extent: ASan checks they lie in the body. */
	while (mig_disk_blocks_next(&rd, &off, &len, &t, &data, err, sizeof(err)) == 1)
		if (data)
			sink ^= data[0] ^ data[len - 1];
	(void)sink;
}

/* The disk records: 1 when r was one. */
static int parse_disk_body(const struct mig_record *r)
{
	char err[160];
	uint32_t index;
	union {
		struct mig_disk_offer o;
		struct mig_disk_accept a;
		struct mig_disk_start s;
		struct mig_disk_end e;
	} x;

	switch (r->type) {
	case MIG_REC_DISK_OFFER:
		mig_disk_offer_decode(r->body, r->len, &x.o, err, sizeof(err));
		return 1;
	case MIG_REC_DISK_ACCEPT:
		mig_disk_accept_decode(r->body, r->len, &x.a, err, sizeof(err));
		return 1;
	case MIG_REC_DISK_START:
		mig_disk_start_decode(r->body, r->len, &x.s, err, sizeof(err));
		return 1;
	case MIG_REC_DISK_END:
		mig_disk_end_decode(r->body, r->len, &x.e, err, sizeof(err));
		return 1;
	case MIG_REC_DISK_BULK_END:
	case MIG_REC_DISK_DONE:
		mig_disk_index_decode(r->body, r->len, &index, err, sizeof(err));
		return 1;
	case MIG_REC_DISK_BLOCKS:
		parse_blocks(r);
		return 1;
	default:
		return 0;
	}
}

static void parse_body(const struct mig_record *r)
{
	char err[160];
	union {
		struct mig_vm_config c;
		struct mig_vcpu v;
		struct mig_lapic l;
		struct mig_uart u;
		struct mig_platform p;
		struct mig_modules m;
		struct mig_placement pl;
		struct mig_vcpu_msrs ms;
		struct mig_device d;
	} x;

	if (parse_disk_body(r))
		return;
	switch (r->type) {
	case MIG_REC_VM_CONFIG:
		mig_vm_config_decode(r->body, r->len, &x.c, err, sizeof(err));
		break;
	case MIG_REC_VCPU:
		mig_vcpu_decode(r->body, r->len, &x.v, err, sizeof(err));
		break;
	case MIG_REC_LAPIC:
		mig_lapic_decode(r->body, r->len, &x.l, err, sizeof(err));
		break;
	case MIG_REC_UART:
		mig_uart_decode(r->body, r->len, &x.u, err, sizeof(err));
		break;
	case MIG_REC_PLATFORM:
		mig_platform_decode(r->body, r->len, &x.p, err, sizeof(err));
		break;
	case MIG_REC_MODULES:
		mig_modules_decode(r->body, r->len, &x.m, err, sizeof(err));
		break;
	case MIG_REC_PLACEMENT:
		mig_placement_decode(r->body, r->len, &x.pl, err, sizeof(err));
		break;
	case MIG_REC_VCPU_MSRS:
		mig_vcpu_msrs_decode(r->body, r->len, &x.ms, err, sizeof(err));
		break;
	case MIG_REC_DEVICE:
		/* The blob itself is fuzz_device_state's. */
		mig_device_decode(r->body, r->len, &x.d, err, sizeof(err));
		break;
	case MIG_REC_PAGES: {
		struct mig_pages_reader rd;
		uint64_t gfn;
		enum mig_page_type t;
		const uint8_t *data;
		uint8_t sink = 0;
		if (mig_pages_open(&rd, r->body, r->len, err, sizeof(err)))
			break;
		while (mig_pages_next(&rd, &gfn, &t, &data, err, sizeof(err)) == 1) {
			static uint8_t page[MIG_PAGE_SIZE];
			if (t == MIG_PAGE_DELTA)
				page_delta_apply(page, data, rd.data_len);
			else if (data) /* its whole length is there */
				sink ^= data[0] ^ data[rd.data_len - 1];
		}
		(void)sink;
		break;
	}
	case MIG_REC_SEED: {
		struct mig_seed_answer a;
		mig_seed_decode(r->body, r->len, &a, err, sizeof(err));
		break;
	}
	case MIG_REC_SIG_MISSES: {
		uint64_t gfns[MIG_SIG_MISSES_MAX];
		uint32_t n;
		mig_sig_misses_decode(r->body, r->len, gfns, &n, err, sizeof(err));
		break;
	}
	case MIG_REC_REJECT: {
		char text[100];
		mig_text_decode(r->body, r->len, text, sizeof(text));
		break;
	}
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mig_header h;
	struct mig_record r;
	char err[160];

	/* Fuzz the header as is, then the records: after a valid header (a
	 * stream), or from the start (replies have no header). */
	size_t pos = mig_header_decode(data, size, &h, err, sizeof(err)) ? 0 : MIG_HEADER_LEN;
	while (pos < size) {
		long n = mig_record_decode(data + pos, size - pos, MIG_MAX_BODY, &r, err, sizeof(err));
		if (n <= 0)
			break;
		parse_body(&r);
		pos += (size_t)n;
	}
	return 0;
}
