/* net, ping: the hypervisor's own network interfaces from the console. */
#include "drivers/net/nic.h"
#include "drivers/pci/pci.h"
#include "hv/core/mainloop.h"
#include "hv/core/time.h"
#include "hv/lib/parse.h"
#include "hv/lib/string.h"
#include "hv/shell/commands.h"
#include "net/net.h"
#include "net/net_addr.h"
#include "net/perf.h"
#include "net/ping.h"

#define DHCP_WAIT_S 15
#define PING_DEFAULT_COUNT 4
#define PING_MAX_COUNT 100000
#define PERF_MAX_SECONDS 3600

static uint32_t ip4_host(const ip4_addr_t *a)
{
	return lwip_ntohl(ip4_addr_get_u32(a));
}

static void show_if(struct shell *sh, struct net_if *nif)
{
	const struct nic *nic = nif->nic;
	const struct nic_stats *s = &nic->stats;
	char addr[16], gw[16];

	net_addr_format(ip4_host(netif_ip4_addr(&nif->netif)), addr);
	net_addr_format(ip4_host(netif_ip4_gw(&nif->netif)), gw);
	sh_printf(sh, "interface: %s\nmodel: %s\npci: %02x:%02x.%x\n", nic->name, nic->model,
		  nic->pci->bus, nic->pci->dev, nic->pci->fn);
	sh_printf(sh, "mac: %02x:%02x:%02x:%02x:%02x:%02x\nlink: %s\n", nic->mac[0], nic->mac[1],
		  nic->mac[2], nic->mac[3], nic->mac[4], nic->mac[5],
		  nic->last_link ? "up" : "down");
	sh_printf(sh, "address: %s/%u\ngateway: %s\nconfig: %s\ndhcp: %s\n", addr,
		  net_mask_to_prefix(ip4_host(netif_ip4_netmask(&nif->netif))), gw,
		  nif->mode == NET_ADDR_STATIC ? "static" :
		  nif->mode == NET_ADDR_DHCP ? "dhcp" : "none",
		  net_if_dhcp_state(nif));
	sh_printf(sh, "rx_frames: %lu\nrx_bytes: %lu\ntx_frames: %lu\ntx_bytes: %lu\n",
		  (unsigned long)s->rx_frames, (unsigned long)s->rx_bytes,
		  (unsigned long)s->tx_frames, (unsigned long)s->tx_bytes);
	sh_printf(sh, "rx_dropped: %lu\nrx_errors: %lu\ntx_ring_full: %lu\ntx_dropped: %lu\n"
		      "link_changes: %lu\n",
		  (unsigned long)s->rx_dropped, (unsigned long)s->rx_errors,
		  (unsigned long)s->tx_ring_full, (unsigned long)nif->tx_dropped,
		  (unsigned long)s->link_changes);
	const unsigned tx = NIC_OFFLOAD_TX_L4_CSUM, rx = NIC_OFFLOAD_RX_L4_CSUM;
	sh_printf(sh, "offloads: %s%s%s\ncsum_offload: %s\nrx_csum_by: %s\n",
		  nic->offloads & tx ? "tx-tcp-csum" : "",
		  (nic->offloads & tx) && (nic->offloads & rx) ? "," : "",
		  nic->offloads & rx ? "rx-tcp-csum" : nic->offloads ? "" : "none",
		  nif->csum_offload ? "on" : "off", nif->rx_csum_by_nic ? "nic" : "lwip");
	sh_printf(sh, "tx_csum_offloaded: %lu\nrx_csum_vouched: %lu\nrx_csum_software: %lu\n"
		      "rx_csum_bad: %lu\n",
		  (unsigned long)s->tx_csum_offloaded, (unsigned long)s->rx_csum_vouched,
		  (unsigned long)nif->rx_csum_sw, (unsigned long)nif->rx_csum_bad);
}

/* The named interface, or eth0 when name is NULL; NULL after an error. */
static struct net_if *pick_if(struct shell *sh, const char *name)
{
	struct net_if *nif = name ? net_if_by_name(name) : net_if_at(0);

	if (!nif) {
		if (name)
			sh_error(sh, "no interface '%.16s' (see net)", name);
		else
			sh_error(sh, "no network interface (supported: virtio-net, e1000, e1000e)");
	}
	return nif;
}

