/* Page deltas, for pages sent again in a later round (XBZRLE's idea, QEMU's
 * docs/xbzrle.txt): the runs where the new page differs from the version
 * sent before, each with its new bytes. The destination's copy of the page
 * is that earlier version (a VM being received does not run), so it
 * applies a delta in place; the source keeps earlier versions in a bounded
 * cache (migrate/delta_cache.h). Host-built codec, no I/O.
 *
 * Encoding: pairs of ULEB128 numbers, a run of unchanged bytes and then a
 * run of changed bytes (not 0) followed by those bytes as they are now; a
 * final unchanged run may stand alone. Runs stay within the page. */
#ifndef MIGRATE_PAGE_DELTA_H
#define MIGRATE_PAGE_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "migrate/stream.h"

/* Encodes new against old into out (room for 'cap' bytes): the length, or
 * 0 when the delta would not fit in cap (send the page whole then). An
 * unchanged page encodes to 1 byte or more; never returns more than cap. */
size_t page_delta_encode(const uint8_t old[MIG_PAGE_SIZE], const uint8_t new_page[MIG_PAGE_SIZE],
			 uint8_t *out, size_t cap);

/* Applies a delta to page in place: 0, or -1 (the page may be partly
 * changed) when the delta is malformed: a run past the page's end, a
 * changed run of length 0, a number over 4096, or bytes cut short. */
int page_delta_apply(uint8_t page[MIG_PAGE_SIZE], const uint8_t *delta, size_t len);

#endif
