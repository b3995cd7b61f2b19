/* A VM's dirty log: which guest pages were written since the last look.
 * Live migration harvests it round after round; the console shows it.
 *
 *   dirty_log_start  -> arm tracking (mode and granularity chosen here)
 *   dirty_log_harvest-> pages written since the previous harvest, re-armed
 *   dirty_log_stop   -> mappings writable again, memory untouched
 *
 * The guest never runs while its tables are armed, harvested or disarmed:
 * on the VM's own CPU that is between runs; for a VM another CPU runs,
 * these hold it (vm_place.h), which is the TLB shootdown as well: that CPU
 * leaves the guest on the kick IPI and, before it enters again, reloads
 * the vCPU with its cached translations dropped (INVEPT, a fresh ASID). So
 * every write after a harvest returns faults, logs or sets a dirty bit
 * anew. Write faults and PML-full exits are handled on the VM's CPU. */
#ifndef HV_VM_DIRTY_LOG_H
#define HV_VM_DIRTY_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/dirty/dirty_track.h"

struct vm;
struct vcpu;

#define DIRTY_MODE_BEST DIRTY_MODE_COUNT /* start(): the best the CPU has */

struct dirty_stats {
	uint64_t harvests;
	uint64_t last_pages, total_pages; /* pages reported by harvests */
	uint64_t last_ns, total_ns;       /* time spent harvesting */
	uint64_t log_full_exits;          /* PML buffer full */
	uint64_t shootdowns;              /* changes made while holding it off its CPU */
	uint64_t shootdown_ns;            /* waiting for that CPU to let go */
};

/* installers: every vCPU installs 4 KiB traces (the default). */
#define DIRTY_INSTALLERS_ALL 0xffffffffu

struct dirty_log {
	bool active;
	struct dirty_track track;
	/* vCPUs 0 .. installers-1 take one write fault per 4 KiB page; a write
	 * of any other vCPU opens its whole 2 MiB region for the round (seed
	 * 002's variant: fewer traces installed, more pages reported). */
	uint32_t installers;
	uint64_t *harvested;   /* the last harvest's pages (console, tests) */
	size_t words;
	struct dirty_stats stats;
};

/* installers: DIRTY_INSTALLERS_ALL, or how many vCPUs install 4 KiB
 * traces (write protection at 4 KiB only; at most the VM's vCPUs).
 * @return 0, or -1 with the reason in err (mode not available, already
 * running, installers that do not apply, out of memory). */
int dirty_log_start(struct vm *vm, enum dirty_mode mode, enum dirty_gran gran,
		    uint32_t installers, char *err, size_t errlen);
/* Pages written since the last harvest into the log's own bitmap (see
 * dirty_log_pages); returns how many.
 * @pre the log is active */
size_t dirty_log_harvest(struct vm *vm);
const uint64_t *dirty_log_pages(const struct vm *vm);
void dirty_log_stop(struct vm *vm);
/* Frees what the log holds (VM destruction). */
void dirty_log_release(struct vm *vm);

/* Whether the backend offers a mode on this CPU. */
bool dirty_mode_available(enum dirty_mode m);

/* Exit paths: a write to a write-protected leaf (true when tracking caused
 * it and the guest should simply retry), a full PML buffer, and writes the
 * hypervisor itself makes into guest memory. */
bool dirty_log_write_fault(struct vm *vm, unsigned vcpu_index, uint64_t gpa);
void dirty_log_buffer_full(struct vcpu *v);
void dirty_log_mark(struct vm *vm, uint64_t gpa, uint64_t len);

#endif
