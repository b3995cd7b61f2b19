#ifndef HV_VM_VM_EXIT_H
#define HV_VM_VM_EXIT_H

#include "hv/vm/vcpu.h"

enum exit_action {
	EXIT_CONTINUE, /* re-enter the guest */
	EXIT_YIELD,    /* give the CPU back to the host (tick, HLT) */
	EXIT_STOP,     /* the VM stopped or crashed */
};

enum exit_action vm_handle_exit(struct vcpu *v, const struct vm_exit *e);

/* A #MC intercepted while a guest ran (EXIT_MACHINE_CHECK): the CPU did
 * not run the host's handler, so hv/mce registers what reads the banks
 * then; it returns false when the guest's context cannot resume. */
void vm_exit_set_machine_check_reader(bool (*reader)(void));
const char *exit_kind_name(enum exit_kind k);

#endif
