/* Segmentation for an emulated data access: from segment and offset to
 * the linear address, with the checks the CPU makes first (Intel SDM vol.
 * 3 §5.3-5.5, §3.4.5.1; AMD APM vol. 2 §4.12): the segment must be usable
 * and readable or writable, the bytes within its limit (expand-down too);
 * in 64-bit mode the address must be canonical instead. */
#ifndef HV_EMUL_SEGMENT_H
#define HV_EMUL_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/emul/fault.h"

enum emul_mode {
	EMUL_REAL,      /* CR0.PE clear: only the limit counts */
	EMUL_V86,       /* virtual-8086: only the limit counts */
	EMUL_PROTECTED, /* protected or compatibility mode */
	EMUL_LONG64,    /* 64-bit mode: no limits, canonical addresses */
};

struct emul_segment {
	uint64_t base;
	uint32_t limit;   /* byte granular, as the CPU caches it */
	uint16_t attr;    /* packed attributes, hv/x86/seg_attr.h */
	bool is_ss;       /* its faults are #SS(0), not #GP(0) */
	bool base_in_64;  /* FS or GS: the base still counts in 64-bit mode */
};

/* The linear address of 'size' bytes at 'offset' (already truncated to the
 * address size) in segment s, for a write or a read. false: *fault holds
 * the #GP(0) or #SS(0) the CPU raises. Outside 64-bit mode the address
 * wraps at 4 GiB. */
bool emul_segment_linear(const struct emul_segment *s, enum emul_mode mode, uint64_t offset,
			 unsigned size, bool write, uint64_t *la, struct emul_fault *fault);

#endif
