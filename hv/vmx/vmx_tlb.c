/* Dropping cached guest translations: INVEPT for second-level table
 * changes (it also covers VPID-tagged combined mappings of that EPTP) and
 * INVVPID when a VPID changes hands. */
#include "hv/vmx/vmx.h"

enum { INV_SINGLE_CONTEXT = 1, INV_ALL_CONTEXTS = 2 };

struct invept_descriptor {
	uint64_t eptp, reserved;
};

struct invvpid_descriptor {
	uint64_t vpid, linear_address;
};

void vmx_invept(uint64_t eptp)
{
	struct invept_descriptor d = { eptp, 0 };
	uint64_t type = vmx_caps.invept_single ? INV_SINGLE_CONTEXT : INV_ALL_CONTEXTS;

	__asm__ volatile("invept %0, %1" : : "m"(d), "r"(type) : "cc", "memory");
}

void vmx_invvpid(uint16_t vpid)
{
	struct invvpid_descriptor d = { vpid, 0 };

	if (!vmx_caps.invvpid_single || vpid == 0)
		return;
	__asm__ volatile("invvpid %0, %1" : : "m"(d), "r"((uint64_t)INV_SINGLE_CONTEXT)
			 : "cc", "memory");
}
