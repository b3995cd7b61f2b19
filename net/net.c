/* Network start-up, interface configuration and the poll loop. */
#include "drivers/net/nic.h"
#include "hv/core/log.h"
#include "hv/core/mainloop.h"
#include "hv/core/settings.h"
#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/lib/parse.h"
#include "hv/lib/string.h"
#include "hv/lib/table.h"
#include "lwip/dhcp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/timeouts.h"
#include "net/net.h"
#include "net/net_addr.h"
#include "net/net_internal.h"

#define LINK_CHECK_NS (100 * NS_PER_MS)
#define RX_BUDGET 64

static struct net_if ifs[NIC_MAX];
static struct table attached = TABLE_OF(ifs);

size_t net_if_count(void)
{
	return table_count(&attached);
}

struct net_if *net_if_at(size_t i)
{
	return table_at(&attached, i);
}

struct net_if *net_if_by_name(const char *name)
{
	struct net_if *nif;

	for (size_t i = 0; (nif = net_if_at(i)); i++)
		if (!strcmp(nif->nic->name, name))
			return nif;
	return NULL;
}

struct net_if *net_if_for(uint32_t dst)
{
	struct net_if *fallback = NULL, *nif;

	for (size_t i = 0; (nif = net_if_at(i)); i++) {
		struct netif *n = &nif->netif;
		uint32_t addr = lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(n)));
		uint32_t mask = lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(n)));
		if (!addr)
			continue;
		if ((dst & mask) == (addr & mask))
			return nif;
		if (!fallback && ip4_addr_get_u32(netif_ip4_gw(n)))
			fallback = nif;
	}
	return fallback;
}

static void status_changed(struct netif *netif)
{
	struct net_if *nif = (struct net_if *)netif;
	char addr[16];

	if (ip4_addr_isany_val(*netif_ip4_addr(netif)))
		return;
	ip4addr_ntoa_r(netif_ip4_addr(netif), addr, sizeof(addr));
	log_info("net: %s: address %s/%u%s", nif->nic->name, addr,
		 net_mask_to_prefix(lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(netif)))),
		 nif->mode == NET_ADDR_DHCP ? " (dhcp)" : "");
}

bool net_if_set_static(struct net_if *nif, uint32_t addr, unsigned prefix, uint32_t gw,
		       char *err, size_t errlen)
{
	if (prefix < 1 || prefix > 32) {
		fmt_snprintf(err, errlen, "prefix length %u out of range 1-32", prefix);
		return false;
	}
	if (!net_addr_is_host(addr, prefix)) {
		fmt_snprintf(err, errlen, "not a host address in its network");
		return false;
	}
	if (nif->mode == NET_ADDR_DHCP)
		dhcp_release_and_stop(&nif->netif);
	ip4_addr_t a, m, g;
	ip4_addr_set_u32(&a, lwip_htonl(addr));
	ip4_addr_set_u32(&m, lwip_htonl(net_prefix_to_mask(prefix)));
	ip4_addr_set_u32(&g, lwip_htonl(gw));
	nif->mode = NET_ADDR_STATIC;
	netif_set_addr(&nif->netif, &a, &m, &g);
	return true;
}

bool net_if_start_dhcp(struct net_if *nif, char *err, size_t errlen)
{
	if (nif->mode == NET_ADDR_DHCP)
		dhcp_release_and_stop(&nif->netif);
	netif_set_addr(&nif->netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4);
	nif->mode = NET_ADDR_DHCP;
	if (dhcp_start(&nif->netif) != ERR_OK) {
		nif->mode = NET_ADDR_NONE;
		fmt_snprintf(err, errlen, "DHCP client could not start (out of memory)");
		return false;
	}
	return true;
}

bool net_if_dhcp_bound(const struct net_if *nif)
{
	return nif->mode == NET_ADDR_DHCP && dhcp_supplied_address(&nif->netif);
}

const char *net_if_dhcp_state(const struct net_if *nif)
{
	if (nif->mode != NET_ADDR_DHCP)
		return "off";
	return dhcp_supplied_address(&nif->netif) ? "bound" : "searching";
}

