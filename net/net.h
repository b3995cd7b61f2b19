/* The hypervisor's network stack: lwIP (NO_SYS) over the NIC drivers, one
 * lwIP netif per NIC, driven from the main loop by net_poll(). */
#ifndef NET_NET_H
#define NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/netif.h"

struct nic;

enum net_addr_mode { NET_ADDR_NONE, NET_ADDR_STATIC, NET_ADDR_DHCP };

struct net_if {
	struct netif netif;
	struct nic *nic;
	enum net_addr_mode mode;
	bool up;                /* lwIP netif added and NIC started */
	uint64_t link_check_ns; /* next time the link state is read */
	uint64_t tx_dropped;    /* frames lwIP gave us that the NIC did not take */
	uint64_t tx_copied;     /* chains too long for the ring, sent from a copy */
	bool csum_offload;      /* the NIC computes TCP checksums, not lwIP */
	bool rx_csum_by_nic;    /* ... and has vouched for received ones: lwIP checks none */
	uint64_t rx_csum_sw;    /* TCP checksums the NIC did not vouch for, checked here */
	uint64_t rx_csum_bad;   /* ... and found wrong: dropped */
};

/* Bytes one tcp_write on 'pcb' takes without failing half-way: within its
 * send buffer and segment queue, each segment costing 'pbufs_per_segment'
 * queue entries (1 for TCP_WRITE_FLAG_COPY, 2 for referenced data). */
struct tcp_pcb;
size_t net_tcp_write_room(const struct tcp_pcb *pcb, unsigned pbufs_per_segment);

/* Hands TCP checksums to the NIC (on) or back to lwIP; false when the NIC
 * cannot compute them (it stays off). Received ones stay lwIP's to check
 * until the NIC vouches for one. */
bool net_if_set_csum_offload(struct net_if *nif, bool on);

/* What the boot path knows about the network controllers. */
struct net_settings {
	unsigned fw_nics_released; /* firmware drivers disconnected before the hand-over */
	unsigned fw_nics_refused;  /* ... or refusing to let go */
};

/* Probes NICs, starts lwIP, configures eth0 from the settings this module
 * declares (ip=ADDR/PREFIX, gw=ADDR, dhcp=1) and registers its poller. */
/* lwIP's heap use against its cap (net/port/sys_arch.c). */
struct net_heap_stats {
	size_t bytes, peak, max;
	uint64_t refused; /* allocations refused at the cap or by kmalloc */
};
const struct net_heap_stats *net_heap_stats(void);

/* lwIP's fixed pools: used, size and refused allocations of the pool
 * named 'name' (as lwIP names them: "TCP_PCB", "TCP_SEG", ...). */
struct net_pool_stats {
	const char *name;
	unsigned used, avail;
	uint64_t refused;
};
size_t net_pool_count(void);
bool net_pool_stats(size_t i, struct net_pool_stats *out);

/* Segments from sources 'admits' refuses are dropped at 'listener' before
 * lwIP spends anything on them; admits == NULL removes the filter (do so
 * before closing the listener). False when every slot is taken. */
struct tcp_pcb;
bool net_syn_filter_set(const struct tcp_pcb *listener,
			bool (*admits)(const void *ctx, uint32_t ip), const void *ctx);
uint64_t net_syn_filtered(void); /* segments dropped so */

void net_init(const struct net_settings *s);

/* Moves frames and runs lwIP's timers; true if anything happened (the main
 * loop then does not sleep). */
bool net_poll(void);

size_t net_if_count(void);
struct net_if *net_if_at(size_t i);
struct net_if *net_if_by_name(const char *name);
/* The interface a packet to 'dst' (host order) leaves by, or NULL. */
struct net_if *net_if_for(uint32_t dst);

/* Static address (DHCP stopped); prefix 1..32; gw 0 for none. */
bool net_if_set_static(struct net_if *nif, uint32_t addr, unsigned prefix, uint32_t gw,
		       char *err, size_t errlen);
bool net_if_start_dhcp(struct net_if *nif, char *err, size_t errlen);
/* True once DHCP has bound an address. */
bool net_if_dhcp_bound(const struct net_if *nif);
const char *net_if_dhcp_state(const struct net_if *nif);

/* Frames of this EtherType bypass lwIP (raw link throughput tests). */
#define NET_ETHERTYPE_RAWPERF 0x88b5

#endif
