/* lwIP's fixed pools as the console shows them (lwIP keeps the counts:
 * MEMP_STATS). A pool at its size refuses; 'refused' says how often. */
#include "lwip/memp.h"
#include "lwip/stats.h"
#include "net/net.h"

/* lwIP names its pools only in debug builds: the same list, as names. */
static const char *const pool_names[] = {
#define LWIP_MEMPOOL(name, num, size, desc) #name,
#include "lwip/priv/memp_std.h"
};

size_t net_pool_count(void)
{
	return MEMP_MAX;
}

bool net_pool_stats(size_t i, struct net_pool_stats *out)
{
	if (i >= MEMP_MAX || !lwip_stats.memp[i])
		return false;
	const struct stats_mem *m = lwip_stats.memp[i];
	*out = (struct net_pool_stats){ pool_names[i], m->used, m->avail, m->err };
	return true;
}
