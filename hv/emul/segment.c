#include "hv/emul/segment.h"

#include "hv/x86/cpu.h"
#include "hv/x86/seg_attr.h"
#include "hv/x86/trap.h"

/* The type allows the access: a data segment (writable for a write), or a
 * readable code segment for a read. A null selector leaves P clear. */
static bool usable(uint16_t attr, bool write)
{
	if (!(attr & SEG_ATTR_P) || !(attr & SEG_ATTR_S))
		return false;
	if (attr & SEG_ATTR_TYPE_CODE)
		return !write && (attr & SEG_ATTR_TYPE_RW);
	return !write || (attr & SEG_ATTR_TYPE_RW);
}

/* Every byte lies within the limit: offsets up to it for expand-up; above
 * it, up to 64 KiB or 4 GiB by D/B, for expand-down data. */
static bool within_limit(const struct emul_segment *s, bool expand_down, uint64_t offset,
			 unsigned size)
{
	uint64_t last = offset + size - 1;

	if (!expand_down)
		return last <= s->limit;
	uint64_t top = (s->attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffffull;
	return offset > s->limit && last <= top;
}

static bool refuse(const struct emul_segment *s, enum emul_mode mode, struct emul_fault *f)
{
	*f = (struct emul_fault){ s->is_ss ? VEC_SS : VEC_GP, mode != EMUL_REAL, 0, 0 };
	return false;
}

bool emul_segment_linear(const struct emul_segment *s, enum emul_mode mode, uint64_t offset,
			 unsigned size, bool write, uint64_t *la, struct emul_fault *fault)
{
	if (mode == EMUL_LONG64) {
		*la = (s->base_in_64 ? s->base : 0) + offset;
		if (!canonical_address(*la) || !canonical_address(*la + size - 1))
			return refuse(s, mode, fault);
		return true;
	}
	/* Real and virtual-8086 mode check only the limit: the attributes
	 * cached there need not describe a usable protected-mode segment. */
	bool prot = mode == EMUL_PROTECTED;
	bool expand_down = prot && !(s->attr & SEG_ATTR_TYPE_CODE) &&
			   (s->attr & SEG_ATTR_TYPE_DOWN);
	if ((prot && !usable(s->attr, write)) || !within_limit(s, expand_down, offset, size))
		return refuse(s, mode, fault);
	*la = (s->base + offset) & 0xffffffffull;
	return true;
}
