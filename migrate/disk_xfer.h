/* Cold disk transfer between instances: `disk send NAME ADDR[:PORT]
 * [as=NAME]` moves one datastore disk (not in use for writing) into a
 * peer's datastore; `disk receive [PORT] from=ADDR,...` admits them. The
 * stream is the migration stream with its DISK_ONLY flag
 * (docs/migration-stream.md, "Disks"). A transfer cut short leaves a
 * fragment on the destination, and sending again resumes from its last
 * checkpoint. One transfer each way at a time. */
#ifndef MIGRATE_DISK_XFER_H
#define MIGRATE_DISK_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISK_XFER_PORT 7008

enum disk_xfer_phase { DX_IDLE, DX_RUNNING, DX_DONE, DX_FAILED };

struct disk_xfer_status {
	enum disk_xfer_phase phase;
	char disk[32];           /* here */
	char as[32];             /* there */
	uint32_t peer;
	uint16_t port;
	uint64_t bytes_total;    /* disk bytes this transfer covers (from resumed_at on) */
	uint64_t bytes_sent;     /* of those, done (received, on the destination) */
	uint64_t wire_bytes;
	uint64_t resumed_at;     /* where a kept fragment let it start; 0: from the start */
	bool base_skipped;
	uint64_t start_ns, end_ns;
	char channel[64];        /* mig_channel_name */
	char reason[128];
};

int disk_send_start(const char *name, uint32_t dst, uint16_t port, const char *as, char *err,
		    size_t errlen);
const struct disk_xfer_status *disk_send_status(void);
bool disk_send_poll(void);

int disk_receive_listen(uint16_t port, const uint32_t *peers, size_t npeers, char *err,
			size_t errlen);
void disk_receive_unlisten(void);
bool disk_receive_listening(uint16_t *port);
const struct disk_xfer_status *disk_receive_status(void);
bool disk_receive_poll(void);

const char *disk_xfer_phase_name(enum disk_xfer_phase p);

#endif
