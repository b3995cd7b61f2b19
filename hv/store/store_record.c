/* Disk records: one disk table page per slot (docs/datastore.md, "Disk
 * table"). Decoding checks every field: they come from the device. */
#include "hv/store/store_internal.h"

#include "hv/lib/byteorder.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"

_Static_assert(DR_L1 + 4 * STORE_FRAGMENT_MAX_CHUNKS == DR_FRAG_OFFSET &&
		       DR_FRAG_PROGRESS + 4 == STORE_CRC_OFF &&
		       DR_L1 + 4 * STORE_L1_MAX == STORE_CRC_OFF,
	       "a fragment's progress fields are the last 16 bytes of L1");

void store_record_encode(const struct store *s, struct sdisk *d)
{
	uint8_t *p = d->rec->buf;

	memset(p + MH_SIZE, 0, STORE_CRC_OFF - MH_SIZE);
	memcpy(p + DR_UUID, d->uuid.b, 16);
	memcpy(p + DR_CONTENT_ID, d->content_id.b, 16);
	if (d->parent)
		memcpy(p + DR_PARENT_UUID, d->parent->uuid.b, 16);
	memcpy(p + DR_NAME, d->name, strnlen(d->name, STORE_NAME_MAX - 1));
	put_le64(p + DR_SIZE, d->size);
	put_le64(p + DR_CREATED, d->created_s);
	put_le64(p + DR_ALLOCATED, d->allocated);
	put_le64(p + DR_CREATE_SEQ, d->create_seq);
	put_le32(p + DR_FLAGS, d->flags | STORE_DF_IN_USE);
	put_le32(p + DR_PARENT_SLOT, d->parent ? d->parent->slot + 1 : 0);
	put_le32(p + DR_BLOCK_SIZE, s->sb.lay.block_size);
	put_le32(p + DR_CHUNKS, d->chunks);
	for (uint32_t c = 0; c < d->chunks; c++)
		put_le32(p + DR_L1 + 4 * c, d->l1[c]);
	if (store_is_fragment(d)) {
		put_le64(p + DR_FRAG_OFFSET, d->frag_offset);
		put_le32(p + DR_FRAG_CRC, d->frag_crc);
		put_le32(p + DR_FRAG_PROGRESS, d->frag_progress_s);
	}
}

static const char *decode_fields(const struct store *s, const uint8_t *p, struct sdisk *d)
{
	memcpy(d->uuid.b, p + DR_UUID, 16);
	memcpy(d->content_id.b, p + DR_CONTENT_ID, 16);
	memcpy(d->parent_uuid.b, p + DR_PARENT_UUID, 16);
	memcpy(d->name, p + DR_NAME, STORE_NAME_MAX);
	d->size = get_le64(p + DR_SIZE);
	d->created_s = get_le64(p + DR_CREATED);
	d->allocated = get_le64(p + DR_ALLOCATED);
	d->create_seq = get_le64(p + DR_CREATE_SEQ);
	d->flags = get_le32(p + DR_FLAGS);
	d->parent_slot = get_le32(p + DR_PARENT_SLOT);
	if (d->name[STORE_NAME_MAX - 1] || !store_name_valid_ext(d->name, true))
		return "bad name";
	if (d->flags & ~STORE_DF_KNOWN)
		return "unknown flags";
	if ((d->flags & STORE_DF_BASE) && (d->flags & STORE_DF_OPEN_WRITE))
		return "a base disk open for writing";
	if ((d->flags & STORE_DF_BASE) && (d->flags & STORE_DF_FRAGMENT))
		return "a base disk marked as a fragment";
	if (d->size == 0 || d->size % STORE_SECTOR)
		return "bad size";
	if (get_le32(p + DR_BLOCK_SIZE) != s->sb.lay.block_size)
		return "bad block size";
	if (d->parent_slot > STORE_MAX_DISKS || (d->parent_slot == 0) !=
						      store_uuid_is_zero(&d->parent_uuid))
		return "bad parent reference";
	return NULL;
}

/* A fragment's progress fields take the place of its last L1 entries. */
static const char *decode_fragment(const uint8_t *p, struct sdisk *d)
{
	if (d->chunks > STORE_FRAGMENT_MAX_CHUNKS)
		return "fragment too large";
	d->frag_offset = get_le64(p + DR_FRAG_OFFSET);
	d->frag_crc = get_le32(p + DR_FRAG_CRC);
	d->frag_progress_s = get_le32(p + DR_FRAG_PROGRESS);
	if (d->frag_offset > d->size)
		return "fragment offset past the end";
	return NULL;
}

static const char *decode_map(const struct store *s, const uint8_t *p, struct sdisk *d)
{
	uint64_t max_blocks = (uint64_t)STORE_L1_MAX * s->sb.lay.pages_per_block * STORE_L2_ENTRIES;
	uint32_t l1_entries = STORE_L1_MAX;
	const char *what;

	if (d->size / s->sb.lay.block_size >= max_blocks)
		return "bad size";
	store_map_geometry(s, d);
	if (get_le32(p + DR_CHUNKS) != d->chunks || d->allocated > d->nblocks)
		return "bad map size";
	if (store_is_fragment(d)) {
		what = decode_fragment(p, d);
		if (what)
			return what;
		l1_entries = STORE_FRAGMENT_MAX_CHUNKS;
	}
	for (uint32_t c = 0; c < l1_entries; c++) {
		uint32_t e = get_le32(p + DR_L1 + 4 * c);
		if (c >= d->chunks && e)
			return "map entry past the end";
		if (c < d->chunks)
			d->l1[c] = e;
	}
	return NULL;
}

int store_record_decode(struct store *s, const uint8_t *page, struct sdisk *d, char *why,
			size_t whylen)
{
	const char *what;

	if (!(get_le32(page + DR_FLAGS) & STORE_DF_IN_USE)) {
		static const uint8_t zeros[STORE_CRC_OFF - MH_SIZE];
		if (memcmp(page + MH_SIZE, zeros, sizeof(zeros))) {
			fmt_snprintf(why, whylen, "free slot with contents");
			return STORE_ECORRUPT;
		}
		return STORE_ENOENT;
	}
	what = decode_fields(s, page, d);
	if (!what)
		what = decode_map(s, page, d);
	if (what) {
		fmt_snprintf(why, whylen, "%s", what);
		return STORE_ECORRUPT;
	}
	return STORE_OK;
}

struct sdisk *store_sdisk_new(struct store *s, unsigned slot)
{
	struct sdisk *d = store_alloc(s, sizeof(*d));

	if (d) {
		d->slot = slot;
		d->rec = &s->recs[slot];
	}
	return d;
}

void store_sdisk_free(struct store *s, struct sdisk *d)
{
	store_map_release(s, d);
	store_free(s, d, sizeof(*d));
}

bool store_is_fragment(const struct sdisk *d)
{
	return (d->flags & STORE_DF_FRAGMENT) != 0;
}

static struct sdisk *find_named(const struct store *s, const char *name, bool fragment)
{
	for (unsigned slot = 0; slot < STORE_MAX_DISKS; slot++) {
		struct sdisk *d = s->disks[slot];
		if (d && store_is_fragment(d) == fragment && !strcmp(d->name, name))
			return d;
	}
	return NULL;
}

struct sdisk *store_find(const struct store *s, const char *name)
{
	return find_named(s, name, false);
}

struct sdisk *store_find_fragment(const struct store *s, const char *name)
{
	return find_named(s, name, true);
}