/* net offload on|off [IFACE]: TCP checksums by the NIC or by lwIP, for
 * measuring one against the other. */
static int net_offload_cmd(struct shell *sh, int argc, char **argv)
{
	if (argc < 3 || argc > 4 || (strcmp(argv[2], "on") && strcmp(argv[2], "off")))
		return sh_error(sh, "usage: net offload on|off [IFACE]");
	struct net_if *nif = pick_if(sh, argc == 4 ? argv[3] : NULL);
	if (!nif)
		return SHELL_FAILED;
	bool on = !strcmp(argv[2], "on");
	if (!net_if_set_csum_offload(nif, on))
		return sh_error(sh, "%s (%s) cannot compute TCP checksums", nif->nic->name,
				nif->nic->model);
	sh_printf(sh, "csum_offload: %s\n", on ? "on" : "off");
	return SHELL_OK;
}

/* net ip ADDR/PREFIX [GATEWAY] [IF] */
static int net_ip_cmd(struct shell *sh, int argc, char **argv)
{
	uint32_t addr, gw = 0;
	unsigned prefix;
	const char *ifname = NULL;
	char err[96];

	if (argc < 3 || argc > 5)
		return sh_error(sh, "usage: net ip ADDR/PREFIX [GATEWAY] [IF]");
	if (!net_parse_cidr(argv[2], &addr, &prefix))
		return sh_error(sh, "'%.32s' is not ADDR/PREFIX (e.g. 10.0.0.1/24)", argv[2]);
	for (int i = 3; i < argc; i++) {
		if (!strncmp(argv[i], "eth", 3))
			ifname = argv[i];
		else if (!parse_ipv4(argv[i], &gw))
			return sh_error(sh, "'%.32s' is neither a gateway address nor an interface",
					argv[i]);
	}
	struct net_if *nif = pick_if(sh, ifname);
	if (!nif)
		return SHELL_FAILED;
	if (!net_if_set_static(nif, addr, prefix, gw, err, sizeof(err)))
		return sh_error(sh, "%s", err);
	show_if(sh, nif);
	return SHELL_OK;
}

/* net dhcp [IF]: waits for a lease. */
static int net_dhcp_cmd(struct shell *sh, int argc, char **argv)
{
	char err[96];

	if (argc > 3)
		return sh_error(sh, "usage: net dhcp [IF]");
	struct net_if *nif = pick_if(sh, argc == 3 ? argv[2] : NULL);
	if (!nif)
		return SHELL_FAILED;
	if (!net_if_start_dhcp(nif, err, sizeof(err)))
		return sh_error(sh, "%s", err);
	uint64_t deadline = time_ns() + DHCP_WAIT_S * NS_PER_SEC;
	while (!net_if_dhcp_bound(nif) && time_ns() < deadline)
		mainloop_poll(true);
	if (!net_if_dhcp_bound(nif))
		return sh_error(sh, "no DHCP offer within %u s on %s (still trying in the background)",
				DHCP_WAIT_S, nif->nic->name);
	show_if(sh, nif);
	return SHELL_OK;
}

static void show_result(struct shell *sh, const char *prefix, const struct perf_result *r)
{
	char peer[16];
	uint64_t ns = r->ns ? r->ns : (r->start_ns ? time_ns() - r->start_ns : 0);
	struct perf_result at_now = *r;

	at_now.ns = ns;
	net_addr_format(r->peer, peer);
	uint64_t kbits = net_perf_kbits(&at_now);
	sh_printf(sh, "%sstate: %s\n%sbytes: %lu\n%schecksum: 0x%016lx\n%sseconds: %lu.%03lu\n"
		      "%smbit_s: %lu.%03lu\n",
		  prefix, !r->start_ns ? "idle" : !r->done ? "running" : r->failed ? "failed" : "done",
		  prefix, (unsigned long)r->bytes, prefix, (unsigned long)r->checksum, prefix,
		  (unsigned long)(ns / NS_PER_SEC), (unsigned long)(ns % NS_PER_SEC / NS_PER_MS),
		  prefix, (unsigned long)(kbits / 1000), (unsigned long)(kbits % 1000));
	if (r->peer)
		sh_printf(sh, "%speer: %s\n", prefix, peer);
	if (r->failed)
		sh_printf(sh, "%sreason: %s\n", prefix, r->error); /* "error:" ends a command */
}

