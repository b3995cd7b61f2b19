/* Stand-ins for the parts of the VM machinery the host-built policy and
 * exit code call but cannot have on the host: the backend's vcpu_ops, the
 * guest platform (ports, MMIO), poisoning, the dirty log and vm_crash.
 * Each records its calls so tests can check what was asked of it. */
#ifndef TESTS_UNIT_STUB_VM_H
#define TESTS_UNIT_STUB_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/vm/vcpu.h"

struct stub_vm {
	/* vcpu_ops */
	struct vcpu_state state;   /* what get_state returns, set_state stores */
	unsigned get_state_calls, set_state_calls;
	unsigned injects;
	struct vcpu_event injected;
	unsigned window_requests;
	bool window_on;
};

extern struct stub_vm stub;

/* Clears every record; state starts zeroed. */
void stub_reset(void);

#endif
