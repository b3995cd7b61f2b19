/* The crash simulation's state and operations (store_crash_ops.c); the
 * test itself is test_store_crash.c. Each operation returns true when the
 * device died during it (the power cut came). */
#ifndef TESTS_UNIT_STORE_CRASH_H
#define TESTS_UNIT_STORE_CRASH_H

#include "tests/unit/store_crash_model.h"
#include "tests/unit/store_testlib.h"

struct crash_run {
	struct memdev md;
	struct store *s;
	struct model m;
	uint64_t rng;
	unsigned names;
};

uint64_t crash_rnd(struct crash_run *r, uint64_t n);
bool crash_dead(const struct crash_run *r);

bool crash_op_write(struct crash_run *r);
bool crash_op_flush(struct crash_run *r);
bool crash_op_read(struct crash_run *r);
bool crash_op_create(struct crash_run *r);
bool crash_op_delete(struct crash_run *r);
bool crash_op_snapshot(struct crash_run *r);
bool crash_op_close(struct crash_run *r);

#endif