static bool parse_seconds(const char *s, unsigned *out)
{
	uint64_t v;

	if (!parse_u64(s, &v) || v < 1 || v > PERF_MAX_SECONDS)
		return false;
	*out = (unsigned)v;
	return true;
}

static int perf_show(struct shell *sh)
{
	uint16_t port;
	bool on = net_perf_listening(&port);

	sh_printf(sh, "listening: %s\n", on ? "yes" : "no");
	if (on)
		sh_printf(sh, "port: %u\n", port);
	show_result(sh, "tcp_", net_perf_tcp_received());
	const struct perf_result *raw = net_perf_raw_received();
	show_result(sh, "raw_", raw);
	sh_printf(sh, "raw_frames: %lu\nraw_frames_announced: %lu\n", (unsigned long)raw->frames,
		  (unsigned long)raw->frames_announced);
	return SHELL_OK;
}

/* net perf listen [PORT] */
static int perf_listen(struct shell *sh, int argc, char **argv)
{
	uint16_t port = NET_PERF_PORT;
	uint64_t v;
	char err[96];

	if (argc > 4 || (argc == 4 && (!parse_u64(argv[3], &v) || !v || v > 65535)))
		return sh_error(sh, "usage: net perf listen [PORT] (1-65535)");
	if (argc == 4)
		port = (uint16_t)v;
	if (!net_perf_listen(port, err, sizeof(err)))
		return sh_error(sh, "%s", err);
	sh_printf(sh, "listening: yes\nport: %u\n", port);
	return SHELL_OK;
}

/* net perf send ADDR [SECONDS] [port=P] */
static int perf_send(struct shell *sh, int argc, char **argv)
{
	uint32_t dst;
	unsigned seconds = 5;
	uint16_t port = NET_PERF_PORT;
	uint64_t v;

	if (argc < 4 || argc > 6 || !parse_ipv4(argv[3], &dst))
		return sh_error(sh, "usage: net perf send ADDR [SECONDS] [port=P]");
	for (int i = 4; i < argc; i++) {
		if (!strncmp(argv[i], "port=", 5)) {
			if (!parse_u64(argv[i] + 5, &v) || !v || v > 65535)
				return sh_error(sh, "port must be 1-65535");
			port = (uint16_t)v;
		} else if (!parse_seconds(argv[i], &seconds)) {
			return sh_error(sh, "seconds must be 1-%u", PERF_MAX_SECONDS);
		}
	}
	struct perf_result r;
	net_perf_send(dst, port, seconds, &r);
	show_result(sh, "", &r);
	return r.failed ? sh_error(sh, "%s", r.error) : SHELL_OK;
}

/* net perf raw [SECONDS] [IF] */
static int perf_raw(struct shell *sh, int argc, char **argv)
{
	unsigned seconds = 3;
	const char *ifname = NULL;
	char err[96];

	for (int i = 3; i < argc; i++) {
		if (!strncmp(argv[i], "eth", 3))
			ifname = argv[i];
		else if (!parse_seconds(argv[i], &seconds))
			return sh_error(sh, "usage: net perf raw [SECONDS] [IF]");
	}
	struct perf_result r;
	if (!net_perf_send_raw(ifname, seconds, &r, err, sizeof(err)))
		return sh_error(sh, "%s", err);
	show_result(sh, "", &r);
	sh_printf(sh, "frames: %lu\n", (unsigned long)r.frames);
	return SHELL_OK;
}

/* net perf [listen [PORT] | send ADDR [SECONDS] [port=P] | raw [SECONDS] [IF]] */
static int net_perf_cmd(struct shell *sh, int argc, char **argv)
{
	if (argc == 2)
		return perf_show(sh);
	if (!strcmp(argv[2], "listen"))
		return perf_listen(sh, argc, argv);
	if (!strcmp(argv[2], "send"))
		return perf_send(sh, argc, argv);
	if (!strcmp(argv[2], "raw"))
		return perf_raw(sh, argc, argv);
	return sh_error(sh, "unknown 'net perf %.16s' (listen, send, raw)", argv[2]);
}

/* What lwIP holds: its heap against the cap, and each fixed pool as
 * 'pool.NAME: used/size refused=N'. */
