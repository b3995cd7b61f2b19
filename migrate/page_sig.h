/* A page's signature: the SHA-256 of its 4096 bytes (mbedTLS's). A
 * signature stands for the page in the stream when the destination holds
 * a page with the same signature (migrate/seed.h); docs/migration-stream.md
 * ("Page signatures") says why a match means the same content. */
#ifndef MIGRATE_PAGE_SIG_H
#define MIGRATE_PAGE_SIG_H

#include <stdint.h>

#include "migrate/stream.h"

void page_sig(const void *page, uint8_t out[MIG_SIG_LEN]);

#endif
