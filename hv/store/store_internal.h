/* The datastore's in-memory state and the interfaces between its files.
 * Not for users of the store (they have store.h). */
#ifndef HV_STORE_STORE_INTERNAL_H
#define HV_STORE_STORE_INTERNAL_H

#include <stdarg.h>

#include "hv/store/store.h"
#include "hv/store/store_format.h"

/* Fuzzing builds skip the CRC checks (and the CRC computation, which
 * would dominate the run) so mutated input reaches the parsers. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define store_crc_ok(stored, computed) ((void)(stored), 1)
#else
#define store_crc_ok(stored, computed) ((stored) == (computed))
#endif

/* Data is moved in runs of up to this many blocks (one device request). */
#define STORE_BOUNCE_BLOCKS 16u
#define STORE_MAX_CHAIN STORE_MAX_DISKS

/* Where the region lies and a buffer for sub-device-block accesses. */
struct store_dev {
	struct blockdev *dev;
	uint64_t first_lba;
	uint64_t bytes;  /* of the region */
	uint8_t *rmw;    /* STORE_PAGE bytes, for reads/writes not aligned to the device block */
};

struct store_layout {
	uint64_t region_bytes; /* total_blocks * block_size */
	uint32_t block_size;
	uint32_t pages_per_block;
	uint64_t total_blocks;
	uint64_t journal_start, journal_pages;
	uint64_t bitmap_start, bitmap_pages;
	uint64_t disktab_start;
	uint64_t data_start; /* block */
};

struct store_sb {
	struct store_uuid uuid;
	uint64_t generation, created_s, seq_floor;
	struct store_layout lay;
};

/* A metadata page held in memory; written only through a transaction. */
struct mpage {
	uint8_t *buf;   /* STORE_PAGE bytes; NULL: absent (an unallocated map chunk) */
	uint64_t loc;   /* page number in the region */
	uint16_t type;  /* enum store_page_type */
	uint32_t owner; /* MH_OWNER */
	uint32_t index; /* MH_INDEX */
	bool dirty;
	bool bad;       /* failed its checks at open: what it maps is unreadable */
};

struct sdisk {
	unsigned slot;
	char name[STORE_NAME_MAX];
	struct store_uuid uuid, content_id, parent_uuid;
	struct sdisk *parent;
	unsigned parent_slot; /* as recorded: slot + 1, 0 none */
	uint64_t size, created_s, allocated, create_seq;
	uint32_t flags;
	uint64_t nblocks;  /* ceil(size / block_size) */
	uint32_t l2_pages; /* ceil(nblocks / STORE_L2_ENTRIES) */
	uint32_t chunks;   /* ceil(l2_pages / pages_per_block) */
	uint32_t l1[STORE_L1_MAX];
	struct mpage *l2;  /* [l2_pages] */
	struct mpage *rec; /* the disk table page: &store->recs[slot] */
	bool cid_committed; /* the content ID in memory is the committed one */
	unsigned open_writers, open_readers, children;
	/* STORE_DF_FRAGMENT only: the transfer's progress (DR_FRAG_*) */
	uint64_t frag_offset;
	uint32_t frag_crc;
	uint32_t frag_progress_s; /* as recorded: the low 32 bits */
};

struct store {
	struct store_dev sd;
	const struct store_env *env;
	struct store_sb sb;
	uint64_t store_tag;
	uint64_t seq; /* of the next transaction */
	unsigned sb_copy_written; /* the superblock copy the next update goes to */
	struct mpage *bitmap;    /* [bitmap_pages] */
	uint64_t *alloc;         /* in memory: allocated, or freed but not yet durable */
	uint64_t *freeing;       /* freed in the open transaction */
	uint64_t free_blocks;    /* allocatable now */
	uint64_t freeing_count;
	uint64_t alloc_hint;
	struct sdisk *disks[STORE_MAX_DISKS];
	struct mpage recs[STORE_MAX_DISKS]; /* the disk table */
	struct mpage **dirty;    /* the open transaction */
	unsigned ndirty, dirty_cap;
	uint8_t *bounce;         /* STORE_BOUNCE_BLOCKS blocks */
	uint8_t *fill;           /* one block: partial writes are merged here */
	uint8_t *staging;        /* STORE_BOUNCE_BLOCKS blocks of pages for the journal */
	bool read_only, full;
	char problem[160];
	uint64_t commits, replayed;
	unsigned open_handles;
};

