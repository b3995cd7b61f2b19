/* The guest page walker (hv/emul/gwalk.h) for a vCPU as it stands: its
 * control registers, CPL and RFLAGS.AC, the physical-address width and
 * page sizes its CPUID offers, reads from its RAM and accessed/dirty
 * updates through the dirty log. */
#ifndef HV_VM_VCPU_WALK_H
#define HV_VM_VCPU_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/emul/gwalk.h"
#include "hv/vm/vcpu.h"

/* @pre s is v's state (get_state). */
void vcpu_walker(struct vcpu *v, const struct vcpu_state *s, struct gwalk *w);

/* The current privilege level in state s. */
unsigned vcpu_cpl(const struct vcpu_state *s);

/* Writes guest RAM (ctx: the struct vm) and logs the bytes dirty, as every
 * write of the hypervisor's own into guest memory must be. */
bool vcpu_write_guest(void *ctx, uint64_t gpa, const void *buf, size_t len);

#endif
