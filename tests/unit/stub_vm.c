#include "stub_vm.h"

#include <string.h>

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
	.exit_name = stub_exit_name,
};

const struct vcpu_ops *vcpu_ops = &stub_ops;
