/* Disk record bodies; see disk_stream.h and docs/migration-stream.md
 * ("Disks"). Fixed-size bodies are read at fixed offsets: the offsets are
 * the document's table, and the length is checked first. */
#include "migrate/disk_stream.h"

#include <stdarg.h>

#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/lib/wire.h"

/* Body offsets (docs/migration-stream.md, "Disks"). */
enum {
	OFFER_INDEX = 0, OFFER_FLAGS = 4, OFFER_NAME = 8,
	OFFER_UUID = OFFER_NAME + MIG_DISK_NAME_LEN,
	OFFER_CONTENT = OFFER_UUID + MIG_DISK_ID_LEN,
	OFFER_SIZE = OFFER_CONTENT + MIG_DISK_ID_LEN,
	OFFER_ALLOCATED = OFFER_SIZE + 8,
	OFFER_NANCESTORS = OFFER_ALLOCATED + 8,
	OFFER_ANCESTORS = OFFER_NANCESTORS + 4,
};
_Static_assert(OFFER_ANCESTORS + MIG_DISK_MAX_ANCESTORS * MIG_DISK_ID_LEN == MIG_DISK_OFFER_LEN,
	       "DISK_OFFER layout");
/* A DISK_BLOCKS record of full extents must pass the record decoder's
 * limit, which is sized for a PAGES batch. */
_Static_assert(MIG_DISK_BLOCKS_MAX_BODY <= MIG_MAX_BODY, "DISK_BLOCKS over MIG_MAX_BODY");

static int refuse(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int check_len(const char *rec, size_t len, size_t want, char *err, size_t errlen)
{
	if (len != want)
		return refuse(err, errlen, "%s: body of %zu bytes, expected %zu", rec, len, want);
	return 0;
}

static int check_index(const char *rec, uint32_t index, char *err, size_t errlen)
{
	if (index >= MIG_DISK_MAX)
		return refuse(err, errlen, "%s: index %u is out of range (0-%u)", rec, index,
			      MIG_DISK_MAX - 1);
	return 0;
}

/* A resume point: whole sectors, and no data has the CRC of no data. */
static int check_resume(const char *rec, uint64_t offset, uint32_t crc, char *err,
			size_t errlen)
{
	if (offset % MIG_DISK_SECTOR)
		return refuse(err, errlen, "%s: offset %llu is not a multiple of 512", rec,
			      (unsigned long long)offset);
	if (offset == 0 && crc != 0)
		return refuse(err, errlen, "%s: crc 0x%x with offset 0 (must be 0)", rec, crc);
	return 0;
}

static bool name_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-' || c == '@';
}

/* The datastore's rule for disk names (hv/store: 1-31 of [A-Za-z0-9._-],
 * and '@' in the names it gives snapshots, which travel as they are),
 * checked here so a bad name is the stream's error, not the store's; the
 * padding must be zero so that one offer has one encoding. */
