/* Disk records of the migration stream (version 3): every body round
 * trips, every field out of range is refused with a message that names it,
 * and no truncation is read past. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "hv/lib/byteorder.h"
#include "migrate/disk_stream.h"
#include "migrate/stream.h"

static char err[160];

static struct mig_disk_offer sample_offer(void)
{
	struct mig_disk_offer o;

	memset(&o, 0, sizeof(o));
	o.index = 2;
	o.flags = MIG_DISK_READ_ONLY;
	strcpy(o.name, "web-01.root_v2@3");
	for (int i = 0; i < MIG_DISK_ID_LEN; i++) {
		o.uuid[i] = (uint8_t)(0x10 + i);
		o.content_id[i] = (uint8_t)(0xa0 + i);
	}
	o.size = 8ull << 30;
	o.allocated_bytes = 123456ull * 512;
	o.nancestors = 3;
	for (int a = 0; a < 3; a++)
		memset(o.ancestors[a], 0x31 + a, MIG_DISK_ID_LEN);
	return o;
}

Test(disk_stream, record_sizes_are_the_documented_ones)
{
	/* docs/migration-stream.md ("Disks") gives these; a change is a new version. */
	cr_assert_eq(MIG_DISK_OFFER_LEN, 220);
	cr_assert_eq(MIG_DISK_ACCEPT_LEN, 20);
	cr_assert_eq(MIG_DISK_START_LEN, 16);
	cr_assert_eq(MIG_DISK_END_LEN, 20);
	cr_assert_eq(MIG_DISK_INDEX_LEN, 4);
	cr_assert_eq(MIG_DISK_BLOCKS_MAX_BODY, 131112);
}

