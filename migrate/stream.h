/* The migration stream, version 3: a header, then typed, length-prefixed
 * records, each with its own CRC-32C. docs/migration-stream.md is the
 * specification; this is its codec, with no I/O and no hypervisor state,
 * so it builds for the host (unit tests, fuzzing).
 *
 * All integers are little-endian. */
#ifndef MIGRATE_STREAM_H
#define MIGRATE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIG_MAGIC "HVMIGRAT"
#define MIG_VERSION 4 /* 3: disk records (migrate/disk_stream.h); 4: page signatures */
#define MIG_HEADER_LEN 64
#define MIG_PAGE_SIZE 4096u
#define MIG_NAME_LEN 24

#define MIG_RECORD_HDR_LEN 16
#define MIG_TYPE_OPTIONAL 0x80000000u /* a receiver that does not know it skips it */
#define MIG_MAX_BATCH 32              /* pages in one PAGES record (~129 KiB) */
#define MIG_MAX_BODY (8u + MIG_MAX_BATCH * (8u + MIG_PAGE_SIZE))

enum mig_record_type {
	/* source -> destination */
	MIG_REC_VM_CONFIG = 0x01,
	MIG_REC_PAGES = 0x02,
	MIG_REC_VCPU = 0x03,
	MIG_REC_LAPIC = 0x04,
	MIG_REC_UART = 0x05,
	MIG_REC_PLATFORM = 0x06,
	MIG_REC_END = 0x07,       /* everything was sent: the VM is complete */
	MIG_REC_GO = 0x08,        /* after READY: resume it, the source lets go */
	MIG_REC_ABORT = 0x09,     /* the source gives up: discard the copy */
	MIG_REC_DEVICE = 0x0a,    /* a platform device's state (version 2) */
	MIG_REC_MODULES = 0x0b,   /* the images the VM restarts from (version 2) */
	MIG_REC_AP_STATE = 0x11,  /* an application processor's vCPU and APIC */
	MIG_REC_VCPU_MSRS = 0x13, /* a vCPU's emulated MSRs beyond the VCPU record */
	MIG_REC_ROUND = MIG_TYPE_OPTIONAL | 0x10, /* pre-copy round starts (MIG_ROUND_*) */
	MIG_REC_PLACEMENT = MIG_TYPE_OPTIONAL | 0x12, /* the CPU of each vCPU */
	/* 0x0c-0x10: the disk records (version 3), migrate/disk_stream.h */
	/* destination -> source */
	MIG_REC_READY = 0x20,     /* the VM is built, paused, complete */
	MIG_REC_REJECT = 0x21,    /* refused or failed: text reason */
	MIG_REC_RUNNING = 0x22,   /* resumed after GO */
	/* 0x23-0x24: the disk replies (version 3), migrate/disk_stream.h */
	MIG_REC_SEED = 0x25,      /* after VM_CONFIG: what the destination holds of the VM */
	MIG_REC_SIG_MISSES = 0x26, /* per PAGES record with signatures: those it lacks */
};

/* Page entry: bits 0-51 guest frame number, bits 56-59 type. */
enum mig_page_type {
	MIG_PAGE_NORMAL = 0, /* 4096 bytes of data follow */
	MIG_PAGE_ZERO = 1,   /* all zero: no data */
	MIG_PAGE_POISON = 2, /* lost to an uncorrectable memory error: no data */
	MIG_PAGE_SIGNATURE = 3, /* the SHA-256 of the data (32 bytes) follows (version 4) */
	MIG_PAGE_DELTA = 4,  /* u32 length, then a delta against the page's previous
			      * version (migrate/page_delta.h; version 4) */
	MIG_PAGE_TYPES
};
/* ROUND flags (its third u32, version 4) */
#define MIG_ROUND_PAUSED 1u /* the guest is paused: this is the stop-and-copy round */
#define MIG_SIG_LEN 32
#define MIG_DELTA_MAX (MIG_PAGE_SIZE - 4) /* a delta and its length fit in a page's room */
#define MIG_GFN_MASK ((1ull << 52) - 1)
#define MIG_ENTRY_TYPE_SHIFT 56

/* Stream header flags (struct mig_header.flags); a reader refuses others. */
#define MIG_HDR_DISK_ONLY 1u /* `disk send`: DISK records only, no VM (version 3) */
#define MIG_HDR_FLAGS_KNOWN MIG_HDR_DISK_ONLY

struct mig_header {
	uint16_t version;
	uint32_t page_size;
	uint64_t source_id;          /* the sending instance */
	uint64_t vm_uid;             /* the VM, stable across its migrations */
	char source_name[MIG_NAME_LEN];
	uint32_t flags;              /* MIG_HDR_*: within MIG_HDR_FLAGS_KNOWN */
};

