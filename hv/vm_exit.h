#ifndef HV_VM_EXIT_H
#define HV_VM_EXIT_H

#include "hv/vcpu.h"

enum exit_action {
	EXIT_CONTINUE, /* re-enter the guest */
	EXIT_YIELD,    /* give the CPU back to the host (tick, HLT) */
	EXIT_STOP,     /* the VM stopped or crashed */
};

enum exit_action vm_handle_exit(struct vcpu *v, const struct vm_exit *e);
const char *exit_kind_name(enum exit_kind k);

#endif