static int check_name(const uint8_t *raw, char *err, size_t errlen)
{
	size_t n = strnlen((const char *)raw, MIG_DISK_NAME_LEN);

	if (n == MIG_DISK_NAME_LEN)
		return refuse(err, errlen, "DISK_OFFER: name is not NUL-terminated within %u bytes",
			      MIG_DISK_NAME_LEN);
	if (n == 0)
		return refuse(err, errlen, "DISK_OFFER: name is empty");
	for (size_t i = 0; i < n; i++)
		if (!name_char(raw[i]))
			return refuse(err, errlen,
				      "DISK_OFFER: name byte %zu is 0x%02x, not one of [A-Za-z0-9._@-]",
				      i, raw[i]);
	for (size_t i = n; i < MIG_DISK_NAME_LEN; i++)
		if (raw[i])
			return refuse(err, errlen, "DISK_OFFER: name padding byte %zu is not zero", i);
	return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

uint32_t mig_disk_offer_encode(const struct mig_disk_offer *o, uint8_t *body)
{
	uint32_t nanc = o->nancestors < MIG_DISK_MAX_ANCESTORS ? o->nancestors
							       : MIG_DISK_MAX_ANCESTORS;

	memset(body, 0, MIG_DISK_OFFER_LEN);
	put_le32(body + OFFER_INDEX, o->index);
	put_le32(body + OFFER_FLAGS, o->flags);
	/* At most 31 bytes: the name stays NUL-terminated on the wire. */
	memcpy(body + OFFER_NAME, o->name, strnlen(o->name, MIG_DISK_NAME_LEN - 1));
	memcpy(body + OFFER_UUID, o->uuid, MIG_DISK_ID_LEN);
	memcpy(body + OFFER_CONTENT, o->content_id, MIG_DISK_ID_LEN);
	put_le64(body + OFFER_SIZE, o->size);
	put_le64(body + OFFER_ALLOCATED, o->allocated_bytes);
	put_le32(body + OFFER_NANCESTORS, nanc);
	memcpy(body + OFFER_ANCESTORS, o->ancestors, (size_t)nanc * MIG_DISK_ID_LEN);
	return MIG_DISK_OFFER_LEN;
}

static int offer_fields_ok(const struct mig_disk_offer *o, const uint8_t *body, char *err,
			   size_t errlen)
{
	if (check_index("DISK_OFFER", o->index, err, errlen))
		return -1;
	if (o->flags & ~MIG_DISK_FLAGS_KNOWN)
		return refuse(err, errlen, "DISK_OFFER: unknown flags 0x%x",
			      o->flags & ~MIG_DISK_FLAGS_KNOWN);
	if (check_name(body + OFFER_NAME, err, errlen))
		return -1;
	if (o->size == 0)
		return refuse(err, errlen, "DISK_OFFER: size 0 is not positive");
	if (o->size % MIG_DISK_SECTOR)
		return refuse(err, errlen, "DISK_OFFER: size %llu is not a multiple of 512",
			      (unsigned long long)o->size);
	if (o->nancestors > MIG_DISK_MAX_ANCESTORS)
		return refuse(err, errlen, "DISK_OFFER: nancestors %u is over the limit of %u",
			      o->nancestors, MIG_DISK_MAX_ANCESTORS);
	for (uint32_t i = o->nancestors; i < MIG_DISK_MAX_ANCESTORS; i++)
		if (!all_zero(body + OFFER_ANCESTORS + i * MIG_DISK_ID_LEN, MIG_DISK_ID_LEN))
			return refuse(err, errlen,
				      "DISK_OFFER: ancestor slot %u is not zero (nancestors %u)", i,
				      o->nancestors);
	return 0;
}

int mig_disk_offer_decode(const uint8_t *body, size_t len, struct mig_disk_offer *o, char *err,
			  size_t errlen)
{
	memset(o, 0, sizeof(*o));
	if (check_len("DISK_OFFER", len, MIG_DISK_OFFER_LEN, err, errlen))
		return -1;
	o->index = get_le32(body + OFFER_INDEX);
	o->flags = get_le32(body + OFFER_FLAGS);
	memcpy(o->name, body + OFFER_NAME, MIG_DISK_NAME_LEN);
	memcpy(o->uuid, body + OFFER_UUID, MIG_DISK_ID_LEN);
	memcpy(o->content_id, body + OFFER_CONTENT, MIG_DISK_ID_LEN);
	o->size = get_le64(body + OFFER_SIZE);
	o->allocated_bytes = get_le64(body + OFFER_ALLOCATED);
	o->nancestors = get_le32(body + OFFER_NANCESTORS);
	if (offer_fields_ok(o, body, err, errlen)) {
		memset(o, 0, sizeof(*o));
		return -1;
	}
	memcpy(o->ancestors, body + OFFER_ANCESTORS, sizeof(o->ancestors));
	return 0;
}

uint32_t mig_disk_accept_encode(const struct mig_disk_accept *a, uint8_t *body)
{
	put_le32(body, a->index);
	put_le32(body + 4, a->base);
	put_le64(body + 8, a->offset);
	put_le32(body + 16, a->crc);
	return MIG_DISK_ACCEPT_LEN;
}

int mig_disk_accept_decode(const uint8_t *body, size_t len, struct mig_disk_accept *a,
			   char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	if (check_len("DISK_ACCEPT", len, MIG_DISK_ACCEPT_LEN, err, errlen))
		return -1;
	a->index = get_le32(body);
	a->base = get_le32(body + 4);
	a->offset = get_le64(body + 8);
	a->crc = get_le32(body + 16);
	int rc = check_index("DISK_ACCEPT", a->index, err, errlen);
	/* Whether the offer had that many ancestors is the sender's check. */
	if (!rc && a->base != MIG_DISK_NO_BASE && a->base >= MIG_DISK_MAX_ANCESTORS)
		rc = refuse(err, errlen, "DISK_ACCEPT: base %u is out of range (0-%u or 0x%x)",
			    a->base, MIG_DISK_MAX_ANCESTORS - 1, MIG_DISK_NO_BASE);
	if (!rc)
		rc = check_resume("DISK_ACCEPT", a->offset, a->crc, err, errlen);
	if (rc)
		memset(a, 0, sizeof(*a));
	return rc;
}

uint32_t mig_disk_start_encode(const struct mig_disk_start *s, uint8_t *body)
{
	put_le32(body, s->index);
	put_le64(body + 4, s->offset);
	put_le32(body + 12, s->crc);
	return MIG_DISK_START_LEN;
}

int mig_disk_start_decode(const uint8_t *body, size_t len, struct mig_disk_start *s, char *err,
			  size_t errlen)
{
	memset(s, 0, sizeof(*s));
	if (check_len("DISK_START", len, MIG_DISK_START_LEN, err, errlen))
		return -1;
	s->index = get_le32(body);
	s->offset = get_le64(body + 4);
	s->crc = get_le32(body + 12);
	int rc = check_index("DISK_START", s->index, err, errlen);
	if (!rc)
		rc = check_resume("DISK_START", s->offset, s->crc, err, errlen);
	if (rc)
		memset(s, 0, sizeof(*s));
	return rc;
}

uint32_t mig_disk_end_encode(const struct mig_disk_end *e, uint8_t *body)
{
	put_le32(body, e->index);
	memcpy(body + 4, e->content_id, MIG_DISK_ID_LEN);
	return MIG_DISK_END_LEN;
}

int mig_disk_end_decode(const uint8_t *body, size_t len, struct mig_disk_end *e, char *err,
			size_t errlen)
{
	memset(e, 0, sizeof(*e));
	if (check_len("DISK_END", len, MIG_DISK_END_LEN, err, errlen))
		return -1;
	if (check_index("DISK_END", get_le32(body), err, errlen))
		return -1;
	e->index = get_le32(body);
	memcpy(e->content_id, body + 4, MIG_DISK_ID_LEN);
	return 0;
}

uint32_t mig_disk_index_encode(uint32_t index, uint8_t *body)
{
	put_le32(body, index);
	return MIG_DISK_INDEX_LEN;
}

/* Shared by DISK_BULK_END and DISK_DONE, whose bodies are alike; the
 * caller knows which it has. */
int mig_disk_index_decode(const uint8_t *body, size_t len, uint32_t *index, char *err,
			  size_t errlen)
{
	*index = 0;
	if (check_len("DISK_BULK_END/DISK_DONE", len, MIG_DISK_INDEX_LEN, err, errlen))
		return -1;
	if (check_index("DISK_BULK_END/DISK_DONE", get_le32(body), err, errlen))
		return -1;
	*index = get_le32(body);
	return 0;
}

void mig_disk_blocks_begin(struct mig_disk_blocks_writer *w, uint8_t *body, uint32_t index)
{
	*w = (struct mig_disk_blocks_writer){ .body = body, .len = 8 };
	put_le32(body, index);
}

uint8_t *mig_disk_blocks_add(struct mig_disk_blocks_writer *w, uint64_t offset, uint32_t len,
			     enum mig_disk_extent_type type)
{
	uint8_t *e = w->body + w->len;

	put_le64(e, offset);
	put_le32(e + 8, len);
	put_le32(e + 12, (uint32_t)type);
	w->len += MIG_DISK_EXTENT_HDR;
	w->count++;
	if (type != MIG_DISK_DATA)
		return NULL;
	w->len += len;
	return e + MIG_DISK_EXTENT_HDR;
}

uint32_t mig_disk_blocks_end(struct mig_disk_blocks_writer *w)
{
	put_le32(w->body + 4, w->count);
	return (uint32_t)w->len;
}

int mig_disk_blocks_open(struct mig_disk_blocks_reader *r, const uint8_t *body, size_t len,
			 char *err, size_t errlen)
{
	*r = (struct mig_disk_blocks_reader){ .body = body, .len = len, .pos = 8 };
	if (len < 8)
		return refuse(err, errlen, "DISK_BLOCKS: body of %zu bytes, shorter than its header",
			      len);
	r->index = get_le32(body);
	r->count = get_le32(body + 4);
	if (check_index("DISK_BLOCKS", r->index, err, errlen))
		return -1;
	if (r->count == 0 || r->count > MIG_DISK_MAX_EXTENTS)
		return refuse(err, errlen, "DISK_BLOCKS: count %u is out of range (1-%u)", r->count,
			      MIG_DISK_MAX_EXTENTS);
	return 0;
}

static int check_extent(uint32_t i, uint64_t offset, uint32_t len, uint32_t type, char *err,
			size_t errlen)
{
	if (offset % MIG_DISK_SECTOR)
		return refuse(err, errlen, "DISK_BLOCKS: extent %u offset %llu is not a multiple of 512",
			      i, (unsigned long long)offset);
	if (len == 0 || len > MIG_DISK_EXTENT_MAX)
		return refuse(err, errlen, "DISK_BLOCKS: extent %u length %u is out of range (512-%u)",
			      i, len, MIG_DISK_EXTENT_MAX);
	if (len % MIG_DISK_SECTOR)
		return refuse(err, errlen, "DISK_BLOCKS: extent %u length %u is not a multiple of 512",
			      i, len);
	if (type >= MIG_DISK_EXTENT_TYPES)
		return refuse(err, errlen, "DISK_BLOCKS: extent %u type %u is unknown", i, type);
	if (offset > UINT64_MAX - len)
		return refuse(err, errlen, "DISK_BLOCKS: extent %u offset %llu + length %u overflows",
			      i, (unsigned long long)offset, len);
	return 0;
}

int mig_disk_blocks_next(struct mig_disk_blocks_reader *r, uint64_t *offset, uint32_t *len,
			 enum mig_disk_extent_type *type, const uint8_t **data, char *err,
			 size_t errlen)
{
	if (r->seen == r->count) {
		if (r->pos != r->len)
			return refuse(err, errlen, "DISK_BLOCKS: %zu bytes after the last extent",
				      r->len - r->pos);
		return 0;
	}
	if (r->len - r->pos < MIG_DISK_EXTENT_HDR)
		return refuse(err, errlen, "DISK_BLOCKS: truncated in extent %u's header", r->seen);
	const uint8_t *e = r->body + r->pos;
	uint64_t off = get_le64(e);
	uint32_t n = get_le32(e + 8), t = get_le32(e + 12);
	if (check_extent(r->seen, off, n, t, err, errlen))
		return -1;
	r->pos += MIG_DISK_EXTENT_HDR;
	*data = NULL;
	if (t == MIG_DISK_DATA) {
		if (r->len - r->pos < n)
			return refuse(err, errlen,
				      "DISK_BLOCKS: truncated in extent %u's data (%zu of %u bytes)",
				      r->seen, r->len - r->pos, n);
		*data = r->body + r->pos;
		r->pos += n;
	}
	*offset = off;
	*len = n;
	*type = (enum mig_disk_extent_type)t;
	r->seen++;
	return 1;
}
