/* Disk records: one disk table page per slot (docs/datastore.md, "Disk
 * table"). Decoding checks every field: they come from the device. */
#include "hv/store/store_internal.h"

#include "hv/lib/byteorder.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"

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
	if (d->size == 0 || d->size % STORE_SECTOR)
		return "bad size";
	if (get_le32(p + DR_BLOCK_SIZE) != s->sb.lay.block_size)
		return "bad block size";
	if (d->parent_slot > STORE_MAX_DISKS || (d->parent_slot == 0) !=
						      store_uuid_is_zero(&d->parent_uuid))
		return "bad parent reference";
	return NULL;
}

static const char *decode_map(const struct store *s, const uint8_t *p, struct sdisk *d)
{
	uint64_t max_blocks = (uint64_t)STORE_L1_MAX * s->sb.lay.pages_per_block * STORE_L2_ENTRIES;

	if (d->size / s->sb.lay.block_size >= max_blocks)
		return "bad size";
	store_map_geometry(s, d);
	if (get_le32(p + DR_CHUNKS) != d->chunks || d->allocated > d->nblocks)
		return "bad map size";
	for (uint32_t c = 0; c < STORE_L1_MAX; c++) {
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

struct sdisk *store_find(const struct store *s, const char *name)
{
	for (unsigned slot = 0; slot < STORE_MAX_DISKS; slot++)
		if (s->disks[slot] && !strcmp(s->disks[slot]->name, name))
			return s->disks[slot];
	return NULL;
}
