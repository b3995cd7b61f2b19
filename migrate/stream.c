/* Migration stream codec; see stream.h and docs/migration-stream.md. */
#include "migrate/stream.h"
#include "migrate/disk_stream.h" /* the disk record types, for their names */

#include "hv/lib/crc32c.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/lib/wire.h"

/* Fuzzing builds skip the CRC checks so mutated input reaches the parsers. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define crc_ok(stored, computed) ((void)(stored), (void)(computed), 1)
#else
#define crc_ok(stored, computed) ((stored) == (computed))
#endif

void mig_header_encode(const struct mig_header *h, uint8_t out[MIG_HEADER_LEN])
{
	memset(out, 0, MIG_HEADER_LEN);
	memcpy(out, MIG_MAGIC, 8);
	put_le16(out + 8, h->version);
	put_le16(out + 10, MIG_HEADER_LEN);
	put_le32(out + 12, h->page_size);
	put_le64(out + 16, h->source_id);
	put_le64(out + 24, h->vm_uid);
	memcpy(out + 32, h->source_name, strnlen(h->source_name, MIG_NAME_LEN));
	put_le32(out + 56, h->flags);
	put_le32(out + 60, crc32c(0, out, 60));
}

static int bad(char *err, size_t errlen, const char *what)
{
	str_copy(err, what, errlen);
	return -1;
}

int mig_header_decode(const uint8_t *buf, size_t len, struct mig_header *h, char *err,
		      size_t errlen)
{
	if (len < MIG_HEADER_LEN)
		return bad(err, errlen, "stream header truncated");
	if (memcmp(buf, MIG_MAGIC, 8))
		return bad(err, errlen, "not a migration stream (bad magic)");
	h->version = get_le16(buf + 8);
	if (h->version != MIG_VERSION) {
		fmt_snprintf(err, errlen, "stream version %u, this hypervisor reads version %u",
			     h->version, MIG_VERSION);
		return -1;
	}
	if (get_le16(buf + 10) != MIG_HEADER_LEN)
		return bad(err, errlen, "stream header has the wrong length");
	if (!crc_ok(get_le32(buf + 60), crc32c(0, buf, 60)))
		return bad(err, errlen, "stream header CRC mismatch");
	h->page_size = get_le32(buf + 12);
	if (h->page_size != MIG_PAGE_SIZE)
		return bad(err, errlen, "stream page size is not 4096");
	h->source_id = get_le64(buf + 16);
	h->vm_uid = get_le64(buf + 24);
	memcpy(h->source_name, buf + 32, MIG_NAME_LEN);
	h->source_name[MIG_NAME_LEN - 1] = '\0';
	h->flags = get_le32(buf + 56);
	if (h->flags & ~MIG_HDR_FLAGS_KNOWN) {
		fmt_snprintf(err, errlen, "stream header has unknown flags 0x%x",
			     h->flags & ~MIG_HDR_FLAGS_KNOWN);
		return -1;
	}
	return 0;
}

void mig_record_header(uint8_t out[MIG_RECORD_HDR_LEN], uint32_t type, const void *body,
		       uint32_t len)
{
	put_le32(out, type);
	put_le32(out + 4, len);
	put_le32(out + 8, crc32c(0, body, len));
	put_le32(out + 12, crc32c(0, out, 12));
}

long mig_record_decode(const uint8_t *buf, size_t len, size_t max_body, struct mig_record *r,
		       char *err, size_t errlen)
{
	if (len < MIG_RECORD_HDR_LEN)
		return 0;
	if (!crc_ok(get_le32(buf + 12), crc32c(0, buf, 12)))
		return bad(err, errlen, "record header CRC mismatch");
	r->type = get_le32(buf);
	r->len = get_le32(buf + 4);
	if (r->len > max_body) {
		char name[24];
		fmt_snprintf(err, errlen, "%s record of %u bytes is over the limit of %zu",
			     mig_record_name(r->type, name, sizeof(name)), r->len, max_body);
		return -1;
	}
	if (len - MIG_RECORD_HDR_LEN < r->len)
		return 0;
	r->body = buf + MIG_RECORD_HDR_LEN;
	if (!crc_ok(get_le32(buf + 8), crc32c(0, r->body, r->len))) {
		char name[24];
		fmt_snprintf(err, errlen, "%s record body CRC mismatch",
			     mig_record_name(r->type, name, sizeof(name)));
		return -1;
	}
	return (long)(MIG_RECORD_HDR_LEN + r->len);
}

const char *mig_record_name(uint32_t type, char *buf, size_t size)
{
	static const struct { uint32_t type; const char *name; } names[] = {
		{ MIG_REC_VM_CONFIG, "VM_CONFIG" }, { MIG_REC_PAGES, "PAGES" },
		{ MIG_REC_VCPU, "VCPU" }, { MIG_REC_LAPIC, "LAPIC" }, { MIG_REC_UART, "UART" },
		{ MIG_REC_PLATFORM, "PLATFORM" }, { MIG_REC_END, "END" }, { MIG_REC_GO, "GO" },
		{ MIG_REC_ABORT, "ABORT" }, { MIG_REC_DEVICE, "DEVICE" },
		{ MIG_REC_MODULES, "MODULES" }, { MIG_REC_AP_STATE, "AP_STATE" }, { MIG_REC_ROUND, "ROUND" },
		{ MIG_REC_PLACEMENT, "PLACEMENT" },
		{ MIG_REC_READY, "READY" }, { MIG_REC_REJECT, "REJECT" },
		{ MIG_REC_RUNNING, "RUNNING" }, { MIG_REC_DISK_OFFER, "DISK_OFFER" },
		{ MIG_REC_DISK_START, "DISK_START" }, { MIG_REC_DISK_BLOCKS, "DISK_BLOCKS" },
		{ MIG_REC_DISK_BULK_END, "DISK_BULK_END" }, { MIG_REC_DISK_END, "DISK_END" },
		{ MIG_REC_DISK_ACCEPT, "DISK_ACCEPT" }, { MIG_REC_DISK_DONE, "DISK_DONE" },
		{ MIG_REC_DISK_CHECKING, "DISK_CHECKING" }, { MIG_REC_SEED, "SEED" },
		{ MIG_REC_SIG_MISSES, "SIG_MISSES" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == type)
			return names[i].name;
	fmt_snprintf(buf, size, "type 0x%x", type);
	return buf;
}

void mig_pages_begin(struct mig_pages_writer *w, uint8_t *body)
{
	*w = (struct mig_pages_writer){ .body = body, .len = 8 };
}

void mig_pages_add(struct mig_pages_writer *w, uint64_t gfn, enum mig_page_type type,
		   const void *data)
{
	put_le64(w->body + w->len, (gfn & MIG_GFN_MASK) | ((uint64_t)type << MIG_ENTRY_TYPE_SHIFT));
	w->len += 8;
	if (type == MIG_PAGE_NORMAL) {
		memcpy(w->body + w->len, data, MIG_PAGE_SIZE);
		w->len += MIG_PAGE_SIZE;
	} else if (type == MIG_PAGE_SIGNATURE) {
		memcpy(w->body + w->len, data, MIG_SIG_LEN);
		w->len += MIG_SIG_LEN;
	}
	w->count++;
}

uint8_t *mig_pages_delta_room(struct mig_pages_writer *w)
{
	return w->body + w->len + 12;
}

void mig_pages_add_delta(struct mig_pages_writer *w, uint64_t gfn, uint32_t len)
{
	put_le64(w->body + w->len,
		 (gfn & MIG_GFN_MASK) | ((uint64_t)MIG_PAGE_DELTA << MIG_ENTRY_TYPE_SHIFT));
	put_le32(w->body + w->len + 8, len);
	w->len += 12 + len;
	w->count++;
}

uint32_t mig_pages_end(struct mig_pages_writer *w)
{
	put_le32(w->body, w->count);
	put_le32(w->body + 4, 0);
	return (uint32_t)w->len;
}

int mig_pages_open(struct mig_pages_reader *r, const uint8_t *body, size_t len, char *err,
		   size_t errlen)
{
	if (len < 8)
		return bad(err, errlen, "PAGES record shorter than its count");
	*r = (struct mig_pages_reader){ .body = body, .len = len, .pos = 8,
					.count = get_le32(body) };
	if (get_le32(body + 4))
		return bad(err, errlen, "PAGES record reserved field is not zero");
	if (r->count == 0 || r->count > MIG_MAX_BATCH)
		return bad(err, errlen, "PAGES record count out of range (1-32)");
	return 0;
}

int mig_pages_next(struct mig_pages_reader *r, uint64_t *gfn, enum mig_page_type *type,
		   const uint8_t **data, char *err, size_t errlen)
{
	if (r->seen == r->count) {
		if (r->pos != r->len)
			return bad(err, errlen, "PAGES record has bytes after its last entry");
		return 0;
	}
	if (r->len - r->pos < 8)
		return bad(err, errlen, "PAGES record truncated in an entry");
	uint64_t e = get_le64(r->body + r->pos);
	r->pos += 8;
	if (e & ~(MIG_GFN_MASK | (0xfull << MIG_ENTRY_TYPE_SHIFT)))
		return bad(err, errlen, "PAGES entry has reserved bits set");
	unsigned t = (unsigned)(e >> MIG_ENTRY_TYPE_SHIFT) & 0xf;
	if (t >= MIG_PAGE_TYPES)
		return bad(err, errlen, "PAGES entry of unknown type");
	*gfn = e & MIG_GFN_MASK;
	*type = (enum mig_page_type)t;
	*data = NULL;
	r->data_len = 0;
	if (t == MIG_PAGE_DELTA) {
		if (r->len - r->pos < 4)
			return bad(err, errlen, "PAGES record truncated in a delta's length");
		uint32_t n = get_le32(r->body + r->pos);
		if (n == 0 || n > MIG_DELTA_MAX)
			return bad(err, errlen, "PAGES delta of a length out of range (1-4092)");
		if (r->len - r->pos - 4 < n)
			return bad(err, errlen, "PAGES record truncated in a delta");
		*data = r->body + r->pos + 4;
		r->pos += 4 + n;
		r->data_len = n;
	} else if (t == MIG_PAGE_NORMAL) {
		if (r->len - r->pos < MIG_PAGE_SIZE)
			return bad(err, errlen, "PAGES record truncated in page data");
		*data = r->body + r->pos;
		r->pos += MIG_PAGE_SIZE;
		r->data_len = MIG_PAGE_SIZE;
	} else if (t == MIG_PAGE_SIGNATURE) {
		if (r->len - r->pos < MIG_SIG_LEN)
			return bad(err, errlen, "PAGES record truncated in a signature");
		*data = r->body + r->pos;
		r->pos += MIG_SIG_LEN;
		r->data_len = MIG_SIG_LEN;
	}
	r->seen++;
	return 1;
}

uint32_t mig_seed_encode(const struct mig_seed_answer *s, uint8_t *body)
{
	put_le32(body, s->flags);
	put_le32(body + 4, 0);
	put_le64(body + 8, s->pages);
	return MIG_SEED_LEN;
}

int mig_seed_decode(const uint8_t *body, size_t len, struct mig_seed_answer *s, char *err,
		    size_t errlen)
{
	if (len != MIG_SEED_LEN)
		return bad(err, errlen, "SEED record of the wrong length");
	s->flags = get_le32(body);
	s->pages = get_le64(body + 8);
	if ((s->flags & ~MIG_SEED_HELD) || get_le32(body + 4))
		return bad(err, errlen, "SEED record has reserved bits set");
	if (!(s->flags & MIG_SEED_HELD) && s->pages)
		return bad(err, errlen, "SEED record counts pages of no image");
	return 0;
}

uint32_t mig_sig_misses_encode(const uint64_t *gfns, uint32_t count, uint8_t *body)
{
	put_le32(body, count);
	put_le32(body + 4, 0);
	for (uint32_t i = 0; i < count; i++)
		put_le64(body + 8 + 8 * i, gfns[i]);
	return 8 + 8 * count;
}

int mig_sig_misses_decode(const uint8_t *body, size_t len, uint64_t *gfns, uint32_t *count,
			  char *err, size_t errlen)
{
	if (len < 8)
		return bad(err, errlen, "SIG_MISSES record shorter than its count");
	uint32_t n = get_le32(body);
	if (n > MIG_SIG_MISSES_MAX || get_le32(body + 4))
		return bad(err, errlen, "SIG_MISSES record count out of range or reserved field set");
	if (len != 8 + 8 * (size_t)n)
		return bad(err, errlen, "SIG_MISSES record length does not match its count");
	for (uint32_t i = 0; i < n; i++) {
		gfns[i] = get_le64(body + 8 + 8 * i);
		if (gfns[i] & ~MIG_GFN_MASK)
			return bad(err, errlen, "SIG_MISSES entry is not a frame number");
	}
	*count = n;
	return 0;
}

uint32_t mig_text_encode(uint8_t *body, size_t cap, const char *text)
{
	size_t n = strnlen(text, cap);

	memcpy(body, text, n);
	return (uint32_t)n;
}

void mig_text_decode(const uint8_t *body, size_t len, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < size; i++)
		out[n++] = body[i] >= 0x20 && body[i] < 0x7f ? (char)body[i] : '?';
	out[n] = '\0';
}
