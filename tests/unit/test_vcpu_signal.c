/* INIT and start-up IPIs as a vCPU acts on them (hv/vm/vcpu_signal.c),
 * against the stub backend: the INIT state of SDM table 9-1 with the MSRs
 * and the TSC kept, an AP waiting for start-up, real mode at VV00:0000
 * after it, and start-ups that reach a CPU not waiting for one ignored. */
#include <criterion/criterion.h>
#include <string.h>

#include "hv/vm/vcpu_signal.h"
#include "hv/vm/vm.h"
#include "stub_vm.h"

static struct vm vm;

static struct cpuid_regs signature(const struct cpuid_host *h, uint32_t leaf, uint32_t sub)
{
	(void)h;
	(void)sub;
	return leaf == 1 ? (struct cpuid_regs){ 0x00a50f00, 0, 0, 0 } :
			   (struct cpuid_regs){ leaf == 0 ? 0xd : 0, 0, 0, 0 };
}

static struct vcpu *ap(unsigned i)
{
	struct vcpu *v = &vm.vcpus[i];

	v->vm = &vm;
	v->index = i;
	vlapic_init(&v->lapic, i, 1000000000ull);
	if (i)
		vlapic_make_ap(&v->lapic);
	return v;
}

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	stub_reset();
	vm.nvcpus = 2;
	vm.cpuid.query = signature;
}

TestSuite(vcpu_signal, .init = setup);

static void deliver(struct vcpu *v, uint8_t mode, uint8_t vector)
{
	struct apic_msg m = { .vector = vector, .delivery = mode, .dest = (uint8_t)v->index };
	cr_assert(vlapic_receive(&v->lapic, &m));
}

Test(vcpu_signal, an_ap_powers_on_waiting_in_the_init_state)
{
	struct vcpu *v = ap(1);

	vcpu_power_on_ap(v, 0x1234);
	cr_assert(v->wait_for_sipi && !vcpu_runnable(v));
	cr_assert_eq(stub.state.cr0, 0x60000010);
	cr_assert_eq(stub.state.regs.rip, 0xfff0);
	cr_assert_eq(stub.state.regs.rdx, 0x00a50f00, "EDX holds the CPU signature");
	cr_assert_eq(stub.state.seg[SEG_CS].selector, 0xf000);
	cr_assert_eq(stub.state.seg[SEG_CS].base, 0xffff0000);
	cr_assert_eq(stub.state.pat, 0x0007040600070406ull);
	cr_assert_eq(stub.state.tsc_offset, 0x1234);
	cr_assert_eq(v->lapic.tsc_offset, 0x1234, "its TSC-deadline timer counts guest TSC");
}

Test(vcpu_signal, start_up_runs_real_mode_code_at_the_vector)
{
	struct vcpu *v = ap(1);

	vcpu_power_on_ap(v, 0);
	deliver(v, APIC_DM_STARTUP, 0x9a);
	vcpu_take_signals(v);
	cr_assert(!v->wait_for_sipi && vcpu_runnable(v));
	cr_assert_eq(stub.state.seg[SEG_CS].selector, 0x9a00);
	cr_assert_eq(stub.state.seg[SEG_CS].base, 0x9a000);
	cr_assert_eq(stub.state.regs.rip, 0);
	cr_assert_eq(stub.state.cr0 & 1, 0, "real mode");
}

Test(vcpu_signal, init_keeps_msrs_and_the_tsc_and_resets_the_apic)
{
	struct vcpu *v = ap(1);

	stub.state.cr0 = 0x80000011;
	stub.state.efer = 0x500;
	stub.state.lstar = 0xffffffff81000000ull;
	stub.state.tsc_offset = 777;
	stub.state.regs.rax = 5;
	v->lapic.tpr = 0x20;
	v->halted = true;
	deliver(v, APIC_DM_INIT, 0);
	vcpu_take_signals(v);
	cr_assert(v->wait_for_sipi && !v->halted);
	cr_assert_eq(stub.state.cr0, 0x60000010);
	cr_assert_eq(stub.state.efer, 0);
	cr_assert_eq(stub.state.regs.rax, 0);
	cr_assert_eq(stub.state.lstar, 0xffffffff81000000ull, "MSRs are kept");
	cr_assert_eq(stub.state.tsc_offset, 777, "the TSC is kept");
	cr_assert_eq(v->lapic.tpr, 0, "the APIC is reset");
	cr_assert_eq(v->lapic.id, 1, "its ID kept");
	cr_assert_eq(stub.drop_events_calls, 1, "events queued for the old state are dropped");
}

Test(vcpu_signal, init_then_start_up_both_arrived_apply_in_order)
{
	struct vcpu *v = ap(1);

	stub.state.cr0 = 0x80000011;
	deliver(v, APIC_DM_INIT, 0);
	deliver(v, APIC_DM_STARTUP, 0x10);
	vcpu_take_signals(v);
	cr_assert(vcpu_runnable(v));
	cr_assert_eq(stub.state.seg[SEG_CS].base, 0x10000);
}

Test(vcpu_signal, a_start_up_to_a_running_cpu_is_ignored)
{
	struct vcpu *v = ap(1);

	vcpu_power_on_ap(v, 0);
	deliver(v, APIC_DM_STARTUP, 0x08);
	vcpu_take_signals(v);
	cr_assert(vcpu_runnable(v));
	deliver(v, APIC_DM_STARTUP, 0x20); /* the second SIPI of INIT-SIPI-SIPI */
	vcpu_drop_stale_sipi(v);
	vcpu_take_signals(v);
	cr_assert_eq(stub.state.seg[SEG_CS].base, 0x8000, "started once, at the first vector");
	/* A later INIT makes it wait again; the stale start-up did not linger. */
	deliver(v, APIC_DM_INIT, 0);
	vcpu_take_signals(v);
	cr_assert(v->wait_for_sipi);
}

Test(vcpu_signal, the_bsp_does_not_wait_after_init)
{
	struct vcpu *v = ap(0);

	deliver(v, APIC_DM_INIT, 0);
	vcpu_take_signals(v);
	cr_assert(!v->wait_for_sipi && vcpu_runnable(v), "the BSP runs from the reset vector");
	cr_assert_eq(stub.state.regs.rip, 0xfff0);
}
