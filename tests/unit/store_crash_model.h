/* What the crash test expects of each disk: per sector the token of the
 * last durable write, plus the writes since the last durability point
 * (after a crash each of those sectors may hold any of them, or the
 * durable one). A sector written with token t holds store_model_fill(t,
 * sector): misplaced, torn or stale sectors do not match. */
#ifndef TESTS_UNIT_STORE_CRASH_MODEL_H
#define TESTS_UNIT_STORE_CRASH_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/store/store.h"

#define MODEL_DISKS 24
#define MODEL_WRITES 4096
#define MODEL_MAX_SECTORS 2048u /* disks of up to 1 MiB */

enum model_state { MODEL_ABSENT, MODEL_PRESENT, MODEL_MAYBE };

struct model_disk {
	enum model_state state;
	char name[STORE_NAME_MAX];
	bool base;
	int parent;       /* index, -1 none */
	uint64_t sectors;
	uint64_t *durable; /* token per sector */
	struct store_disk *handle; /* open writable, or NULL */
};

struct model_write {
	unsigned disk;
	uint64_t first, count, token;
};

struct model {
	struct model_disk disks[MODEL_DISKS];
	struct model_write writes[MODEL_WRITES]; /* since the last durability point */
	unsigned nwrites;
	uint64_t next_token;
};

void model_init(struct model *m);
void model_free(struct model *m);
void store_model_fill(uint64_t token, uint64_t sector, uint8_t *out);
/* Slot for a new disk (state ABSENT), or -1. */
int model_new_slot(const struct model *m);
void model_add(struct model *m, int i, const char *name, uint64_t size, int parent, bool base);
void model_remove(struct model *m, int i);
/* Records a write (acknowledged or interrupted). */
void model_write(struct model *m, unsigned disk, uint64_t first, uint64_t count, uint64_t token);
/* Everything so far is durable. */
void model_durable(struct model *m);
/* A new base at 'b' with disk a's content (the disk's writes durable). */
void model_snapshot(struct model *m, int a, int b, const char *base_name);
/* The token a sector holds now (the latest write). */
uint64_t model_current(const struct model *m, unsigned disk, uint64_t sector);
/* After a crash: checks every sector of disk i against what may be there
 * (reading through h) and makes what was found the durable state. Returns
 * false with a reason. */
bool model_verify(struct model *m, unsigned i, struct store_disk *h, char *why, size_t whylen);

#endif
