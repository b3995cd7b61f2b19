/* lwIP hooks (LWIP_HOOK_FILENAME): a listener may refuse a source before
 * lwIP spends a PCB or a SYN-ACK on it (net/syn_filter.c). */
#ifndef NET_PORT_NET_HOOKS_H
#define NET_PORT_NET_HOOKS_H

#include "lwip/err.h"

struct tcp_pcb;
struct tcp_hdr;
struct pbuf;

err_t net_syn_filter_hook(struct tcp_pcb *pcb, const struct tcp_hdr *hdr, const struct pbuf *p);

#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p)           \
	net_syn_filter_hook(pcb, hdr, p)

#endif