Test(disk_stream, offer_round_trip)
{
	struct mig_disk_offer o = sample_offer(), got;
	uint8_t body[MIG_DISK_OFFER_LEN];

	cr_assert_eq(mig_disk_offer_encode(&o, body), MIG_DISK_OFFER_LEN);
	cr_assert_eq(get_le32(body), 2); /* the document's offsets */
	cr_assert_eq(get_le32(body + 4), MIG_DISK_READ_ONLY);
	cr_assert_str_eq((const char *)body + 8, "web-01.root_v2@3"); /* a snapshot's name */
	cr_assert_eq(body[40], 0x10);
	cr_assert_eq(body[56], 0xa0);
	cr_assert_eq(get_le64(body + 72), 8ull << 30);
	cr_assert_eq(get_le64(body + 80), 123456ull * 512);
	cr_assert_eq(body[92 + 2 * 16], 0x33);
	cr_assert_eq(get_le32(body + 88), 3);
	cr_assert_eq(mig_disk_offer_decode(body, sizeof(body), &got, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(got.index, 2);
	cr_assert_eq(got.flags, MIG_DISK_READ_ONLY);
	cr_assert_str_eq(got.name, "web-01.root_v2@3");
	cr_assert_eq(memcmp(got.uuid, o.uuid, MIG_DISK_ID_LEN), 0);
	cr_assert_eq(memcmp(got.content_id, o.content_id, MIG_DISK_ID_LEN), 0);
	cr_assert_eq(got.size, 8ull << 30);
	cr_assert_eq(got.allocated_bytes, 123456ull * 512);
	cr_assert_eq(got.nancestors, 3);
	cr_assert_eq(memcmp(got.ancestors, o.ancestors, sizeof(o.ancestors)), 0);

	/* Shared, no ancestors, a one-character name, the largest index. */
	o.flags = MIG_DISK_SHARED | MIG_DISK_READ_ONLY;
	o.index = MIG_DISK_MAX - 1;
	strcpy(o.name, "x");
	o.nancestors = 0;
	o.size = 512;
	memset(o.ancestors, 0xee, sizeof(o.ancestors)); /* beyond nancestors: not sent */
	mig_disk_offer_encode(&o, body);
	cr_assert_eq(mig_disk_offer_decode(body, sizeof(body), &got, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(got.flags, MIG_DISK_SHARED | MIG_DISK_READ_ONLY);
	cr_assert_eq(got.index, MIG_DISK_MAX - 1);
	cr_assert_str_eq(got.name, "x");
	cr_assert_eq(got.nancestors, 0);
	for (size_t i = 0; i < sizeof(got.ancestors); i++)
		cr_assert_eq(((uint8_t *)got.ancestors)[i], 0);

	/* Eight ancestors and a 31-character name: the limits. */
	o.nancestors = MIG_DISK_MAX_ANCESTORS;
	memset(o.name, 'a', 31);
	o.name[31] = '\0';
	mig_disk_offer_encode(&o, body);
	cr_assert_eq(mig_disk_offer_decode(body, sizeof(body), &got, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(got.nancestors, 8);
	cr_assert_eq(strlen(got.name), 31);
	cr_assert_eq(got.ancestors[7][15], 0xee);
}

/* Encodes the sample offer, lets 'damage' change the body, decodes. */
static int offer_with(void (*damage)(uint8_t *body))
{
	struct mig_disk_offer o = sample_offer(), got;
	uint8_t body[MIG_DISK_OFFER_LEN];

	mig_disk_offer_encode(&o, body);
	damage(body);
	memset(&got, 0x5a, sizeof(got));
	int rc = mig_disk_offer_decode(body, sizeof(body), &got, err, sizeof(err));
	if (rc)
		cr_assert_eq(got.size, 0, "a refused offer leaves the struct zeroed");
	return rc;
}

static void index4(uint8_t *b) { put_le32(b, MIG_DISK_MAX); }
static void flags8(uint8_t *b) { put_le32(b + 4, MIG_DISK_FLAGS_KNOWN | 8); }
static void name_empty(uint8_t *b) { memset(b + 8, 0, MIG_DISK_NAME_LEN); }
static void name_unterminated(uint8_t *b) { memset(b + 8, 'a', MIG_DISK_NAME_LEN); }
static void name_slash(uint8_t *b) { b[8 + 3] = '/'; }
static void name_space(uint8_t *b) { b[8] = ' '; }
static void name_high(uint8_t *b) { b[8 + 2] = 0xc3; }
static void name_padding(uint8_t *b) { b[8 + 20] = 'z'; } /* after the NUL at 14 */
static void size0(uint8_t *b) { put_le64(b + 72, 0); }
static void size1000(uint8_t *b) { put_le64(b + 72, 1000); }
static void nanc9(uint8_t *b) { put_le32(b + 88, 9); }
static void slot_used(uint8_t *b) { b[92 + 5 * MIG_DISK_ID_LEN + 7] = 1; }
static void nanc2(uint8_t *b) { put_le32(b + 88, 2); } /* slot 2 still holds an ID */

Test(disk_stream, offer_refusals_name_the_field)
{
	cr_assert_eq(MIG_DISK_FLAGS_KNOWN, 7, "READ_ONLY, SHARED, BASE: flags8 needs a new bit");
	static const struct {
		void (*damage)(uint8_t *);
		const char *msg;
	} cases[] = {
		{ index4, "DISK_OFFER: index 4 is out of range (0-3)" },
		{ flags8, "DISK_OFFER: unknown flags 0x8" },
		{ name_empty, "DISK_OFFER: name is empty" },
		{ name_unterminated, "DISK_OFFER: name is not NUL-terminated within 32 bytes" },
		{ name_slash, "DISK_OFFER: name byte 3 is 0x2f, not one of [A-Za-z0-9._@-]" },
		{ name_space, "DISK_OFFER: name byte 0 is 0x20, not one of [A-Za-z0-9._@-]" },
		{ name_high, "DISK_OFFER: name byte 2 is 0xc3, not one of [A-Za-z0-9._@-]" },
		{ name_padding, "DISK_OFFER: name padding byte 20 is not zero" },
		{ size0, "DISK_OFFER: size 0 is not positive" },
		{ size1000, "DISK_OFFER: size 1000 is not a multiple of 512" },
		{ nanc9, "DISK_OFFER: nancestors 9 is over the limit of 8" },
		{ slot_used, "DISK_OFFER: ancestor slot 5 is not zero (nancestors 3)" },
		{ nanc2, "DISK_OFFER: ancestor slot 2 is not zero (nancestors 2)" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(offer_with(cases[i].damage), -1, "case %zu accepted", i);
		cr_assert_str_eq(err, cases[i].msg);
	}

	struct mig_disk_offer o = sample_offer(), got;
	uint8_t body[MIG_DISK_OFFER_LEN + 1];
	mig_disk_offer_encode(&o, body);
	cr_assert_eq(mig_disk_offer_decode(body, MIG_DISK_OFFER_LEN + 1, &got, err, sizeof(err)),
		     -1);
	cr_assert_str_eq(err, "DISK_OFFER: body of 221 bytes, expected 220");
}

Test(disk_stream, accept_start_end_round_trip)
{
	uint8_t body[64];
	struct mig_disk_accept a = { .index = 1, .base = 7, .offset = 1ull << 40, .crc = 0xdeadbeef },
			       ga;
	cr_assert_eq(mig_disk_accept_encode(&a, body), MIG_DISK_ACCEPT_LEN);
	cr_assert_eq(mig_disk_accept_decode(body, MIG_DISK_ACCEPT_LEN, &ga, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert(ga.index == 1 && ga.base == 7 && ga.offset == 1ull << 40 && ga.crc == 0xdeadbeef);
	a = (struct mig_disk_accept){ .index = 0, .base = MIG_DISK_NO_BASE };
	mig_disk_accept_encode(&a, body);
	cr_assert_eq(mig_disk_accept_decode(body, MIG_DISK_ACCEPT_LEN, &ga, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert(ga.base == MIG_DISK_NO_BASE && ga.offset == 0 && ga.crc == 0);

	struct mig_disk_start s = { .index = 3, .offset = 512, .crc = 0x12345678 }, gs;
	cr_assert_eq(mig_disk_start_encode(&s, body), MIG_DISK_START_LEN);
	cr_assert_eq(get_le64(body + 4), 512);
	cr_assert_eq(mig_disk_start_decode(body, MIG_DISK_START_LEN, &gs, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert(gs.index == 3 && gs.offset == 512 && gs.crc == 0x12345678);

	struct mig_disk_end e = { .index = 2 }, ge;
	memset(e.content_id, 0x77, MIG_DISK_ID_LEN);
	cr_assert_eq(mig_disk_end_encode(&e, body), MIG_DISK_END_LEN);
	cr_assert_eq(mig_disk_end_decode(body, MIG_DISK_END_LEN, &ge, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(ge.index, 2);
	cr_assert_eq(memcmp(ge.content_id, e.content_id, MIG_DISK_ID_LEN), 0);

	uint32_t index = 99;
	cr_assert_eq(mig_disk_index_encode(3, body), MIG_DISK_INDEX_LEN);
	cr_assert_eq(mig_disk_index_decode(body, MIG_DISK_INDEX_LEN, &index, err, sizeof(err)), 0);
	cr_assert_eq(index, 3);
}

/* All bytes 0 or all 0x5a. */
static bool uniform(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 1; i < n; i++)
		if (b[i] != b[0])
			return false;
	return b[0] == 0 || b[0] == 0x5a;
}

Test(disk_stream, accept_start_end_refusals_name_the_field)
{
	uint8_t body[64];
	struct mig_disk_accept a = { .index = 4, .base = MIG_DISK_NO_BASE }, ga;
	struct mig_disk_start s = { .index = 0 }, gs;
	struct mig_disk_end e = { .index = 0 }, ge;
	uint32_t index;

	/* A refusal names the field and leaves the struct zeroed (the others
	 * keep their 0x5a filling): no half-decoded values. */
#define REFUSED(call, msg)                                                    \
	do {                                                                  \
		memset(&ga, 0x5a, sizeof(ga));                                \
		memset(&gs, 0x5a, sizeof(gs));                                \
		memset(&ge, 0x5a, sizeof(ge));                                \
		index = 7;                                                    \
		cr_assert_eq(call, -1, "%s", #call);                          \
		cr_assert_str_eq(err, msg);                                   \
		cr_assert(uniform(&ga, sizeof(ga)) && uniform(&gs, sizeof(gs)) && \
			  uniform(&ge, sizeof(ge)), "%s", #call);             \
		cr_assert(index == 0 || index == 7);                          \
	} while (0)
	mig_disk_accept_encode(&a, body);
	REFUSED(mig_disk_accept_decode(body, 20, &ga, err, sizeof(err)),
		"DISK_ACCEPT: index 4 is out of range (0-3)");
	a = (struct mig_disk_accept){ .index = 0, .base = MIG_DISK_MAX_ANCESTORS };
	mig_disk_accept_encode(&a, body);
	REFUSED(mig_disk_accept_decode(body, 20, &ga, err, sizeof(err)),
		"DISK_ACCEPT: base 8 is out of range (0-7 or 0xffffffff)");
	a = (struct mig_disk_accept){ .index = 0, .base = 0, .offset = 1000, .crc = 1 };
	mig_disk_accept_encode(&a, body);
	REFUSED(mig_disk_accept_decode(body, 20, &ga, err, sizeof(err)),
		"DISK_ACCEPT: offset 1000 is not a multiple of 512");
	a = (struct mig_disk_accept){ .index = 0, .base = 0, .offset = 0, .crc = 0xabc };
	mig_disk_accept_encode(&a, body);
	REFUSED(mig_disk_accept_decode(body, 20, &ga, err, sizeof(err)),
		"DISK_ACCEPT: crc 0xabc with offset 0 (must be 0)");
	REFUSED(mig_disk_accept_decode(body, 21, &ga, err, sizeof(err)),
		"DISK_ACCEPT: body of 21 bytes, expected 20");

	s.index = 5;
	mig_disk_start_encode(&s, body);
	REFUSED(mig_disk_start_decode(body, 16, &gs, err, sizeof(err)),
		"DISK_START: index 5 is out of range (0-3)");
	s = (struct mig_disk_start){ .index = 1, .offset = (1ull << 40) + 256, .crc = 3 };
	mig_disk_start_encode(&s, body);
	REFUSED(mig_disk_start_decode(body, 16, &gs, err, sizeof(err)),
		"DISK_START: offset 1099511628032 is not a multiple of 512");
	s = (struct mig_disk_start){ .index = 1, .offset = 0, .crc = 3 };
	mig_disk_start_encode(&s, body);
	REFUSED(mig_disk_start_decode(body, 16, &gs, err, sizeof(err)),
		"DISK_START: crc 0x3 with offset 0 (must be 0)");
	REFUSED(mig_disk_start_decode(body, 20, &gs, err, sizeof(err)),
		"DISK_START: body of 20 bytes, expected 16");

	e.index = 0xffffffffu;
	mig_disk_end_encode(&e, body);
	REFUSED(mig_disk_end_decode(body, 20, &ge, err, sizeof(err)),
		"DISK_END: index 4294967295 is out of range (0-3)");
	REFUSED(mig_disk_end_decode(body, 16, &ge, err, sizeof(err)),
		"DISK_END: body of 16 bytes, expected 20");

	mig_disk_index_encode(MIG_DISK_MAX, body);
	REFUSED(mig_disk_index_decode(body, 4, &index, err, sizeof(err)),
		"DISK_BULK_END/DISK_DONE: index 4 is out of range (0-3)");
	REFUSED(mig_disk_index_decode(body, 0, &index, err, sizeof(err)),
		"DISK_BULK_END/DISK_DONE: body of 0 bytes, expected 4");
#undef REFUSED
}

/* Every extent of a DISK_BLOCKS body: 0 at the end, -1 on the first error. */
static int read_blocks(const uint8_t *body, size_t len, unsigned *extents)
{
	struct mig_disk_blocks_reader r;
	uint64_t off;
	uint32_t n;
	enum mig_disk_extent_type t;
	const uint8_t *data;
	int rc;

	*extents = 0;
	if (mig_disk_blocks_open(&r, body, len, err, sizeof(err)))
		return -1;
	while ((rc = mig_disk_blocks_next(&r, &off, &n, &t, &data, err, sizeof(err))) == 1) {
		if (data) /* ASan: the whole extent lies inside the body */
			cr_assert_geq(data[0] ^ data[n - 1], 0);
		(*extents)++;
	}
	return rc;
}

Test(disk_stream, blocks_round_trip)
{
	static uint8_t body[MIG_DISK_BLOCKS_MAX_BODY];
	struct mig_disk_blocks_writer w;
	struct mig_disk_blocks_reader r;

	mig_disk_blocks_begin(&w, body, 1);
	uint8_t *d = mig_disk_blocks_add(&w, 4096, 1024, MIG_DISK_DATA);
	cr_assert_eq(d, body + 8 + 16);
	for (int i = 0; i < 1024; i++)
		d[i] = (uint8_t)(i * 3);
	cr_assert_null(mig_disk_blocks_add(&w, 1ull << 40, MIG_DISK_EXTENT_MAX, MIG_DISK_ZERO));
	uint32_t len = mig_disk_blocks_end(&w);
	cr_assert_eq(len, 8 + 16 + 1024 + 16, "ZERO extents carry no bytes");

	uint64_t off;
	uint32_t n;
	enum mig_disk_extent_type t;
	const uint8_t *data;
	cr_assert_eq(mig_disk_blocks_open(&r, body, len, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.index, 1);
	cr_assert_eq(r.count, 2);
	cr_assert_eq(mig_disk_blocks_next(&r, &off, &n, &t, &data, err, sizeof(err)), 1, "%s", err);
	cr_assert(off == 4096 && n == 1024 && t == MIG_DISK_DATA && data == body + 24);
	cr_assert_eq(data[1023], (uint8_t)(1023 * 3));
	cr_assert_eq(mig_disk_blocks_next(&r, &off, &n, &t, &data, err, sizeof(err)), 1, "%s", err);
	cr_assert(off == 1ull << 40 && n == MIG_DISK_EXTENT_MAX && t == MIG_DISK_ZERO && !data);
	cr_assert_eq(mig_disk_blocks_next(&r, &off, &n, &t, &data, err, sizeof(err)), 0, "%s", err);
}

Test(disk_stream, two_full_extents_fit_one_record)
{
	static uint8_t body[MIG_DISK_BLOCKS_MAX_BODY];
	static uint8_t rec[MIG_RECORD_HDR_LEN + MIG_DISK_BLOCKS_MAX_BODY];
	struct mig_disk_blocks_writer w;
	struct mig_record r;
	unsigned extents;

	mig_disk_blocks_begin(&w, body, 0);
	for (int i = 0; i < MIG_DISK_MAX_EXTENTS; i++)
		memset(mig_disk_blocks_add(&w, (uint64_t)i * MIG_DISK_EXTENT_MAX,
					   MIG_DISK_EXTENT_MAX, MIG_DISK_DATA),
		       0x40 + i, MIG_DISK_EXTENT_MAX);
	uint32_t len = mig_disk_blocks_end(&w);
	cr_assert_eq(len, MIG_DISK_BLOCKS_MAX_BODY);
	cr_assert_leq(len, MIG_MAX_BODY);
	cr_assert_eq(read_blocks(body, len, &extents), 0, "%s", err);
	cr_assert_eq(extents, 2);

	/* And the framing's limit, which the receiver applies, lets it through. */
	mig_record_header(rec, MIG_REC_DISK_BLOCKS, body, len);
	memcpy(rec + MIG_RECORD_HDR_LEN, body, len);
	cr_assert_eq(mig_record_decode(rec, sizeof(rec), MIG_MAX_BODY, &r, err, sizeof(err)),
		     (long)sizeof(rec), "%s", err);
	cr_assert_eq(r.type, MIG_REC_DISK_BLOCKS);
}

/* A one-extent DATA body, then the damage, then the reader's verdict. */
static int blocks_with(uint64_t offset, uint32_t len, uint32_t type)
{
	static uint8_t body[8 + 16 + 4096];
	unsigned extents;

	put_le32(body, 0);
	put_le32(body + 4, 1);
	put_le64(body + 8, offset);
	put_le32(body + 16, len);
	put_le32(body + 20, type);
	return read_blocks(body, 8 + 16 + (type == MIG_DISK_DATA && len <= 4096 ? len : 0),
			   &extents);
}

Test(disk_stream, blocks_refusals_name_the_field)
{
	uint8_t body[64] = { 0 };
	unsigned extents;

	cr_assert_eq(blocks_with(512, 512, MIG_DISK_DATA), 0, "%s", err);
	cr_assert_eq(blocks_with(UINT64_MAX - 1023, 512, MIG_DISK_ZERO), 0,
		     "the last sector but one of the address space: %s", err);

	cr_assert_eq(blocks_with(1000, 512, MIG_DISK_DATA), -1);
	cr_assert_str_eq(err, "DISK_BLOCKS: extent 0 offset 1000 is not a multiple of 512");
	cr_assert_eq(blocks_with(0, 1000, MIG_DISK_DATA), -1);
	cr_assert_str_eq(err, "DISK_BLOCKS: extent 0 length 1000 is not a multiple of 512");
	cr_assert_eq(blocks_with(0, 0, MIG_DISK_ZERO), -1);
	cr_assert_str_eq(err, "DISK_BLOCKS: extent 0 length 0 is out of range (512-65536)");
	cr_assert_eq(blocks_with(0, MIG_DISK_EXTENT_MAX + 512, MIG_DISK_ZERO), -1);
	cr_assert_str_eq(err, "DISK_BLOCKS: extent 0 length 66048 is out of range (512-65536)");
	cr_assert_eq(blocks_with(0, 512, MIG_DISK_EXTENT_TYPES), -1);
	cr_assert_str_eq(err, "DISK_BLOCKS: extent 0 type 2 is unknown");
	cr_assert_eq(blocks_with(UINT64_MAX - 511, 512, MIG_DISK_ZERO), -1);
	cr_assert_str_eq(err, "DISK_BLOCKS: extent 0 offset 18446744073709551104 + length 512 "
			      "overflows");

	/* Header: index, count. */
	put_le32(body, MIG_DISK_MAX);
	put_le32(body + 4, 1);
	cr_assert_eq(read_blocks(body, 8, &extents), -1);
	cr_assert_str_eq(err, "DISK_BLOCKS: index 4 is out of range (0-3)");
	put_le32(body, 0);
	put_le32(body + 4, 0);
	cr_assert_eq(read_blocks(body, 8, &extents), -1);
	cr_assert_str_eq(err, "DISK_BLOCKS: count 0 is out of range (1-2)");
	put_le32(body + 4, MIG_DISK_MAX_EXTENTS + 1);
	cr_assert_eq(read_blocks(body, 8, &extents), -1);
	cr_assert_str_eq(err, "DISK_BLOCKS: count 3 is out of range (1-2)");
	cr_assert_eq(read_blocks(body, 7, &extents), -1);
	cr_assert_str_eq(err, "DISK_BLOCKS: body of 7 bytes, shorter than its header");

	/* A ZERO extent, then bytes nobody asked for. */
	put_le32(body + 4, 1);
	put_le64(body + 8, 0);
	put_le32(body + 16, 512);
	put_le32(body + 20, MIG_DISK_ZERO);
	cr_assert_eq(read_blocks(body, 24, &extents), 0, "%s", err);
	cr_assert_eq(read_blocks(body, 27, &extents), -1);
	cr_assert_str_eq(err, "DISK_BLOCKS: 3 bytes after the last extent");
	cr_assert_eq(extents, 1);
	/* Two extents announced, one there. */
	put_le32(body + 4, 2);
	cr_assert_eq(read_blocks(body, 24, &extents), -1);
	cr_assert_str_eq(err, "DISK_BLOCKS: truncated in extent 1's header");
	/* A DATA extent whose bytes are missing. */
	put_le32(body + 4, 1);
	put_le32(body + 20, MIG_DISK_DATA);
	cr_assert_eq(read_blocks(body, 40, &extents), -1);
	cr_assert_str_eq(err, "DISK_BLOCKS: truncated in extent 0's data (16 of 512 bytes)");
}

/* Decodes a copy of body[0..len) in a buffer of exactly that size, so
 * that ASan sees any read past it. */
typedef int (*decode_fn)(const uint8_t *body, size_t len);

static int exact(decode_fn fn, const uint8_t *body, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	memcpy(copy, body, len);
	int rc = fn(copy, len);
	free(copy);
	return rc;
}

static int dec_offer(const uint8_t *b, size_t n)
{
	struct mig_disk_offer o;
	return mig_disk_offer_decode(b, n, &o, err, sizeof(err));
}
static int dec_accept(const uint8_t *b, size_t n)
{
	struct mig_disk_accept a;
	return mig_disk_accept_decode(b, n, &a, err, sizeof(err));
}
static int dec_start(const uint8_t *b, size_t n)
{
	struct mig_disk_start s;
	return mig_disk_start_decode(b, n, &s, err, sizeof(err));
}
static int dec_end(const uint8_t *b, size_t n)
{
	struct mig_disk_end e;
	return mig_disk_end_decode(b, n, &e, err, sizeof(err));
}
static int dec_index(const uint8_t *b, size_t n)
{
	uint32_t i;
	return mig_disk_index_decode(b, n, &i, err, sizeof(err));
}
static int dec_blocks(const uint8_t *b, size_t n)
{
	unsigned extents;
	return read_blocks(b, n, &extents);
}

Test(disk_stream, truncated_bodies_are_refused_at_every_length)
{
	struct mig_disk_offer o = sample_offer();
	struct mig_disk_accept a = { .index = 1, .base = 0, .offset = 4096, .crc = 9 };
	struct mig_disk_start s = { .index = 1, .offset = 4096, .crc = 9 };
	struct mig_disk_end e = { .index = 1 };
	static uint8_t blocks[8 + 2 * 16 + 2 * 1024];
	struct {
		decode_fn fn;
		uint8_t body[MIG_DISK_OFFER_LEN];
		uint32_t len;
	} cases[5];

	cases[0].fn = dec_offer;
	cases[0].len = mig_disk_offer_encode(&o, cases[0].body);
	cases[1].fn = dec_accept;
	cases[1].len = mig_disk_accept_encode(&a, cases[1].body);
	cases[2].fn = dec_start;
	cases[2].len = mig_disk_start_encode(&s, cases[2].body);
	cases[3].fn = dec_end;
	cases[3].len = mig_disk_end_encode(&e, cases[3].body);
	cases[4].fn = dec_index;
	cases[4].len = mig_disk_index_encode(2, cases[4].body);
	for (int c = 0; c < 5; c++) {
		cr_assert_eq(exact(cases[c].fn, cases[c].body, cases[c].len), 0, "%s", err);
		for (uint32_t n = 0; n < cases[c].len; n++) {
			cr_assert_eq(exact(cases[c].fn, cases[c].body, n), -1, "case %d at %u", c, n);
			cr_assert(strstr(err, "expected"), "%s", err);
		}
	}

	/* DATA then ZERO, and DATA then DATA: a cut anywhere is refused. */
	for (int second = MIG_DISK_DATA; second <= MIG_DISK_ZERO; second++) {
		struct mig_disk_blocks_writer w;
		mig_disk_blocks_begin(&w, blocks, 3);
		memset(mig_disk_blocks_add(&w, 0, 1024, MIG_DISK_DATA), 0xaa, 1024);
		uint8_t *d = mig_disk_blocks_add(&w, 1024, 1024, (enum mig_disk_extent_type)second);
		if (d)
			memset(d, 0xbb, 1024);
		uint32_t len = mig_disk_blocks_end(&w);
		cr_assert_eq(exact(dec_blocks, blocks, len), 0, "%s", err);
		for (uint32_t n = 0; n < len; n++)
			cr_assert_eq(exact(dec_blocks, blocks, n), -1, "type %d cut at %u", second, n);
	}
}
