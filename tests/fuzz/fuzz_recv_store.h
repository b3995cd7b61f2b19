/* The destination's datastore for fuzz_mig_recv and its seed generator:
 * a store on an in-memory device, built once with what incoming disks
 * meet on a real destination (a base a transfer can build on, a disk an
 * offer can name as shared, a fragment kept from a cut transfer), and put
 * back before each input: only the bytes the last input changed are
 * copied. */
#ifndef TESTS_FUZZ_FUZZ_RECV_STORE_H
#define TESTS_FUZZ_FUZZ_RECV_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "hv/store/store.h"

#define RECV_STORE_BASE "gold@1"   /* a read-only base */
#define RECV_STORE_SHARED "shared" /* an ordinary disk */
#define RECV_STORE_KEPT "kept"     /* the kept fragment's disk name */

/* What an offer must name to meet them (the seeds use these). */
struct recv_store_facts {
	struct store_uuid base_cid;
	struct store_uuid shared_uuid, shared_cid;
	uint64_t shared_size;
	struct store_uuid kept_uuid, kept_cid;
	uint64_t kept_size, kept_offset; /* the checkpointed bulk offset */
	uint32_t kept_crc;
};

/* Builds the template the first time; the facts about it. */
const struct recv_store_facts *recv_store_facts(void);
/* The template, opened. */
struct store *recv_store_open(void);
/* Closes it, then checks the image if anything was written to it: 0, or
 * -1 with what was wrong in why (a close that failed, problems the
 * consistency check found). */
int recv_store_close(struct store *s, char *why, size_t whylen);

#endif
