/* The datastore's on-disk format: docs/datastore.md is the prose version of
 * this file (keep them in step). All integers are little-endian; positions
 * are byte offsets inside a 4 KiB metadata page.
 *
 * The region is addressed in 4 KiB pages ("page N" = region byte N * 4096)
 * for metadata and in allocation blocks ("block N" = region byte
 * N * block_size) for data. Layout, in pages:
 *   0              superblock A
 *   1              superblock B
 *   2 ..           journal (journal_pages)
 *   ..             allocation bitmap (bitmap_pages)
 *   ..             disk table (STORE_DISKTAB_PAGES, one disk record each)
 * then, from block data_start on, data blocks and block-map chunks. */
#ifndef HV_STORE_STORE_FORMAT_H
#define HV_STORE_STORE_FORMAT_H

#include <stdint.h>

#define STORE_PAGE 4096u
#define STORE_VERSION 1u
#define STORE_CRC_OFF 4092u /* every page: CRC-32C of bytes [0, 4092) */

/* ---- superblock (pages 0 and 1) ---- */
#define STORE_SB_MAGIC "HVDSTORE" /* 8 bytes at offset 0, no NUL */
#define SB_MAGIC 0       /* 8 */
#define SB_VERSION 8     /* u32 STORE_VERSION */
#define SB_FLAGS 12      /* u32, 0 */
#define SB_UUID 16       /* 16 bytes */
#define SB_GENERATION 32 /* u64, the copy with the larger valid one wins */
#define SB_REGION_BYTES 40 /* u64, store size */
#define SB_BLOCK_SIZE 48 /* u32, allocation unit, power of two, 64 KiB */
#define SB_PAGE_SIZE 52  /* u32, STORE_PAGE */
#define SB_TOTAL_BLOCKS 56  /* u64, region_bytes / block_size */
#define SB_JOURNAL_START 64 /* u64 page */
#define SB_JOURNAL_PAGES 72 /* u64 */
#define SB_BITMAP_START 80  /* u64 page */
#define SB_BITMAP_PAGES 88  /* u64 */
#define SB_DISKTAB_START 96 /* u64 page */
#define SB_DISKTAB_PAGES 104 /* u32, STORE_DISKTAB_PAGES */
#define SB_DATA_START 112   /* u64 block: first block after the metadata */
#define SB_CREATED 120      /* u64 Unix seconds */
#define SB_SEQ_FLOOR 128    /* u64: transactions after this open have larger sequences */
#define SB_COPY 136         /* u32: 0 in page 0, 1 in page 1 */
#define SB_USED 140         /* bytes [140, 4092) are zero */

/* ---- every other metadata page: a 64-byte header ---- */
#define STORE_META_MAGIC 0x444d5648u /* "HVMD" */
#define MH_MAGIC 0     /* u32 */
#define MH_TYPE 4      /* u16 enum store_page_type */
#define MH_VERSION 6   /* u16 STORE_VERSION */
#define MH_LOCATION 8  /* u64: the page's own page number (in-place location) */
#define MH_SEQ 16      /* u64: the transaction that wrote it */
#define MH_STORE_TAG 24 /* u64: store UUID bytes 0..7 as little-endian */
#define MH_OWNER 32    /* u32: disk slot + 1 (disk records, L2 pages), else 0 */
#define MH_INDEX 36    /* u32: bitmap page index, disk slot, or L2 page index */
#define MH_AUX 40      /* u64: journal nonce (random per transaction), else 0 */
#define MH_COUNT 48    /* u32: journal record count */
#define MH_AUX_CRC 52  /* u32: journal: CRC-32C over the record pages in order */
#define MH_SIZE 64

enum store_page_type {
	STORE_PT_BITMAP = 1,
	STORE_PT_DISK = 2,
	STORE_PT_L2 = 3,
	STORE_PT_JOURNAL = 4,
};

/* ---- bitmap pages: bit b of the store = page b / BITS, bit b % BITS;
 * 64-bit little-endian words from MH_SIZE on. Set = allocated; blocks
 * [0, data_start) are set, bits past total_blocks clear. ---- */
#define STORE_BITMAP_WORDS 503u
#define STORE_BITMAP_BITS (STORE_BITMAP_WORDS * 64u) /* 32192 */

/* ---- disk record (disk table page for slot s = disktab_start + s) ---- */
#define STORE_DISKTAB_PAGES 64u /* = STORE_MAX_DISKS */
#define DR_UUID 64        /* 16 */
#define DR_CONTENT_ID 80  /* 16 */
#define DR_PARENT_UUID 96 /* 16, zero without a parent */
#define DR_NAME 112       /* 32, NUL-padded, [A-Za-z0-9._-]{1,31} */
#define DR_SIZE 144       /* u64 bytes, multiple of 512 */
#define DR_CREATED 152    /* u64 Unix seconds */
#define DR_ALLOCATED 160  /* u64 data blocks the disk maps (chunks excluded) */
#define DR_CREATE_SEQ 168 /* u64: sequence of the creating transaction (listing order) */
#define DR_FLAGS 176      /* u32 STORE_DF_* */
#define DR_PARENT_SLOT 180 /* u32 parent's slot + 1, 0 for none */
#define DR_BLOCK_SIZE 184 /* u32 = the store's block size */
#define DR_CHUNKS 188     /* u32 L1 entries used */
#define DR_L1 192         /* u32[STORE_L1_MAX]: block of chunk i, 0 = none */
#define STORE_L1_MAX 975u

#define STORE_DF_IN_USE 1u
#define STORE_DF_BASE 2u       /* read-only: a snapshot or base image */
#define STORE_DF_OPEN_WRITE 4u /* open writable; a crash then changes the content ID */
#define STORE_DF_FRAGMENT 8u   /* a disk still arriving (docs/datastore.md, "Fragments") */
#define STORE_DF_KNOWN (STORE_DF_IN_USE | STORE_DF_BASE | STORE_DF_OPEN_WRITE | STORE_DF_FRAGMENT)

/* A fragment's record keeps its transfer progress in the last 16 bytes of
 * L1 (entries STORE_FRAGMENT_MAX_CHUNKS.. of STORE_L1_MAX), so it has at
 * most STORE_FRAGMENT_MAX_CHUNKS chunks; finishing it clears them to the
 * zeros unused L1 entries hold. */
#define DR_FRAG_OFFSET 4076   /* u64 bytes arrived and durable (below this offset) */
#define DR_FRAG_CRC 4084      /* u32 the receiver's checksum of those bytes */
#define DR_FRAG_PROGRESS 4088 /* u32 last checkpoint, Unix seconds (low 32 bits) */

/* ---- L2 map pages: u32 entries from MH_SIZE on, entry i = data block of
 * the disk's block (index * STORE_L2_ENTRIES + i), 0 = not mapped. A chunk
 * (one allocation block) holds block_size / STORE_PAGE consecutive L2
 * pages: L2 page k lives in chunk L1[k / per_chunk], page k % per_chunk. */
#define STORE_L2_ENTRIES 1007u

/* ---- journal (page journal_start: header; the records follow) ----
 * A transaction is the header page plus 'count' record pages, each a byte
 * copy of a metadata page (which names its own location). It is committed
 * when the header is valid and the CRC-32C of the record pages, in order,
 * equals MH_AUX_CRC; every record carries the header's sequence. */

/* Sizes. */
#define STORE_MIN_JOURNAL_PAGES 64u
#define STORE_MAX_JOURNAL_PAGES 4096u
#define STORE_MAX_TOTAL_BLOCKS 0xfffffff0ull /* entries are u32 */

#endif
