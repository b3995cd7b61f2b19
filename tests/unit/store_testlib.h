/* Helpers shared by the datastore tests: a formatted store on a memdev,
 * pattern writes and checks through single-buffer I/O. */
#ifndef TESTS_UNIT_STORE_TESTLIB_H
#define TESTS_UNIT_STORE_TESTLIB_H

#include "tests/unit/store_memdev.h"

#define MIB (1024ull * 1024)
#define KIB 1024ull

/* Formats m (already initialised) and opens it; asserts success. */
struct store *tl_format_open(struct memdev *m);
struct store *tl_open(struct memdev *m);
/* Opens and expects failure; returns the status, err filled. */
int tl_open_fails(struct memdev *m, char *err, size_t errlen);
void tl_create(struct store *s, const char *name, uint64_t size, const char *base);
struct store_disk *tl_disk_open(struct store *s, const char *name, bool writable);

/* Byte i of the pattern 'seed' at disk offset off: every byte differs by
 * seed and position. */
uint8_t tl_pattern(uint32_t seed, uint64_t off);
int tl_write_pattern(struct store_disk *d, uint64_t off, uint64_t len, uint32_t seed);
/* Whether [off, off + len) holds the pattern (seed 0: zeros). */
bool tl_check_pattern(struct store_disk *d, uint64_t off, uint64_t len, uint32_t seed);
int tl_read(struct store_disk *d, uint64_t off, void *buf, size_t len);
int tl_write(struct store_disk *d, uint64_t off, const void *buf, size_t len);

/* Collects store_check reports. */
struct tl_reports {
	char lines[64][160];
	unsigned n;
};
void tl_collect(void *ctx, const char *problem);
bool tl_has(const struct tl_reports *r, const char *needle);

/* A power cut now: every further request fails, the handles and the store
 * are closed (their writes fail), then the cache loses what 'rng' says. */
void tl_crash(struct memdev *m, struct store *s, struct store_disk **handles, unsigned n,
	      uint64_t *rng);

#endif