static int net_mem_cmd(struct shell *sh)
{
	const struct net_heap_stats *h = net_heap_stats();
	struct net_pool_stats p;

	sh_printf(sh, "heap_bytes: %zu\nheap_peak: %zu\nheap_max: %zu\nheap_refused: %lu\n"
		      "syn_filtered: %lu\n", h->bytes, h->peak, h->max, (unsigned long)h->refused,
		  (unsigned long)net_syn_filtered());
	for (size_t i = 0; i < net_pool_count(); i++)
		if (net_pool_stats(i, &p))
			sh_printf(sh, "pool.%s: %u/%u refused=%lu\n", p.name, p.used, p.avail,
				  (unsigned long)p.refused);
	return SHELL_OK;
}

int cmd_net(struct shell *sh, int argc, char **argv)
{
	if (argc == 1) {
		sh_printf(sh, "interfaces: %zu\npci_config: %s\n", net_if_count(),
			  pci_access_method());
		for (size_t i = 0; i < net_if_count(); i++)
			show_if(sh, net_if_at(i));
		return SHELL_OK;
	}
	if (argc == 2 && !strcmp(argv[1], "mem"))
		return net_mem_cmd(sh);
	if (!strcmp(argv[1], "ip"))
		return net_ip_cmd(sh, argc, argv);
	if (!strcmp(argv[1], "dhcp"))
		return net_dhcp_cmd(sh, argc, argv);
	if (!strcmp(argv[1], "perf"))
		return net_perf_cmd(sh, argc, argv);
	if (!strcmp(argv[1], "offload"))
		return net_offload_cmd(sh, argc, argv);
	if (argc == 2 && net_if_by_name(argv[1])) {
		show_if(sh, net_if_by_name(argv[1]));
		return SHELL_OK;
	}
	return sh_error(sh, "unknown 'net %.16s' (ip, dhcp, perf, offload, or an interface name)", argv[1]);
}

struct ping_out {
	struct shell *sh;
	uint32_t dst;
};

static void ping_report(void *ctx, unsigned seq, bool replied, uint64_t rtt_ns)
{
	struct ping_out *o = ctx;
	char addr[16];

	net_addr_format(o->dst, addr);
	if (replied)
		sh_printf(o->sh, "reply from %s: seq=%u time_us=%lu\n", addr, seq,
			  (unsigned long)(rtt_ns / NS_PER_US));
	else
		sh_printf(o->sh, "timeout: seq=%u\n", seq);
}

/* ping ADDR [COUNT] [interval=MS] */
int cmd_ping(struct shell *sh, int argc, char **argv)
{
	struct ping_out o = { .sh = sh };
	unsigned count = PING_DEFAULT_COUNT, interval_ms = 1000;
	struct ping_stats st;
	char err[96];
	uint64_t v;

	if (!parse_ipv4(argv[1], &o.dst))
		return sh_error(sh, "'%.32s' is not an IPv4 address", argv[1]);
	for (int i = 2; i < argc; i++) {
		if (!strncmp(argv[i], "interval=", 9)) {
			if (!parse_u64(argv[i] + 9, &v) || v < 10 || v > 60000)
				return sh_error(sh, "interval must be 10-60000 ms");
			interval_ms = (unsigned)v;
		} else if (parse_u64(argv[i], &v) && v >= 1 && v <= PING_MAX_COUNT) {
			count = (unsigned)v;
		} else {
			return sh_error(sh, "usage: ping ADDR [COUNT (1-%u)] [interval=MS]",
					PING_MAX_COUNT);
		}
	}
	if (!net_ping(o.dst, count, interval_ms, 1000, ping_report, &o, &st, err, sizeof(err)))
		return sh_error(sh, "%s", err);
	sh_printf(sh, "sent: %u\nreceived: %u\nlost: %u\n", st.sent, st.received,
		  st.sent - st.received);
	if (st.received)
		sh_printf(sh, "rtt_min_us: %lu\nrtt_avg_us: %lu\nrtt_max_us: %lu\n",
			  (unsigned long)(st.rtt_min_ns / NS_PER_US),
			  (unsigned long)(st.rtt_sum_ns / st.received / NS_PER_US),
			  (unsigned long)(st.rtt_max_ns / NS_PER_US));
	else
		return sh_error(sh, "no reply (%u sent)", st.sent);
	return SHELL_OK;
}
