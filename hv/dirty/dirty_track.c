#include "hv/dirty/dirty_track.h"

#include "hv/lib/bitmap.h"
#include "hv/lib/string.h"

#define RO (PT_R | PT_X)

const char *dirty_mode_name(enum dirty_mode m)
{
	static const char *const names[DIRTY_MODE_COUNT] = {
		[DIRTY_MODE_WP] = "wp", [DIRTY_MODE_AD] = "ad", [DIRTY_MODE_PML] = "pml",
	};

	return m < DIRTY_MODE_COUNT ? names[m] : "?";
}

bool dirty_mode_parse(const char *word, enum dirty_mode *out)
{
	for (int m = 0; m < DIRTY_MODE_COUNT; m++)
		if (!strcmp(word, dirty_mode_name((enum dirty_mode)m))) {
			*out = (enum dirty_mode)m;
			return true;
		}
	return false;
}

const char *dirty_gran_name(enum dirty_gran g)
{
	return g == DIRTY_GRAN_2M ? "2m" : "4k";
}

size_t dirty_track_words(const struct dirty_track *t)
{
	return BITMAP_WORDS(t->npages);
}

/* The span of 'per' pages holding page p: [first, first + count), clipped. */
static void span_of(const struct dirty_track *t, size_t page, size_t per, size_t *first,
		    size_t *count)
{
	*first = page - page % per;
	*count = *first + per <= t->npages ? per : t->npages - *first;
}

/* The unit holding page p. */
static void unit_of(const struct dirty_track *t, size_t page, size_t *first, size_t *count)
{
	span_of(t, page, t->gran == DIRTY_GRAN_2M ? DIRTY_REGION_PAGES : 1, first, count);
}

static uint64_t unit_bytes(const struct dirty_track *t)
{
	return t->gran == DIRTY_GRAN_2M ? DIRTY_REGION : DIRTY_PAGE;
}

static void mark_page(struct dirty_track *t, size_t page)
{
	size_t first, count;

	unit_of(t, page, &first, &count);
	bitmap_set_range(t->log, first, count);
}

static bool clean_leaf(void *ctx, uint64_t va, uint64_t *entry, uint64_t size)
{
	(void)va;
	(void)size;
	*entry &= ~((const struct pt_format *)ctx)->dirty;
	return true;
}

int dirty_track_arm(struct dirty_track *t)
{
	t->npages = (size_t)(t->size / DIRTY_PAGE);
	if (t->gran == DIRTY_GRAN_4K) {
		int err = pt_split(t->pt, 0, t->size);
		if (err)
			return err;
	}
	if (t->mode == DIRTY_MODE_WP)
		return pt_protect(t->pt, 0, t->size, RO);
	pt_for_each_leaf(t->pt, 0, t->size, clean_leaf, (void *)t->pt->fmt);
	return PT_OK;
}

void dirty_track_mark(struct dirty_track *t, uint64_t gpa)
{
	if (gpa < t->size)
		mark_page(t, (size_t)(gpa / DIRTY_PAGE));
}

/* Makes the pages [first, first + count) writable and marks them, for a
 * write fault at gpa; false when tracking did not cause it. A region
 * fault opens a whole 2 MiB region (dirty_track_write_fault_region). */
static bool unprotect(struct dirty_track *t, uint64_t gpa, size_t first, size_t count,
		      bool region)
{
	struct pt_mapping m;

	if (t->mode != DIRTY_MODE_WP || gpa >= t->size || !pt_lookup(t->pt, gpa, &m))
		return false;
	/* Already writable: a stale translation raced the unprotect; retry. */
	if (!(m.prot & PT_W)) {
		if (pt_protect(t->pt, first * DIRTY_PAGE, count * DIRTY_PAGE, PT_RWX))
			return false;
		t->faults++;
		t->region_faults += region;
	}
	bitmap_set_range(t->log, first, count);
	return true;
}

bool dirty_track_write_fault(struct dirty_track *t, uint64_t gpa)
{
	size_t first = 0, count = 0;

	if (gpa < t->size)
		unit_of(t, (size_t)(gpa / DIRTY_PAGE), &first, &count);
	return unprotect(t, gpa, first, count, false);
}

bool dirty_track_write_fault_region(struct dirty_track *t, uint64_t gpa)
{
	size_t first = 0, count = 0;

	if (gpa < t->size)
		span_of(t, (size_t)(gpa / DIRTY_PAGE), DIRTY_REGION_PAGES, &first, &count);
	return unprotect(t, gpa, first, count, true);
}

void dirty_track_pml_entries(struct dirty_track *t, const uint64_t *entries, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dirty_track_mark(t, entries[i] & ~0xfffull);
	t->pml_entries += n;
}

struct ad_scan {
	struct dirty_track *t;
	uint64_t dirty_bit;
};

/* A dirty leaf marks every unit it covers and is cleaned. */
static bool harvest_leaf(void *ctx, uint64_t va, uint64_t *entry, uint64_t size)
{
	struct ad_scan *s = ctx;

	if (!(*entry & s->dirty_bit))
		return true;
	*entry &= ~s->dirty_bit;
	for (uint64_t off = 0; off < size && va + off < s->t->size; off += DIRTY_PAGE)
		mark_page(s->t, (size_t)((va + off) / DIRTY_PAGE));
	return true;
}

/* Re-arms one marked unit after it was handed out; PT_OK or the error that
 * left it writable. */
static int rearm_unit(struct dirty_track *t, size_t first)
{
	uint64_t gpa = first * DIRTY_PAGE;

	if (t->mode == DIRTY_MODE_WP)
		return pt_protect(t->pt, gpa, unit_bytes(t), RO);
	if (t->mode == DIRTY_MODE_PML) {
		/* The CPU logs a page when it sets the dirty bit: clear it so the
		 * next write is logged again. */
		pt_for_each_leaf(t->pt, gpa, unit_bytes(t), clean_leaf, (void *)t->pt->fmt);
	}
	return PT_OK;
}

size_t dirty_track_harvest(struct dirty_track *t, uint64_t *out)
{
	size_t added = 0;

	if (t->mode == DIRTY_MODE_AD) {
		struct ad_scan s = { t, t->pt->fmt->dirty };
		pt_for_each_leaf(t->pt, 0, t->size, harvest_leaf, &s);
	}
	for (size_t page = bitmap_next_set(t->log, t->npages, 0); page != BITMAP_NONE;
	     page = bitmap_next_set(t->log, t->npages, page + 1)) {
		if (!bitmap_test(out, page)) {
			bitmap_set(out, page);
			added++;
		}
	}
	/* Marks cover whole units; each one is re-armed and leaves the log. A
	 * unit that stays writable stays in the log: it is reported in every
	 * harvest until a re-arm succeeds, so no write is lost. */
	for (size_t page = bitmap_next_set(t->log, t->npages, 0); page != BITMAP_NONE;) {
		size_t first, count;
		unit_of(t, page, &first, &count);
		if (rearm_unit(t, first) == PT_OK)
			bitmap_clear_range(t->log, first, count);
		else
			t->rearm_failures++;
		page = first + count < t->npages ? bitmap_next_set(t->log, t->npages, first + count)
						 : BITMAP_NONE;
	}
	return added;
}

int dirty_track_disarm(struct dirty_track *t)
{
	if (t->mode == DIRTY_MODE_WP)
		return pt_protect(t->pt, 0, t->size, PT_RWX);
	return PT_OK;
}
