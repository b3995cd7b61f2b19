/* ICMP echo from the hypervisor's stack (lwIP answers echo requests by
 * itself). */
#ifndef NET_PING_H
#define NET_PING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ping_stats {
	unsigned sent, received;
	uint64_t rtt_min_ns, rtt_max_ns, rtt_sum_ns;
};

/* Called for each reply (rtt in ns) and for each echo given up on
 * (replied false). */
typedef void (*ping_report_fn)(void *ctx, unsigned seq, bool replied, uint64_t rtt_ns);

/* Sends 'count' echo requests to dst (host order) every interval_ms,
 * waiting up to timeout_ms for each reply; blocks (the main loop's
 * background work goes on). Returns false with a reason if it could not
 * send at all. */
bool net_ping(uint32_t dst, unsigned count, unsigned interval_ms, unsigned timeout_ms,
	      ping_report_fn report, void *ctx, struct ping_stats *stats, char *err,
	      size_t errlen);

#endif
