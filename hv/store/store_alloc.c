/* The block allocator: the bitmap pages (what the device says), and in
 * memory the blocks that may not be handed out: allocated ones, and ones
 * freed by the open transaction. A freed block is reusable only once the
 * transaction freeing it is committed, or a crash could leave the old
 * owner's map pointing at someone else's data. */
#include "hv/store/store_internal.h"

#include "hv/lib/bitmap.h"
#include "hv/lib/byteorder.h"

bool store_block_in_data(const struct store *s, uint64_t block)
{
	return block >= s->sb.lay.data_start && block < s->sb.lay.total_blocks;
}

int store_alloc_init(struct store *s)
{
	size_t bytes = BITMAP_WORDS(s->sb.lay.total_blocks) * 8;

	s->alloc = store_alloc(s, bytes);
	s->freeing = store_alloc(s, bytes);
	return s->alloc && s->freeing ? STORE_OK : STORE_EIO;
}

/* Sets or clears block's bit in its bitmap page, which joins the open
 * transaction. */
static void page_bit(struct store *s, uint64_t block, bool set)
{
	struct mpage *mp = &s->bitmap[block / STORE_BITMAP_BITS];
	uint64_t bit = block % STORE_BITMAP_BITS;
	uint8_t *word = mp->buf + MH_SIZE + 8 * (bit / 64);
	uint64_t v = get_le64(word);

	v = set ? v | 1ull << (bit % 64) : v & ~(1ull << (bit % 64));
	put_le64(word, v);
	store_mark_dirty(s, mp);
}

uint64_t store_block_alloc(struct store *s)
{
	const struct store_layout *l = &s->sb.lay;
	size_t b;

	if (s->free_blocks == 0)
		return 0;
	if (s->alloc_hint < l->data_start || s->alloc_hint >= l->total_blocks)
		s->alloc_hint = l->data_start;
	b = bitmap_next_clear(s->alloc, l->total_blocks, s->alloc_hint);
	if (b == BITMAP_NONE)
		b = bitmap_next_clear(s->alloc, l->total_blocks, l->data_start);
	if (b == BITMAP_NONE || b < l->data_start)
		return 0;
	bitmap_set(s->alloc, b);
	s->free_blocks--;
	s->alloc_hint = b + 1;
	page_bit(s, b, true);
	return b;
}

void store_block_free(struct store *s, uint64_t block)
{
	if (!store_block_in_data(s, block) || bitmap_test(s->freeing, block))
		return;
	page_bit(s, block, false);
	bitmap_set(s->freeing, block);
	s->freeing_count++;
}

/* The transaction is durable: what it freed can be handed out. */
void store_alloc_commit_done(struct store *s)
{
	size_t nbits = s->sb.lay.total_blocks;

	if (!s->freeing_count)
		return;
	bitmap_for_each_set(b, s->freeing, nbits) {
		bitmap_clear(s->freeing, b);
		if (bitmap_test(s->alloc, b)) {
			bitmap_clear(s->alloc, b);
			s->free_blocks++;
		}
	}
	s->freeing_count = 0;
	s->full = false;
	s->alloc_hint = s->sb.lay.data_start;
}
