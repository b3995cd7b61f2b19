/* IPv4 address helpers; see net_addr.h. */
#include "net/net_addr.h"

#include "hv/lib/format.h"
#include "hv/lib/parse.h"
#include "hv/lib/string.h"

bool net_parse_cidr(const char *s, uint32_t *addr, unsigned *prefix)
{
	char buf[20];
	const char *slash = strchr(s, '/');
	uint64_t n;

	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return false;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (!parse_ipv4(buf, addr) || !parse_u64(slash + 1, &n) || n < 1 || n > 32 ||
	    (slash[1] == '0' && slash[2] == 'x'))
		return false;
	*prefix = (unsigned)n;
	return true;
}

uint32_t net_prefix_to_mask(unsigned prefix)
{
	return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1);
}

unsigned net_mask_to_prefix(uint32_t mask)
{
	unsigned p = 0;

	for (uint32_t m = mask; m & 0x80000000u; m <<= 1)
		p++;

	return net_prefix_to_mask(p) == mask ? p : 0;
}

bool net_addr_is_host(uint32_t addr, unsigned prefix)
{
	uint32_t mask = net_prefix_to_mask(prefix);

	if (!addr || addr == 0xffffffffu || (addr >> 28) == 0xe || (addr >> 24) == 127)
		return false;
	if (prefix >= 31)
		return true;
	return (addr & ~mask) != 0 && (addr & ~mask) != ~mask;
}

void net_addr_format(uint32_t addr, char *buf)
{
	fmt_snprintf(buf, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
		     addr & 0xff);
}
