/* lwIP configuration for the hypervisor: no threads (NO_SYS, driven from
 * the main loop), IPv4 only, memory from the hypervisor heap, windows sized
 * for bulk transfers (live migration) on links of a few Gbit/s. */
#ifndef NET_LWIPOPTS_H
#define NET_LWIPOPTS_H

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0 /* lwIP runs only in the main loop, never in interrupts */
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_ALTCP 0

/* Buffers (pbufs, lwIP's heap) come from kmalloc, physically contiguous
 * (identity map), so payloads go to NICs for DMA as they are; the port caps
 * their total (sys_arch.c). Every other lwIP object comes from a fixed pool:
 * what the network can make lwIP allocate (a SYN flood: one PCB per SYN) is
 * bounded and never taken from the pages guests and migrations need. */
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 0
#define MEM_ALIGNMENT 8
#define mem_clib_malloc lwip_port_malloc
#define mem_clib_free lwip_port_free
#define mem_clib_calloc lwip_port_calloc

#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define ETHARP_SUPPORT_STATIC_ENTRIES 1
#define LWIP_ICMP 1
#define LWIP_RAW 1
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
#define LWIP_DHCP_DOES_ACD_CHECK 0
#define DHCP_DOES_ARP_CHECK 0
#define LWIP_DNS 0
#define LWIP_IGMP 0
#define LWIP_AUTOIP 0
#define IP_REASSEMBLY 1
#define IP_FRAG 1

#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_HOSTNAME 1
#define LWIP_SINGLE_NETIF 0

/* TCP for bulk data: large windows with scaling. */
/* Per interface: where the NIC computes and checks TCP checksums, lwIP
 * does not (net/netif_nic.c, net/l4_csum.c). */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1
#define TCP_MSS 1460
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 3
#define TCP_WND (256 * 1024)
#define TCP_SND_BUF (256 * 1024)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define MEMP_NUM_TCP_SEG TCP_SND_QUEUELEN
#define TCP_SNDLOWAT (32 * 1024) /* a u16_t in lwIP */
#define TCP_QUEUE_OOSEQ 1
#define TCP_OVERSIZE TCP_MSS
#define LWIP_TCP_KEEPALIVE 1
#define LWIP_HOOK_FILENAME "net_hooks.h"

/* The pools. Each SYN that reaches a listener takes a PCB until the
 * handshake completes or lwIP gives up on it (20 s): a flood would hold all
 * of them. So segments from non-peers never reach the migration and disk
 * listeners, and listeners open to anyone (net perf) get new PCBs only
 * while 4 remain for those (net/syn_filter.c). Established transfers run at
 * TCP_PRIO_MAX, so lwIP never recycles them for a newcomer. No listen
 * backlog (TCP_LISTEN_BACKLOG): the filter is the admission control. */
#define MEMP_NUM_TCP_PCB 16
#define MEMP_NUM_TCP_PCB_LISTEN 8
#define MEMP_NUM_UDP_PCB 8
#define MEMP_NUM_RAW_PCB 4
#define MEMP_NUM_TCP_SEG (3 * TCP_SND_QUEUELEN) /* sending plus out-of-order */
/* Referenced (not copied) data takes one per queued segment. */
#define MEMP_NUM_PBUF (TCP_SND_QUEUELEN + 64)
#define MEMP_NUM_REASSDATA 4
#define IP_REASS_MAX_PBUFS 48
#define MEMP_NUM_FRAG_PBUF 32
#define MEMP_NUM_ARP_QUEUE 32
#define ARP_TABLE_SIZE 32
#define PBUF_POOL_SIZE 8 /* unused: receive buffers are PBUF_RAM (netif_nic.c) */
/* lwIP's TCP sanity check sizes the window against PBUF_POOL, which this
 * port does not receive into. */
#define LWIP_DISABLE_TCP_SANITY_CHECKS 1
#define PBUF_POOL_BUFSIZE 1536

#define LWIP_CHKSUM_ALGORITHM 3
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define LWIP_PROVIDE_ERRNO 1

#endif