struct store_disk {
	struct store *s;
	struct sdisk *d;
	bool writable;
};

/* ---- store_util.c ---- */
bool store_name_valid(const char *name);
bool store_name_valid_ext(const char *name, bool allow_at);
void *store_alloc(const struct store *s, size_t bytes);
void store_free(const struct store *s, void *p, size_t bytes);
void store_set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
uint64_t store_tag_of(const struct store_uuid *u);
bool store_uuid_is_zero(const struct store_uuid *u);

/* ---- store_dev.c: byte-addressed I/O inside the region ---- */
int store_dev_read(struct store_dev *sd, uint64_t off, void *buf, size_t len);
int store_dev_write(struct store_dev *sd, uint64_t off, const void *buf, size_t len);
int store_dev_flush(struct store_dev *sd);
bool store_dev_geometry_ok(const struct blockdev *dev, uint64_t first_lba, uint64_t blocks);

/* ---- store_meta.c: metadata page headers ---- */
void store_meta_seal(uint8_t *page, const struct mpage *mp, uint64_t seq, uint64_t tag);
/* 0 when the page is the expected one, else a reason in why. */
int store_meta_verify(const uint8_t *page, const struct mpage *expect, uint64_t tag, char *why,
		      size_t whylen);
uint32_t store_page_crc(const uint8_t *page);
bool store_page_crc_ok(const uint8_t *page);
void store_page_set_crc(uint8_t *page);
void store_mark_dirty(struct store *s, struct mpage *mp);
/* Free journal room for one more step that dirties up to 'pages'. */
int store_reserve(struct store *s, unsigned pages);

/* ---- store_super.c ---- */
int store_layout_compute(uint64_t region_bytes, uint32_t block_size, struct store_layout *out,
			 char *err, size_t errlen);
void store_sb_encode(const struct store_sb *sb, unsigned copy, uint8_t *page);
int store_sb_decode(const uint8_t *page, unsigned copy, uint64_t region_max, struct store_sb *sb,
		    char *why, size_t whylen);
int store_sb_write(struct store *s);

/* ---- store_journal.c ---- */
int store_commit(struct store *s);
int store_journal_mark_clean(struct store *s);
/* MH_AUX_CRC of a transaction's record pages. */
uint32_t store_journal_crc(const uint8_t *pages, unsigned count);
struct store_journal {
	uint8_t *records; /* count pages, sorted by location */
	unsigned count;
	uint64_t seq;     /* of the header, when it was readable */
	bool header_ok, committed, needs_replay;
};
/* Reads the journal; a torn or absent transaction is not an error. */
int store_journal_load(struct store *s, struct store_journal *j, char *why, size_t whylen);
const uint8_t *store_journal_find(const struct store_journal *j, uint64_t loc);
int store_journal_checkpoint(struct store *s, const struct store_journal *j);
void store_journal_release(struct store *s, struct store_journal *j);

/* ---- store_alloc.c ---- */
int store_alloc_init(struct store *s);
uint64_t store_block_alloc(struct store *s); /* 0 when full */
void store_block_free(struct store *s, uint64_t block);
void store_alloc_commit_done(struct store *s);
bool store_block_in_data(const struct store *s, uint64_t block);

/* ---- store_map.c ---- */
/* The block a disk itself maps for block index bi: 0 none, STORE_MAP_BAD
 * when the map page is damaged. */
#define STORE_MAP_BAD UINT64_MAX
uint64_t store_map_get(const struct store *s, const struct sdisk *d, uint64_t bi);
/* Sets an entry (allocating its chunk); @pre store_map_need() blocks are free */
int store_map_set(struct store *s, struct sdisk *d, uint64_t bi, uint64_t block);
/* Blocks store_map_set(bi) would allocate for the chunk: 0 or 1. */
unsigned store_map_need(const struct store *s, const struct sdisk *d, uint64_t bi);
void store_map_geometry(const struct store *s, struct sdisk *d);
int store_map_alloc_array(struct store *s, struct sdisk *d);
void store_map_release(struct store *s, struct sdisk *d);
void store_map_free_blocks(struct store *s, struct sdisk *d);

/* ---- store_disk.c ---- */
/* Commits; an I/O error turns the store read-only. */
int store_commit_op(struct store *s, char *err, size_t errlen);
/* Frees d's blocks and its slot, committed. @pre nothing has d open or
 * depends on it */
