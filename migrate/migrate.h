/* Live migration between instances (issue 7): the console's entry points
 * and the status it shows. One outgoing and one incoming migration at a
 * time; both run from the main loop (a poller registered by migrate_init), so the console, the
 * network and the guests keep going meanwhile.
 *
 * Source:  connect -> header, VM_CONFIG -> pre-copy rounds (all pages, then
 *          pages dirtied meanwhile) -> pause -> last pages, vCPU and device
 *          state, END -> wait READY -> GO -> wait RUNNING -> destroy here.
 * Destination: accept (configured peers only) -> build the VM paused ->
 *          READY after END -> on GO resume it, RUNNING.
 * Until GO is sent, any failure resumes the guest on the source and the
 * destination discards its copy; after GO without RUNNING the source keeps
 * the guest paused and says the outcome is unknown: never two copies run. */
#ifndef MIGRATE_MIGRATE_H
#define MIGRATE_MIGRATE_H

#include "hv/dirty/dirty_track.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIGRATE_PORT 7007
#define MIGRATE_MAX_PEERS 8
#define MIGRATE_ROUNDS_KEPT 64

enum mig_phase {
	MIG_IDLE, MIG_CONNECTING, MIG_PRECOPY, MIG_STOP_COPY, MIG_AWAIT_READY, MIG_COMMIT,
	MIG_RECEIVING, MIG_AWAIT_GO, MIG_DONE, MIG_FAILED, MIG_OUTCOME_UNKNOWN,
};

struct migrate_opts {
	uint32_t downtime_ms;    /* stop-and-copy target; default 300 */
	uint32_t bandwidth_mbps; /* 0: as fast as the link goes */
	uint32_t max_rounds;     /* pre-copy rounds before stopping anyway */
	bool throttle;           /* slow the guest when it dirties too fast */
	enum dirty_mode dirty_mode; /* how written pages are found; DIRTY_MODE_BEST default */
	uint32_t dirty_installers;  /* mode=wp: vCPUs that install write traces (dirty_log.h) */
	char as_name[32];        /* name on the destination; "" keeps it */
	bool disks_shared;       /* the destination sees the same disks: send none */
	bool keep_disks;         /* keep the source's copy of the disks after the move */
	bool disk_mirror;        /* after the bulk copy, forward each write (default; else rounds) */
	bool no_signatures;      /* send every page, even where the destination holds a seed */
	bool no_delta;           /* resend written pages whole, never as deltas */
	bool pipelined;          /* GO right after END, not after READY (handover=) */
};

/* A migration's disk figures (both directions). */
struct mig_disk_status {
	unsigned disks;
	uint64_t blocks_total;     /* the bulk copy's blocks */
	uint64_t blocks_sent, blocks_remaining;
	uint64_t dirty_blocks_per_s;
	uint64_t bytes;            /* disk data on the wire (or written, incoming) */
	unsigned bases_skipped;    /* disks whose base the destination held */
	uint64_t bytes_resumed;    /* not sent again: a kept fragment had them */
	uint32_t block_size;
	uint64_t mirrored_writes, mirrored_bytes; /* disk_mode=mirror */
};

struct mig_status {
	enum mig_phase phase;
	enum dirty_mode dirty_mode; /* outgoing: the tracking mode in use */
	uint32_t dirty_installers;  /* outgoing: its installers (DIRTY_INSTALLERS_ALL) */
	char vm[32];
	uint32_t peer;
	uint16_t port;
	unsigned round;
	uint64_t pages_total, pages_sent, pages_remaining, zero_pages, poison_pages;
	/* Page signatures: sent (incoming: matched from the seed), and those
	 * the destination lacked (sent again in full); seed_pages: the pages
	 * of the image the destination holds (0: none) */
	uint64_t sig_pages, sig_misses, seed_pages;
	/* Pages resent as deltas against the version sent before, and the
	 * deltas' bytes */
	uint64_t delta_pages, delta_bytes;
	/* Time in the migration's poller on this side (not lwIP's or the
	 * NIC driver's) */
	uint64_t cpu_ns;
	uint64_t bytes;
	uint64_t start_ns, end_ns, pause_ns, resume_ns;
	/* incoming: pause_ns is when the stop-and-copy round's ROUND arrived;
	 * the true downtime is resume_ns - pause_ns plus at most this much */
	uint64_t downtime_error_ns;
	uint64_t dirty_pages_per_s;
	uint64_t throughput_bytes_per_s;
	/* outgoing: the rate the downtime estimate assumes (send.c round_done) */
	uint64_t drain_bytes_per_s;
	uint64_t expected_downtime_ns;
	uint32_t downtime_limit_ms;
	bool converging;
	bool pipelined;             /* outgoing: GO went right after END */
	unsigned throttle_pct;
	uint32_t pages_per_round[MIGRATE_ROUNDS_KEPT];
	/* outgoing: the dirty log's harvests, and how many of its changes held
	 * the VM off another CPU first (dirty_log.h) */
	uint64_t harvests, harvest_ns, shootdowns, shootdown_ns;
	struct mig_disk_status disk;
	char channel[64];           /* mig_channel_name */
	char error[128];
};

void migrate_default_opts(struct migrate_opts *o);
struct vm;
/* Starts sending; returns 0 or -1 with the reason in err. */
int migrate_send(struct vm *vm, uint32_t dst, uint16_t port, const struct migrate_opts *o,
		 char *err, size_t errlen);
int migrate_cancel(char *err, size_t errlen);
const struct mig_status *migrate_outgoing(void);

int migrate_listen(uint16_t port, const uint32_t *peers, size_t npeers, char *err,
		   size_t errlen);
void migrate_unlisten(void);
bool migrate_listening(uint16_t *port, const uint32_t **peers, size_t *npeers);
const struct mig_status *migrate_incoming(void);

const char *migrate_phase_name(enum mig_phase p);
/* Drives both directions; called from the main loop. */
/* Registers the migration poller with the main loop. */
void migrate_init(void);

#endif
