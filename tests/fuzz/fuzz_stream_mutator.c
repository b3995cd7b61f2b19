/* A libFuzzer custom mutator for migration streams (a header, then
 * records): half of the mutations work on whole records, keeping the
 * framing, the other half are libFuzzer's own on the bytes. What a
 * receiver does depends on which records come in which order; byte
 * mutations of a stream of many kilobytes rarely drop, repeat or reorder
 * one, and a changed body length breaks every record after it. Records
 * are rewritten with their real header (lengths and CRCs), so a mutated
 * input is a valid stream in a build that checks CRCs too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/stream.h"

#define MAX_RECORDS 512

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

/* Types worth turning a record into: each one the receiver knows, and an
 * optional one it does not. */
static const uint32_t types[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
				  0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x80000010u, 0x80000042u };

struct span {
	size_t off, len; /* a whole record: header and body */
};

static uint32_t le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* The records that fit whole after the header, up to the first one over
 * the record limit; the rest is left alone. */
static size_t split(const uint8_t *data, size_t size, struct span *rec)
{
	size_t n = 0;

	for (size_t pos = MIG_HEADER_LEN; n < MAX_RECORDS && size - pos >= MIG_RECORD_HDR_LEN;) {
		uint64_t len = MIG_RECORD_HDR_LEN + (uint64_t)le32(data + pos + 4);
		if (len > size - pos || len > MIG_RECORD_HDR_LEN + MIG_MAX_BODY)
			break;
		rec[n++] = (struct span){ pos, (size_t)len };
		pos += (size_t)len;
	}
	return n;
}

static void rewrite_header(uint8_t *rec, uint32_t type, uint32_t body_len)
{
	mig_record_header(rec, type, rec + MIG_RECORD_HDR_LEN, body_len);
}

/* Replaces [off, off + old) with new_len bytes of 'with'; the new size,
 * or 0 when it does not fit. */
static size_t splice(uint8_t *data, size_t size, size_t max_size, size_t off, size_t old,
		     const uint8_t *with, size_t new_len)
{
	if (size - old + new_len > max_size)
		return 0;
	memmove(data + off + new_len, data + off + old, size - off - old);
	if (new_len)
		memcpy(data + off, with, new_len);
	return size - old + new_len;
}

static size_t mutate_records(uint8_t *data, size_t size, size_t max_size, unsigned r)
{
	static struct span rec[MAX_RECORDS];
	static uint8_t copy[MIG_RECORD_HDR_LEN + MIG_MAX_BODY];
	size_t n = size > MIG_HEADER_LEN ? split(data, size, rec) : 0;

	if (!n)
		return 0;
	struct span a = rec[(r >> 3) % n];
	uint8_t *at = data + a.off;
	switch (r % 5) {
	case 0: /* drop one */
		return splice(data, size, max_size, a.off, a.len, NULL, 0);
	case 1: /* send one twice */
		memcpy(copy, at, a.len);
		return splice(data, size, max_size, a.off + a.len, 0, copy, a.len);
	case 2: { /* swap one with the next */
		if ((r >> 3) % n + 1 >= n)
			return 0;
		struct span b = rec[(r >> 3) % n + 1];
		memcpy(copy, data + b.off, b.len);
		memmove(data + a.off + b.len, at, a.len);
		memcpy(at, copy, b.len);
		return size;
	}
	case 3: { /* another type, same body */
		uint32_t type = types[(r >> 12) % (sizeof(types) / sizeof(types[0]))];
		rewrite_header(at, type, (uint32_t)(a.len - MIG_RECORD_HDR_LEN));
		return size;
	}
	default: { /* its body mutated, within the record limit */
		size_t body = a.len - MIG_RECORD_HDR_LEN;
		size_t room = max_size - (size - body) < MIG_MAX_BODY ? max_size - (size - body)
								       : MIG_MAX_BODY;
		if (!body || room < body)
			return 0; /* empty bodies are libFuzzer's to grow */
		memcpy(copy, at, a.len);
		size_t len = LLVMFuzzerMutate(copy + MIG_RECORD_HDR_LEN, body, room);
		rewrite_header(copy, le32(copy), (uint32_t)len);
		return splice(data, size, max_size, a.off, a.len, copy, MIG_RECORD_HDR_LEN + len);
	}
	}
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	unsigned r = (unsigned)rand_r(&seed);

	if (r & 1) {
		size_t got = mutate_records(data, size, max_size, r >> 1);
		if (got)
			return got;
	}
	return LLVMFuzzerMutate(data, size, max_size);
}
