/* IPv4 address helpers behind `net ip` and the config's ip= setting. */
#include <criterion/criterion.h>
#include <string.h>

#include "net/net_addr.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))

Test(net_addr, cidr_parses_address_and_prefix)
{
	uint32_t addr;
	unsigned prefix;

	cr_assert(net_parse_cidr("10.0.0.1/24", &addr, &prefix));
	cr_assert_eq(addr, IP(10, 0, 0, 1));
	cr_assert_eq(prefix, 24);
	cr_assert(net_parse_cidr("192.168.100.254/32", &addr, &prefix));
	cr_assert_eq(addr, IP(192, 168, 100, 254));
	cr_assert_eq(prefix, 32);
}

Test(net_addr, bad_cidr_is_refused)
{
	const char *bad[] = { "10.0.0.1", "10.0.0.1/", "10.0.0.1/0", "10.0.0.1/33",
			      "10.0.0.1/0x10", "10.0.0/24", "10.0.0.256/24", "/24",
			      "10.0.0.1/24x", "10.0.0.1//24", "10.0.0.1.5/24",
			      "1234567890.1.1.1/8", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t addr = 0x5a5a5a5a;
		unsigned prefix = 99;
		cr_assert_not(net_parse_cidr(bad[i], &addr, &prefix), "%s", bad[i]);
	}
}

Test(net_addr, prefix_and_mask_round_trip)
{
	cr_assert_eq(net_prefix_to_mask(24), 0xffffff00u);
	cr_assert_eq(net_prefix_to_mask(32), 0xffffffffu);
	cr_assert_eq(net_prefix_to_mask(1), 0x80000000u);
	for (unsigned p = 1; p <= 32; p++)
		cr_assert_eq(net_mask_to_prefix(net_prefix_to_mask(p)), p);
	cr_assert_eq(net_mask_to_prefix(0xff00ff00u), 0, "holes are not a mask");
	cr_assert_eq(net_mask_to_prefix(0x00ffffffu), 0);
}

Test(net_addr, host_addresses_exclude_network_broadcast_and_special)
{
	cr_assert(net_addr_is_host(IP(10, 0, 0, 1), 24));
	cr_assert_not(net_addr_is_host(IP(10, 0, 0, 0), 24));
	cr_assert_not(net_addr_is_host(IP(10, 0, 0, 255), 24));
	cr_assert(net_addr_is_host(IP(10, 0, 0, 255), 16));
	cr_assert(net_addr_is_host(IP(10, 0, 0, 0), 31), "RFC 3021 point-to-point");
	cr_assert(net_addr_is_host(IP(10, 0, 0, 7), 32));
	cr_assert_not(net_addr_is_host(0, 8));
	cr_assert_not(net_addr_is_host(0xffffffffu, 32));
	cr_assert_not(net_addr_is_host(IP(224, 0, 0, 1), 24));
	cr_assert_not(net_addr_is_host(IP(127, 0, 0, 1), 8));
}

Test(net_addr, format_is_dotted_quad)
{
	char buf[16];

	net_addr_format(IP(255, 255, 255, 255), buf);
	cr_assert_str_eq(buf, "255.255.255.255");
	net_addr_format(IP(10, 0, 2, 15), buf);
	cr_assert_str_eq(buf, "10.0.2.15");
}
