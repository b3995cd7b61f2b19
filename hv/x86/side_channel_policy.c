#include "hv/x86/side_channel_policy.h"

struct side_channel_plan side_channel_plan(const struct cpu_features *f)
{
	struct side_channel_plan p = { 0 };
	bool mds_no = f->arch_capabilities && (f->arch_caps & ARCH_CAP_MDS_NO);

	p.ibpb_between_vms = f->ibpb;
	if (!f->ibpb)
		p.why_not_ibpb = "the CPU offers no IBPB";
	if (mds_no)
		p.why_not_verw = "the CPU is not affected (MDS_NO)";
	else if (!f->md_clear)
		p.why_not_verw = "the CPU offers no buffer-clearing VERW (MD_CLEAR)";
	else
		p.verw_before_entry = true;
	return p;
}