void mig_header_encode(const struct mig_header *h, uint8_t out[MIG_HEADER_LEN]);
/* @pre len >= MIG_HEADER_LEN. Returns 0, or -1 with the reason in err. */
int mig_header_decode(const uint8_t *buf, size_t len, struct mig_header *h, char *err,
		      size_t errlen);

struct mig_record {
	uint32_t type;
	uint32_t len;
	const uint8_t *body; /* points into the caller's buffer */
};

/* Writes the 16-byte record header for 'body' (CRCs included). */
void mig_record_header(uint8_t out[MIG_RECORD_HDR_LEN], uint32_t type, const void *body,
		       uint32_t len);
/* One record from buf: returns the bytes it takes (> 0), 0 when buf holds
 * only part of it (need more; a corrupt header is still reported at once),
 * or -1 with the reason in err (bad header CRC, length over max_body, bad
 * body CRC). Types are not judged here. */
long mig_record_decode(const uint8_t *buf, size_t len, size_t max_body, struct mig_record *r,
		       char *err, size_t errlen);
/* The name of a record type for messages ("PAGES", "type 0x42"). */
const char *mig_record_name(uint32_t type, char *buf, size_t size);

/* PAGES body: u32 count, u32 zero, then count entries, each a u64
 * descriptor followed by the data when the type carries data. */
struct mig_pages_writer {
	uint8_t *body;   /* at least MIG_MAX_BODY bytes */
	uint32_t count;
	size_t len;
};
void mig_pages_begin(struct mig_pages_writer *w, uint8_t *body);
/* @pre count < MIG_MAX_BATCH; data != NULL exactly for MIG_PAGE_NORMAL (a
 * page) and MIG_PAGE_SIGNATURE (MIG_SIG_LEN bytes) */
void mig_pages_add(struct mig_pages_writer *w, uint64_t gfn, enum mig_page_type type,
		   const void *data);
/* A MIG_PAGE_DELTA entry; the delta is written by the caller at the
 * returned pointer (room for MIG_DELTA_MAX), then committed. */
uint8_t *mig_pages_delta_room(struct mig_pages_writer *w);
/* @pre 0 < len <= MIG_DELTA_MAX, count < MIG_MAX_BATCH */
void mig_pages_add_delta(struct mig_pages_writer *w, uint64_t gfn, uint32_t len);
/* Fills in the count; returns the body length. */
uint32_t mig_pages_end(struct mig_pages_writer *w);

struct mig_pages_reader {
	const uint8_t *body;
	size_t len, pos;
	uint32_t count, seen;
	size_t data_len;      /* the last entry's data bytes */
};
int mig_pages_open(struct mig_pages_reader *r, const uint8_t *body, size_t len, char *err,
		   size_t errlen);
/* The next entry: 1 with *gfn, *type and *data (NULL without data), 0 at
 * the end, -1 with the reason in err (truncated, trailing bytes, unknown
 * type, reserved bits set). */
int mig_pages_next(struct mig_pages_reader *r, uint64_t *gfn, enum mig_page_type *type,
		   const uint8_t **data, char *err, size_t errlen);

/* SEED body (destination -> source, once, after VM_CONFIG): whether the
 * destination holds an earlier image of this VM that page signatures can
 * be checked against, and how many of its pages. */
#define MIG_SEED_LEN 16
#define MIG_SEED_HELD 1u
struct mig_seed_answer {
	uint32_t flags;   /* MIG_SEED_HELD or 0 */
	uint64_t pages;   /* pages of that image (0 without one) */
};
uint32_t mig_seed_encode(const struct mig_seed_answer *s, uint8_t *body);
int mig_seed_decode(const uint8_t *body, size_t len, struct mig_seed_answer *s, char *err,
		    size_t errlen);

/* SIG_MISSES body: u32 count (0-32), u32 zero, count u64 frame numbers:
 * the signature entries of one PAGES record whose content the destination
 * does not hold (the source sends those pages again, in full). */
#define MIG_SIG_MISSES_MAX MIG_MAX_BATCH
uint32_t mig_sig_misses_encode(const uint64_t *gfns, uint32_t count, uint8_t *body);
/* Fills gfns (room for MIG_SIG_MISSES_MAX); -1 with the reason. */
int mig_sig_misses_decode(const uint8_t *body, size_t len, uint64_t *gfns, uint32_t *count,
			  char *err, size_t errlen);

/* Small bodies: a text (REJECT, ABORT) and ROUND. */
uint32_t mig_text_encode(uint8_t *body, size_t cap, const char *text);
/* Copies a text body into out (NUL-terminated, control bytes replaced). */
void mig_text_decode(const uint8_t *body, size_t len, char *out, size_t size);

#endif
