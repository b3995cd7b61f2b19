/* Raw-frame throughput: full-size broadcast frames of EtherType 0x88b5
 * handed straight to the driver (no lwIP, no copy), and a sink that counts
 * them before lwIP sees them. The last frame announces how many were sent,
 * so the receiver can tell loss from a short test. */
#include "drivers/net/nic.h"
#include "hv/core/mainloop.h"
#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "net/net.h"
#include "net/net_internal.h"
#include "net/perf.h"

#define RAW_MAGIC 0x50524648u /* "HFRP" little endian */
#define RAW_DATA 1
#define RAW_END 2
#define END_REPEATS 5 /* the end frame may be lost like any other */

struct raw_header {
	uint8_t dst[6], src[6];
	uint8_t type[2];
	uint32_t magic;
	uint32_t kind;
	uint64_t frames; /* RAW_END: data frames sent */
	uint64_t bytes;
	uint64_t run;    /* identifies one sender run */
} __attribute__((packed));

static struct perf_result raw_rx;
static uint64_t raw_rx_run;
static uint64_t raw_rx_last_ns;

const struct perf_result *net_perf_raw_received(void)
{
	return &raw_rx;
}

void net_rawperf_input(struct net_if *nif, const void *frame, size_t len)
{
	struct raw_header h;

	if (len < sizeof(h))
		return;
	memcpy(&h, frame, sizeof(h));
	if (h.magic != RAW_MAGIC)
		return;
	uint64_t now = time_ns();
	if (h.run != raw_rx_run) { /* a new run starts the count again */
		raw_rx = (struct perf_result){ .start_ns = now };
		raw_rx_run = h.run;
	}
	(void)nif;
	if (h.kind == RAW_DATA && !raw_rx.done) {
		raw_rx.frames++;
		raw_rx.bytes += len;
		raw_rx_last_ns = now;
		raw_rx.ns = raw_rx_last_ns - raw_rx.start_ns;
	} else if (h.kind == RAW_END && !raw_rx.done) {
		raw_rx.done = true;
		raw_rx.frames_announced = h.frames;
	}
}

static void fill_header(struct raw_header *h, const struct nic *nic, uint32_t kind,
			uint64_t run)
{
	memset(h->dst, 0xff, 6);
	memcpy(h->src, nic->mac, 6);
	h->type[0] = NET_ETHERTYPE_RAWPERF >> 8;
	h->type[1] = NET_ETHERTYPE_RAWPERF & 0xff;
	h->magic = RAW_MAGIC;
	h->kind = kind;
	h->run = run;
}

bool net_perf_send_raw(const char *ifname, unsigned seconds, struct perf_result *out,
		       char *err, size_t errlen)
{
	static uint8_t data_frame[NIC_MAX_FRAME];
	static uint8_t end_frame[NIC_MIN_FRAME + sizeof(struct raw_header) + 32];
	struct net_if *nif = ifname ? net_if_by_name(ifname) : net_if_at(0);

	if (!nif) {
		fmt_snprintf(err, errlen, ifname ? "no interface %.8s" : "no network interface",
			     ifname);
		return false;
	}
	struct nic *nic = nif->nic;
	uint64_t run = time_ns() ^ ((uint64_t)nic->mac[5] << 56);

	/* The data frame never changes while frames referencing it are in the
	 * ring; it is rebuilt only here, before the run starts. */
	memset(data_frame, 0x5a, sizeof(data_frame));
	fill_header((struct raw_header *)data_frame, nic, RAW_DATA, run);

	*out = (struct perf_result){ .start_ns = time_ns() };
	uint64_t end = out->start_ns + (uint64_t)seconds * NS_PER_SEC;
	uint64_t frames = 0;
	while (time_ns() < end) {
		for (int burst = 0; burst < 64; burst++) {
			if (!net_if_send_raw(nif, data_frame, sizeof(data_frame)))
				break;
			frames++;
		}
		mainloop_poll(false);
	}
	out->ns = time_ns() - out->start_ns;
	out->frames = frames;
	out->bytes = frames * sizeof(data_frame);

	struct raw_header *h = (struct raw_header *)end_frame;
	fill_header(h, nic, RAW_END, run);
	h->frames = frames;
	h->bytes = out->bytes;
	for (int i = 0; i < END_REPEATS; i++) {
		uint64_t until = time_ns() + 20 * NS_PER_MS;
		while (!net_if_send_raw(nif, end_frame, sizeof(end_frame)) && time_ns() < until)
			mainloop_poll(false);
		while (time_ns() < until)
			mainloop_poll(false);
	}
	out->done = true;
	return true;
}
