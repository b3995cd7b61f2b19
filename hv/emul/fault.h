/* An exception an emulated instruction raises, as the CPU would raise it. */
#ifndef HV_EMUL_FAULT_H
#define HV_EMUL_FAULT_H

#include <stdbool.h>
#include <stdint.h>

struct emul_fault {
	uint8_t vector;   /* VEC_PF, VEC_GP, VEC_SS (hv/x86/trap.h) */
	bool has_error;   /* false in real mode, which pushes no error codes */
	uint32_t error;   /* #PF: PF_ERR_* bits; #GP/#SS: 0 here */
	uint64_t address; /* #PF: the linear address for CR2 */
};

#endif
