/* The side-channel plan (hv/x86/side_channel_policy.c) follows the CPU's
 * features: IBPB between VMs wherever the CPU offers it (Intel's or AMD's
 * bit), VERW before entry only where the CPU needs it and can do it. */
#include <criterion/criterion.h>

#include "hv/x86/side_channel_policy.h"

Test(side_channel, ibpb_when_offered_by_either_vendor)
{
	struct cpu_features f = { .vendor = CPU_VENDOR_AMD, .ibpb = true };
	struct side_channel_plan p = side_channel_plan(&f);

	cr_assert(p.ibpb_between_vms);
	cr_assert_null(p.why_not_ibpb);
	f.ibpb = false;
	p = side_channel_plan(&f);
	cr_assert_not(p.ibpb_between_vms);
	cr_assert_str_eq(p.why_not_ibpb, "the CPU offers no IBPB");
}

Test(side_channel, verw_only_where_needed_and_possible)
{
	struct cpu_features f = { .md_clear = true };

	cr_assert(side_channel_plan(&f).verw_before_entry);
	f.arch_capabilities = true;
	f.arch_caps = ARCH_CAP_MDS_NO;
	struct side_channel_plan p = side_channel_plan(&f);
	cr_assert_not(p.verw_before_entry);
	cr_assert_str_eq(p.why_not_verw, "the CPU is not affected (MDS_NO)");
	f.arch_caps = 0;
	f.md_clear = false;
	p = side_channel_plan(&f);
	cr_assert_not(p.verw_before_entry);
	cr_assert(p.why_not_verw != NULL);
}