int store_disk_remove(struct store *s, struct sdisk *d, char *err, size_t errlen);

/* ---- store_disk_checks.c ---- */
/* STORE_EROFS with the reason when the store is read-only. */
int store_writable(const struct store *s, char *err, size_t errlen);
/* A free disk table slot (not a damaged one), or -1. */
int store_free_slot(const struct store *s);
/* A name for a new disk or fragment: valid, held by neither, a slot free. */
int store_check_new_name(struct store *s, const char *name, bool allow_at, char *err,
			 size_t errlen);
/* STORE_EEXIST with the reason when a disk or a fragment holds the name. */
int store_check_name_free(const struct store *s, const char *name, char *err, size_t errlen);
int store_check_size(const struct store *s, uint64_t size, char *err, size_t errlen);
/* The base disk named 'base' (not a fragment, not a writable disk). */
int store_find_base(struct store *s, const char *base, struct sdisk **out, char *err,
		    size_t errlen);
/* A new record for a disk or fragment 'name' in a free slot: its map,
 * creation time and order, its parent linked, marked for the next commit
 * (the caller sets identity and flags, then commits). NULL with err set
 * when memory is short. @pre the checks above passed */
struct sdisk *store_sdisk_add(struct store *s, const char *name, uint64_t size,
			      struct sdisk *parent, char *err, size_t errlen);

/* ---- store_record.c: disk records ---- */
void store_record_encode(const struct store *s, struct sdisk *d);
int store_record_decode(struct store *s, const uint8_t *page, struct sdisk *d, char *why,
			size_t whylen);
struct sdisk *store_sdisk_new(struct store *s, unsigned slot);
void store_sdisk_free(struct store *s, struct sdisk *d);
bool store_is_fragment(const struct sdisk *d);
/* The disk named 'name'; never a fragment (they are invisible to disk calls). */
struct sdisk *store_find(const struct store *s, const char *name);
/* The fragment that will become disk 'name', or NULL. */
struct sdisk *store_find_fragment(const struct store *s, const char *name);

/* ---- store_disk_info.c ---- */
/* The index'th disk in creation order among fragments or among the others. */
const struct sdisk *store_nth_created(const struct store *s, unsigned index, bool fragments);
void store_disk_fill_info(const struct store *s, const struct sdisk *d,
			  struct store_disk_info *out);

/* ---- store_fragment_info.c ---- */
/* What callers know a fragment by: its disk table slot + 1 (never 0). */
unsigned store_fragment_id(const struct sdisk *d);
struct sdisk *store_fragment_by_id(const struct store *s, unsigned id);

/* ---- store_io.c ---- */
/* A handle on d (open for writing: marked and committed first).
 * @pre the caller checked that d may be opened so */
int store_handle_open(struct store *s, struct sdisk *d, bool writable, struct store_disk **out,
		      char *err, size_t errlen);

/* ---- store_load.c: reading and checking all metadata ---- */
struct store_load_ctx {
	store_report_fn report;
	void *ctx;
	unsigned problems; /* damage */
	unsigned warnings; /* leaks */
	bool check;        /* store_check: every problem, notes too */
};
void store_problem(struct store_load_ctx *lc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void store_warning(struct store_load_ctx *lc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Fills s from the device (s->sd and s->env set). Returns STORE_OK with
 * problems counted in lc, or an error when no superblock is usable. */
int store_load(struct store *s, struct store_load_ctx *lc, struct store_journal *j, char *err,
	       size_t errlen);
void store_unload(struct store *s);
int store_load_disks(struct store *s, struct store_load_ctx *lc, const struct store_journal *j);
int store_load_maps(struct store *s, struct store_load_ctx *lc, const struct store_journal *j,
		    uint64_t *seen);
void store_check_links(struct store *s, struct store_load_ctx *lc);
int store_read_meta_page(struct store *s, const struct store_journal *j, uint64_t loc,
			 uint8_t *buf);

/* ---- store_data.c ---- */
struct iov_cur;
int store_read_range(struct store *s, const struct sdisk *d, uint64_t off, uint64_t len,
		     struct iov_cur *cur);
/* @pre store_write_need() blocks are free */
int store_write_range(struct store *s, struct sdisk *d, uint64_t off, uint64_t len,
		      struct iov_cur *cur);
uint64_t store_write_need(const struct store *s, const struct sdisk *d, uint64_t off,
			  uint64_t len);

#endif
