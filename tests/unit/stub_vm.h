/* Stand-ins for the parts of the VM machinery the host-built policy and
 * exit code call but cannot have on the host: the backend's vcpu_ops, the
 * guest platform (ports, MMIO, string I/O), poisoning, the dirty log,
 * kvmclock and vm_crash. Each records its calls so tests can check what was asked of
 * it, and returns what the test put in 'stub'. */
#ifndef TESTS_UNIT_STUB_VM_H
#define TESTS_UNIT_STUB_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/vm/ports.h"
#include "hv/vm/vcpu.h"
#include "hv/vm/vm_exit.h"

struct stub_vm {
	/* vcpu_ops */
	struct vcpu_state state;   /* what get_state returns, set_state stores */
	unsigned get_state_calls, set_state_calls;
	unsigned injects;
	struct vcpu_event injected;
	unsigned window_requests;
	bool window_on;
	unsigned drop_events_calls;

	/* ports.c: the last access */
	unsigned port_reads, port_writes;
	uint16_t port;
	unsigned port_size;
	uint32_t port_value;          /* written, or returned by port_read */
	enum port_result port_write_result;

	/* mmio.c */
	unsigned mmio_calls, string_io_calls, unbacked_calls;
	enum exit_action mmio_result, string_io_result;

	/* poison.c, dirty_log.c */
	uint64_t poisoned_gpa;        /* vm_page_poisoned is true for its page; 0: none */
	unsigned dirty_faults, dirty_buffer_full;
	bool dirty_fault_result;
	uint64_t dirty_fault_gpa;

	/* kvmclock.c: the MSRs it claims read back what was written */
	unsigned kvmclock_writes, kvmclock_tsc_changes;
	uint64_t kvmclock_msr[2];
	uint64_t kvmclock_old_offset;

	/* vm.c */
	unsigned crashes;
	char crash_reason[256];
	bool crashed_under_lock;

	/* spinlock.c: how many VM locks are held now */
	int locks;
};

extern struct stub_vm stub;

/* Clears every record and return value; state starts zeroed. */
void stub_reset(void);

#endif
