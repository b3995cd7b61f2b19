/* What lwIP asks of its platform (NO_SYS): a millisecond clock, memory,
 * random numbers, diagnostics and assertions. */
#include <stdarg.h>
#include <stdlib.h>

#include "hv/core/log.h"
#include "hv/core/panic.h"
#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/mm/mm.h"
#include "hv/x86/cpu.h"
#include "lwip/arch.h"
#include "lwip/sys.h"
#include "net/net.h"

u32_t sys_now(void)
{
	return (u32_t)(time_ns() / NS_PER_MS);
}

/* lwIP's heap (pbufs: frames received, data queued to send) is capped:
 * TCP windows bound what a peer can make it hold, but not what every peer
 * together can. Each block carries its size in front (16 bytes keep the
 * payload 16-byte aligned for DMA). */
#define NET_HEAP_MAX (48u << 20)
#define BLOCK_HEADER 16

static struct net_heap_stats heap = { .max = NET_HEAP_MAX };

const struct net_heap_stats *net_heap_stats(void)
{
	return &heap;
}

void *lwip_port_malloc(size_t size)
{
	if (size > heap.max - heap.bytes) {
		heap.refused++;
		return NULL;
	}
	uint8_t *block = kmalloc(size + BLOCK_HEADER);
	if (!block) {
		heap.refused++;
		return NULL;
	}
	*(size_t *)block = size;
	heap.bytes += size;
	if (heap.bytes > heap.peak)
		heap.peak = heap.bytes;
	return block + BLOCK_HEADER;
}

void *lwip_port_calloc(size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size)
		return NULL;
	void *p = lwip_port_malloc(count * size);
	if (p)
		memset(p, 0, count * size);
	return p;
}

void lwip_port_free(void *p)
{
	if (!p)
		return;
	uint8_t *block = (uint8_t *)p - BLOCK_HEADER;
	heap.bytes -= *(size_t *)block;
	kfree(block);
}

/* Seeds port numbers, TCP sequence numbers and DHCP transaction IDs: the
 * TSC's low bits mixed through xorshift (not for cryptography). */
uint32_t lwip_port_rand(void)
{
	static uint64_t state;

	if (!state)
		state = rdtsc() | 1;
	state ^= rdtsc() << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (uint32_t)(state >> 16);
}

void lwip_port_diag(const char *fmt, ...)
{
	char line[160];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	size_t n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	log_debug("lwip: %s", line);
}

void lwip_port_assert(const char *msg, const char *file, int line)
{
	panic("lwIP assertion failed: %s (%s:%d)", msg, file, line);
}

/* For netif_find("et0"): decimal digits, no sign, stops at the first
 * other character. */
int atoi(const char *s)
{
	int v = 0;

	while (*s >= '0' && *s <= '9' && v < 100000000)
		v = v * 10 + (*s++ - '0');
	return v;
}
