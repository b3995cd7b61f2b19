#include "hv/vm/vcpu_walk.h"
#include "stub_vm.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hv/vm/dirty_log.h"
#include "hv/vm/kvmclock.h"
#include "hv/vm/mmio.h"
#include "hv/vm/poison.h"
#include "hv/vm/platform.h"
#include "hv/vm/vm.h"
#include "hv/x86/msr.h"
#include "hv/x86/spinlock.h"

struct stub_vm stub;

void stub_reset(void)
{
	memset(&stub, 0, sizeof(stub));
}

static void stub_get_state(struct vcpu *v, struct vcpu_state *s)
{
	(void)v;
	stub.get_state_calls++;
	*s = stub.state;
}

static void stub_set_state(struct vcpu *v, const struct vcpu_state *s)
{
	(void)v;
	stub.set_state_calls++;
	stub.state = *s;
}

static void stub_inject(struct vcpu *v, const struct vcpu_event *e)
{
	(void)v;
	stub.injects++;
	stub.injected = *e;
}

static void stub_request_interrupt_window(struct vcpu *v, bool on)
{
	(void)v;
	stub.window_requests++;
	stub.window_on = on;
}

static void stub_drop_events(struct vcpu *v)
{
	(void)v;
	stub.drop_events_calls++;
}

static const char *stub_exit_name(uint32_t code)
{
	(void)code;
	return "stub-exit";
}

static const struct vcpu_ops stub_ops = {
	.name = "stub",
	.get_state = stub_get_state,
	.set_state = stub_set_state,
	.inject = stub_inject,
	.request_interrupt_window = stub_request_interrupt_window,
	.drop_events = stub_drop_events,
	.exit_name = stub_exit_name,
};

const struct vcpu_ops *vcpu_ops = &stub_ops;

uint32_t port_read(struct vm *vm, uint16_t port, unsigned size)
{
	(void)vm;
	stub.port_reads++;
	stub.port = port;
	stub.port_size = size;
	return stub.port_value;
}

enum port_result port_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
	(void)vm;
	stub.port_writes++;
	stub.port = port;
	stub.port_size = size;
	stub.port_value = value;
	return stub.port_write_result;
}

/* The platform's devices: the local APIC page at its reset address. */
bool platform_mmio_claims(const struct vcpu *v, uint64_t gpa)
{
	(void)v;
	return gpa >= VLAPIC_BASE && gpa < VLAPIC_BASE + VLAPIC_SIZE;
}

enum exit_action emulate_mmio(struct vcpu *v, const struct vm_exit *e)
{
	(void)v;
	(void)e;
	stub.mmio_calls++;
	return stub.mmio_result;
}

unsigned vcpu_cpl(const struct vcpu_state *s)
{
	return (s->seg[SEG_SS].attr >> SEG_ATTR_DPL_SHIFT) & 3;
}

enum exit_action emulate_unbacked(struct vcpu *v, const struct vm_exit *e)
{
	(void)v;
	(void)e;
	stub.unbacked_calls++;
	return stub.mmio_result;
}

enum exit_action emulate_string_io(struct vcpu *v, const struct vm_exit *e)
{
	(void)v;
	(void)e;
	stub.string_io_calls++;
	return stub.string_io_result;
}

bool kvmclock_msr_read(const struct vcpu *vm, uint32_t index, uint64_t *value)
{
	(void)vm;
	if (index != MSR_KVM_WALL_CLOCK_NEW && index != MSR_KVM_SYSTEM_TIME_NEW)
		return false;
	*value = stub.kvmclock_msr[index - MSR_KVM_WALL_CLOCK_NEW];
	return true;
}

bool kvmclock_msr_write(struct vcpu *vm, uint32_t index, uint64_t value)
{
	(void)vm;
	if (index != MSR_KVM_WALL_CLOCK_NEW && index != MSR_KVM_SYSTEM_TIME_NEW)
		return false;
	stub.kvmclock_writes++;
	stub.kvmclock_msr[index - MSR_KVM_WALL_CLOCK_NEW] = value;
	return true;
}

void kvmclock_tsc_changed(struct vcpu *vm, uint64_t old_tsc_offset)
{
	(void)vm;
	stub.kvmclock_old_offset = old_tsc_offset;
	stub.kvmclock_tsc_changes++;
}

bool vm_page_poisoned(const struct vm *vm, uint64_t gpa)
{
	(void)vm;
	return stub.poisoned_gpa && (gpa & ~0xfffull) == stub.poisoned_gpa;
}

bool dirty_log_write_fault(struct vm *vm, unsigned vcpu_index, uint64_t gpa)
{
	(void)vm;
	(void)vcpu_index;
	stub.dirty_faults++;
	stub.dirty_fault_gpa = gpa;
	return stub.dirty_fault_result;
}

void dirty_log_buffer_full(struct vcpu *v)
{
	(void)v;
	stub.dirty_buffer_full++;
}

void vm_crash(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	(void)vm;
	stub.crashes++;
	stub.crashed_under_lock = stub.locks > 0;
	va_start(ap, fmt);
	vsnprintf(stub.crash_reason, sizeof(stub.crash_reason), fmt, ap);
	va_end(ap);
}

/* The VM lock some exit handlers take: the host tests run one vCPU on one
 * thread, so it only counts. */
bool spin_lock_irqsave(struct spinlock *l)
{
	(void)l;
	stub.locks++;
	return false;
}

void spin_unlock_irqrestore(struct spinlock *l, bool irq_was_on)
{
	(void)l;
	(void)irq_was_on;
	stub.locks--;
}
