/* Dirty-page tracking over second-level page tables, the part that needs
 * no hardware: which leaves to protect or clean, what to mark, what a
 * harvest returns. hv/dirty/dirty_log.c drives it for a VM (TLB flushes,
 * backend switches, statistics); the unit tests drive it over simulated
 * tables.
 *
 * Three modes: write protection (leaves read-only; the first write faults
 * and is logged), A/D harvest (the CPU sets dirty bits in the leaves; the
 * harvest scans and clears them) and PML (the CPU logs written GPAs into a
 * buffer; the harvest clears the dirty bits of what was logged so the next
 * write is logged again). Granularity is 4 KiB (large leaves are split) or
 * 2 MiB (one unit marks and re-arms a whole 2 MiB region). */
#ifndef HV_DIRTY_DIRTY_TRACK_H
#define HV_DIRTY_DIRTY_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/mm/pagetable.h"

enum dirty_mode { DIRTY_MODE_WP, DIRTY_MODE_AD, DIRTY_MODE_PML, DIRTY_MODE_COUNT };
enum dirty_gran { DIRTY_GRAN_4K, DIRTY_GRAN_2M };

#define DIRTY_PAGE 4096ull
#define DIRTY_REGION (2ull << 20)
#define DIRTY_REGION_PAGES 512u

struct dirty_track {
	struct pagetable *pt;
	uint64_t size;          /* tracked guest-physical range: [0, size) */
	size_t npages;
	enum dirty_mode mode;
	enum dirty_gran gran;
	uint64_t *log;          /* pages written since the last harvest (faults, PML) */
	uint64_t faults;        /* write-protect faults taken */
	uint64_t region_faults; /* of them, faults that opened a whole 2 MiB region */
	uint64_t pml_entries;   /* GPAs read from the PML buffer */
	uint64_t rearm_failures;/* units a harvest could not re-arm (kept as dirty) */
};

const char *dirty_mode_name(enum dirty_mode m);
/* "wp", "ad" or "pml" into *out; false for anything else. */
bool dirty_mode_parse(const char *word, enum dirty_mode *out);
const char *dirty_gran_name(enum dirty_gran g);

/* Words a bitmap over t's pages needs. */
size_t dirty_track_words(const struct dirty_track *t);

/* Sets the tables up for the mode: splits large leaves for 4 KiB units,
 * write-protects (WP) or cleans the dirty bits (A/D, PML). The caller
 * flushes the guest TLB afterwards.
 * @pre t->pt, size (2 MiB multiple or not), mode, gran and a zeroed log
 *      of dirty_track_words() words are set. */
int dirty_track_arm(struct dirty_track *t);

/* A write hit a read-only leaf at gpa. Returns true when tracking caused
 * it: the unit is marked and made writable (the caller flushes and lets
 * the guest retry); false when the fault is the guest's own doing. */
bool dirty_track_write_fault(struct dirty_track *t, uint64_t gpa);

/* The same for a writer that installs no 4 KiB traces (a vCPU beyond the
 * log's installers, see hv/vm/dirty_log.h): the whole 2 MiB region around
 * gpa is marked and made writable, whatever the granularity, so that
 * writer faults once per region and a round. Every page of the region is
 * reported, so nothing written is missed; the harvest re-arms each page. */
bool dirty_track_write_fault_region(struct dirty_track *t, uint64_t gpa);

/* Marks the unit holding gpa (writes the hypervisor does for the guest). */
void dirty_track_mark(struct dirty_track *t, uint64_t gpa);

/* PML buffer entries: bits 11:0 are masked off, entries outside the
 * tracked range ignored. */
void dirty_track_pml_entries(struct dirty_track *t, const uint64_t *entries, size_t n);

/* Moves everything written since the last harvest into out (OR-ed in, one
 * bit per 4 KiB page), re-arms what was written, and returns the number of
 * pages added. A unit whose re-arm fails (the tables could not be changed)
 * stays marked, so every later harvest reports it again, and counts in
 * rearm_failures. The caller flushes the guest TLB afterwards. */
size_t dirty_track_harvest(struct dirty_track *t, uint64_t *out);

/* Undoes arm: every leaf writable again (A/D bits are left as they are). */
int dirty_track_disarm(struct dirty_track *t);

#endif
