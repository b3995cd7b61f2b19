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

u32_t sys_now(void)
{
	return (u32_t)(time_ns() / NS_PER_MS);
}

void *lwip_port_malloc(size_t size)
{
	return kmalloc(size);
}

void *lwip_port_calloc(size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size)
		return NULL;
	return kzalloc(count * size);
}

void lwip_port_free(void *p)
{
	kfree(p);
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