CONFIG_KEY(key_ip, "ip", NULL, "static address of eth0, A.B.C.D/PREFIX");
CONFIG_KEY(key_gw, "gw", NULL, "default gateway (with ip)");
CONFIG_KEY(key_dhcp, "dhcp", "0", "1: configure eth0 by DHCP at boot (ignored when ip is set)");

static void configure_from_settings(struct net_if *nif)
{
	const char *ip = setting("ip");
	const char *gw = setting("gw");
	char err[96];

	if (setting_bool("dhcp")) {
		if (!net_if_start_dhcp(nif, err, sizeof(err)))
			log_warn("net: %s: %s", nif->nic->name, err);
		return;
	}
	if (!ip)
		return;
	uint32_t addr, gwaddr = 0;
	unsigned prefix;
	if (!net_parse_cidr(ip, &addr, &prefix)) {
		log_warn("config: ip '%s' is not ADDR/PREFIX (e.g. 10.0.0.1/24); %s unconfigured",
			 ip, nif->nic->name);
		return;
	}
	if (gw && !parse_ipv4(gw, &gwaddr)) {
		log_warn("config: gw '%s' is not an IPv4 address; ignored", gw);
		gwaddr = 0;
	}
	if (!net_if_set_static(nif, addr, prefix, gwaddr, err, sizeof(err)))
		log_warn("config: ip '%s': %s", ip, err);
}

static struct poller net_poller = { .name = "net", .poll = net_poll, .stage = POLL_DEVICES };

/* Frames queued by this pass (replies, a migration's records) reach the
 * devices before the loop sleeps or runs guests: one notification for all. */
static bool net_flush(void)
{
	struct net_if *nif;

	for (size_t i = 0; (nif = net_if_at(i)); i++)
		nif->nic->ops->flush(nif->nic);
	return false;
}

static struct poller net_flush_poller = { .name = "net-flush", .poll = net_flush,
					  .stage = POLL_FLUSH };

void net_init(const struct net_settings *s)
{
	if (s->fw_nics_released || s->fw_nics_refused)
		log_info("net: firmware drivers released %u network controller%s%s",
			 s->fw_nics_released, s->fw_nics_released == 1 ? "" : "s",
			 s->fw_nics_refused ? " (some refused: their devices are reset now)" : "");
	size_t n = nic_probe_all();

	lwip_init();
	struct net_if *nif;
	for (size_t i = 0; i < n && (nif = table_add(&attached)); i++) {
		if (!net_if_attach(nif, nic_at(i))) {
			log_warn("net: %s: could not start (out of memory?)", nic_at(i)->name);
			table_drop_last(&attached);
			continue;
		}
		netif_set_status_callback(&nif->netif, status_changed);
	}
	mainloop_register(&net_poller);
	mainloop_register(&net_flush_poller);
	if (net_if_count())
		configure_from_settings(net_if_at(0));
	else if (setting("ip") || setting_bool("dhcp"))
		log_warn("net: no supported NIC (virtio-net, e1000, e1000e): network settings unused");
}

static void check_link(struct net_if *nif, uint64_t now)
{
	struct nic *nic = nif->nic;

	if (now < nif->link_check_ns)
		return;
	nif->link_check_ns = now + LINK_CHECK_NS;
	bool up = nic->ops->link_up(nic);
	if (up == nic->last_link)
		return;
	nic->last_link = up;
	nic->stats.link_changes++;
	log_info("net: %s: link %s", nic->name, up ? "up" : "down");
	if (up)
		netif_set_link_up(&nif->netif);
	else
		netif_set_link_down(&nif->netif);
}

bool net_poll(void)
{
	bool busy = false;
	uint64_t now = time_ns();

	struct net_if *nif;

	for (size_t i = 0; (nif = net_if_at(i)); i++) {
		if (nif->nic->ops->poll(nif->nic, RX_BUDGET) > 0)
			busy = true;
		check_link(nif, now);
	}
	if (net_if_count())
		sys_check_timeouts();
	return busy;
}
