/* Throughput tests between two instances: TCP bulk transfer through lwIP
 * (the path migration uses) and raw frames straight through the driver
 * (the link's ceiling), with byte counts and a stream checksum so both
 * ends can be compared. */
#ifndef NET_PERF_H
#define NET_PERF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_PERF_PORT 5201

struct perf_result {
	bool done;          /* the sender closed (or the transfer failed) */
	bool failed;
	char error[64];
	uint64_t bytes;
	uint64_t checksum;  /* stream_sum of the bytes */
	uint64_t start_ns;  /* time_ns() at the start */
	uint64_t ns;        /* start to finish (0 while running) */
	uint32_t peer;      /* host order */
	uint64_t frames;    /* raw test: frames counted */
	uint64_t frames_announced; /* raw test: frames the sender said it sent */
};

/* Starts (or restarts) the TCP sink on 'port'; also arms the raw sink. */
bool net_perf_listen(uint16_t port, char *err, size_t errlen);
bool net_perf_listening(uint16_t *port);
/* The last (or current) transfer received by the sinks. */
const struct perf_result *net_perf_tcp_received(void);
const struct perf_result *net_perf_raw_received(void);

/* Sends for 'seconds' to dst:port and waits until the peer has every byte;
 * blocks. Fills 'out' (done/failed). */
void net_perf_send(uint32_t dst, uint16_t port, unsigned seconds, struct perf_result *out);

/* Sends raw frames on 'ifname' for 'seconds' (broadcast, EtherType 0x88b5). */
bool net_perf_send_raw(const char *ifname, unsigned seconds, struct perf_result *out,
		       char *err, size_t errlen);

/* Mbit/s of a result (0 if no time elapsed). */
uint64_t net_perf_kbits(const struct perf_result *r);

#endif
