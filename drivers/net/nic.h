/* One interface for every NIC driver: send a frame (scatter-gather), poll
 * for received frames and finished sends, link state, MAC address.
 *
 * Drivers poll (no interrupts): the main loop calls nic_poll_all(). Receive
 * buffers are lent by the network layer (struct nic_client), so a frame the
 * device wrote goes up the stack without a copy; sent buffers are handed
 * back through tx_done once the device is finished with them. */
#ifndef DRIVERS_NET_NIC_H
#define DRIVERS_NET_NIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NIC_MAX 4
#define NIC_RX_BUF_SIZE 2048 /* a full frame plus any device header */
#define NIC_MAX_FRAME 1514   /* without FCS */
#define NIC_MIN_FRAME 14
#define NIC_MAX_TX_SEGS 16
#define NIC_KICK_BATCH 32 /* frames sent before the device is told at the latest */

struct nic;
struct pci_device;

struct nic_rx_buf {
	void *cookie;  /* the client's handle */
	uint8_t *data; /* DMA-able, physically contiguous */
	size_t cap;    /* at least NIC_RX_BUF_SIZE */
};

struct nic_client {
	bool (*rx_buf_alloc)(void *ctx, struct nic_rx_buf *out);
	void (*rx_buf_free)(void *ctx, void *cookie);
	/* The data address of a lent buffer (for drivers whose rings keep
	 * only the cookie). */
	uint8_t *(*rx_buf_data)(void *ctx, void *cookie);
	/* A received frame: 'frame' lies inside the buffer of 'cookie', whose
	 * ownership passes back to the client; 'flags' NIC_RX_*. */
	void (*rx_deliver)(void *ctx, void *cookie, uint8_t *frame, size_t len, unsigned flags);
	/* The device no longer reads the segments sent with this cookie. */
	void (*tx_done)(void *ctx, void *cookie);
	void *ctx;
};

struct nic_seg {
	const void *data;
	size_t len;
};

/* Checksum offloads a device offers (struct nic .offloads). */
#define NIC_OFFLOAD_TX_L4_CSUM (1u << 0) /* fills in a TCP/UDP checksum, below */
#define NIC_OFFLOAD_RX_L4_CSUM (1u << 1) /* may vouch for a received one */

/* A send whose layer-4 checksum the device computes: the ones' complement
 * sum from 'start' (bytes into the frame) to its end, stored at 'start' +
 * 'offset'. The checksum field holds the pseudo-header's sum, folded and
 * not complemented, as Intel's datasheets and virtio 1.x (NEEDS_CSUM)
 * both expect. */
struct nic_tx_csum {
	uint16_t start;
	uint16_t offset;
};

/* Flags of a received frame (nic_rx_frame). */
#define NIC_RX_L4_CSUM_GOOD (1u << 0) /* the device checked its TCP/UDP checksum */

enum nic_send_result {
	NIC_SENT = 0,
	NIC_RING_FULL = -1, /* try again after a poll */
	NIC_BAD_FRAME = -2, /* too short, too long, too many segments */
	NIC_DOWN = -3,
};

struct nic_ops {
	/* Fills the receive ring from the client and enables the device. */
	bool (*start)(struct nic *nic);
	/* @pre started; segments total NIC_MIN_FRAME..NIC_MAX_FRAME bytes;
	 * 'csum' only when .offloads has NIC_OFFLOAD_TX_L4_CSUM, else NULL.
	 * The device may be told of the frame only at the next flush (every
	 * NIC_KICK_BATCH frames at the latest): telling it costs an exit to
	 * the emulator or a bus write each time. */
	enum nic_send_result (*send)(struct nic *nic, const struct nic_seg *segs, int nsegs,
				     const struct nic_tx_csum *csum, void *cookie);
	/* Tells the device of every frame sent since the last flush. */
	void (*flush)(struct nic *nic);
	/* Receives up to 'budget' frames and reaps finished sends; returns the
	 * number of frames received. */
	int (*poll)(struct nic *nic, int budget);
	bool (*link_up)(struct nic *nic);
};

struct nic_stats {
	uint64_t rx_frames, rx_bytes;
	uint64_t tx_frames, tx_bytes;
	uint64_t rx_dropped;  /* no buffer to refill the ring: frame discarded */
	uint64_t rx_errors;   /* the device flagged it, or its length is impossible */
	uint64_t tx_ring_full;
	uint64_t link_changes;
	uint64_t tx_csum_offloaded; /* frames whose checksum the device filled in */
	uint64_t rx_csum_vouched;   /* frames whose checksum the device checked */
};

struct nic {
	char name[8];       /* eth0, eth1, ... */
	const char *model;  /* virtio-net, e1000, e1000e */
	uint8_t mac[6];
	const struct nic_ops *ops;
	struct nic_client client;
	struct nic_stats stats;
	struct pci_device *pci;
	bool started;
	bool last_link;
	unsigned offloads; /* NIC_OFFLOAD_*, set by the driver's probe */
	void *priv;
};

/* Probes every PCI function for a driver; returns the number of NICs. */
size_t nic_probe_all(void);
struct nic *nic_at(size_t i);

/* Allocates and registers a NIC for a driver's probe; NULL when full. */
struct nic *nic_register(const char *model, struct pci_device *pci, const struct nic_ops *ops,
			 void *priv);

/* Length of a frame given as segments, or 0 if it is not sendable. */
size_t nic_frame_len(const struct nic_seg *segs, int nsegs);

/* Called by drivers for each received frame: counts it, checks its length
 * and hands it to the client (or returns the buffer when it is bad). */
void nic_rx_frame(struct nic *nic, void *cookie, uint8_t *frame, size_t len, unsigned flags);

#endif
