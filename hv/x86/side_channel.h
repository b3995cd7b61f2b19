/* Applies side_channel_policy.h's plan: IBPB when the vCPU about to run
 * belongs to another VM than the one that ran last, VERW right before
 * entry. */
#ifndef HV_X86_SIDE_CHANNEL_H
#define HV_X86_SIDE_CHANNEL_H

#include <stdint.h>

#include "hv/x86/side_channel_policy.h"

void side_channel_init(void);
const struct side_channel_plan *side_channel_current(void);
/* @pre called before the VM's vCPU runs; vm_uid identifies the VM */
void side_channel_switch_to(uint64_t vm_uid);
void side_channel_before_entry(void);
uint64_t side_channel_ibpbs(void); /* issued so far */

#endif
