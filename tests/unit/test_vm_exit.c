/* Generic exit handling (hv/vm/vm_exit.c) with the real CPUID and MSR
 * policies behind it and stubs for the backend and the guest platform
 * (tests/unit/stub_vm.c): each exit kind reaches its handler, RIP moves
 * exactly when the instruction completed, exceptions are queued as the
 * SDM/APM define them, and every exit is counted by kind. */
#include <criterion/criterion.h>
#include <string.h>

#include "hv/vm/msr_policy.h"
#include "hv/vm/vm.h"
#include "hv/vm/vm_exit.h"
#include "hv/x86/msr.h"
#include "stub_vm.h"

#define RIP0 0x100000ull
#define MiB (1ull << 20)

static struct vm vm;
static struct vcpu *const v = &vm.vcpus[0];

/* The guest's CPUID source: basic leaves to 1, extended to 0x80000001
 * with LM and NX (so EFER.LME and NXE are allowed). */
static struct cpuid_regs fake_cpuid(const struct cpuid_host *host, uint32_t leaf, uint32_t sub)
{
	(void)host;
	(void)sub;
	switch (leaf) {
	case 0: return (struct cpuid_regs){ 1, 0x756e6547, 0x6c65746e, 0x49656e69 };
	case 1: return (struct cpuid_regs){ 0x000906ea, 0x05100800, 0x00000201, 0x178bfbff };
	case 0x80000000u: return (struct cpuid_regs){ 0x80000001u, 0, 0, 0 };
	case 0x80000001u: return (struct cpuid_regs){ 0, 0, 0, (1u << 29) | (1u << 20) };
	}
	return (struct cpuid_regs){ 0, 0, 0, 0 };
}

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	stub_reset();
	v->vm = &vm;
	vm.nvcpus = 1;
	v->regs.rip = RIP0;
	vm.mem.size = 64 * MiB;
	vm.cpuid = (struct cpuid_host){ fake_cpuid, 2000000000ull };
	vm.vcpus[0].lapic.id = 0;
	msr_guest_init(v);
	vm_exit_set_machine_check_reader(NULL);
}

TestSuite(vm_exit, .init = setup);

static enum exit_action handle(enum exit_kind kind, uint8_t insn_len)
{
	struct vm_exit e = { .kind = kind, .code = 0x42, .insn_len = insn_len,
			     .info1 = 0x11, .info2 = 0x22 };

	return vm_handle_exit(v, &e);
}

static void assert_no_exception(void)
{
	cr_assert_not(v->pending_exception, "exception %u queued", v->exception.vector);
}

static void assert_queued(uint8_t vector, bool has_error)
{
	cr_assert(v->pending_exception, "no exception queued");
	cr_assert_eq(v->exception.type, EVENT_EXCEPTION);
	cr_assert_eq(v->exception.vector, vector, "vector %u, expected %u", v->exception.vector,
		     vector);
	cr_assert_eq(v->exception.has_error, has_error);
	cr_assert_eq(v->exception.error, 0);
	cr_assert_eq(stub.injects, 0, "queued for vm_run, not injected here");
}

Test(vm_exit, cpuid_writes_rax_to_rdx_and_skips_the_instruction)
{
	v->regs.rax = 0xffffffff00000001ull; /* leaf 1: the upper half is ignored */
	v->regs.rcx = 0xdead00000000ull;
	v->regs.rbx = v->regs.rdx = 0x5555555555555555ull;
	vm.vcpus[0].lapic.id = 2;
	cr_assert_eq(handle(EXIT_CPUID, 2), EXIT_CONTINUE);
	cr_assert_eq(v->regs.rax, 0x000906ea);
	cr_assert_eq(v->regs.rbx, 0x02010800, "APIC id 2, one logical CPU: 0x%lx",
		     (unsigned long)v->regs.rbx);
	cr_assert_eq(v->regs.rcx, 0x81000201, "SSE3, SSSE3, TSC-deadline, hypervisor bit");
	cr_assert_eq(v->regs.rdx, 0x178bbb7f, "MCE, MCA... hidden: 0x%lx",
		     (unsigned long)v->regs.rdx);
	cr_assert_eq(v->regs.rip, RIP0 + 2);
	assert_no_exception();

	v->regs.rax = 0x40000000u;
	cr_assert_eq(handle(EXIT_CPUID, 2), EXIT_CONTINUE);
	cr_assert_eq(v->regs.rax, 0x40000001u);
	cr_assert_eq(v->regs.rbx, 0x65527648u, "'HvRe'");
	cr_assert_eq(v->regs.rip, RIP0 + 4);
}

Test(vm_exit, rdmsr_of_an_unknown_msr_queues_gp_and_keeps_rip)
{
	v->regs.rcx = 0x12345678;
	v->regs.rax = 0xaaaa;
	v->regs.rdx = 0xbbbb;
	cr_assert_eq(handle(EXIT_RDMSR, 2), EXIT_CONTINUE);
	assert_queued(13, true);
	cr_assert_eq(v->regs.rip, RIP0, "a faulting RDMSR does not complete");
	cr_assert_eq(v->regs.rax, 0xaaaa);
	cr_assert_eq(v->regs.rdx, 0xbbbb);
}

Test(vm_exit, rdmsr_splits_the_value_into_edx_eax)
{
	stub.state.pat = 0x0007040600070406ull;
	stub.state.efer = 0x0000000000000d01ull;
	v->regs.rcx = MSR_PAT;
	v->regs.rax = v->regs.rdx = ~0ull;
	cr_assert_eq(handle(EXIT_RDMSR, 2), EXIT_CONTINUE);
	cr_assert_eq(v->regs.rax, 0x00070406);
	cr_assert_eq(v->regs.rdx, 0x00070406);
	cr_assert_eq(v->regs.rip, RIP0 + 2);
	v->regs.rcx = MSR_EFER;
	cr_assert_eq(handle(EXIT_RDMSR, 3), EXIT_CONTINUE);
	cr_assert_eq(v->regs.rax, 0xd01);
	cr_assert_eq(v->regs.rdx, 0);
	cr_assert_eq(v->regs.rip, RIP0 + 5);
	v->regs.rcx = MSR_MTRR_DEF_TYPE;
	cr_assert_eq(handle(EXIT_RDMSR, 2), EXIT_CONTINUE);
	cr_assert_eq(v->regs.rax, 0xc06, "the power-on value msr_guest_init set");
	assert_no_exception();
}

Test(vm_exit, wrmsr_efer_lme_with_paging_on_queues_gp)
{
	stub.state.cr0 = (1ull << 31) | 1; /* PG, PE */
	stub.state.efer = 0x001;           /* SCE */
	v->regs.rcx = MSR_EFER;
	v->regs.rax = 0x101; /* SCE | LME */
	v->regs.rdx = 0;
	cr_assert_eq(handle(EXIT_WRMSR, 2), EXIT_CONTINUE);
	assert_queued(13, true);
	cr_assert_eq(v->regs.rip, RIP0);
	cr_assert_eq(stub.set_state_calls, 0, "EFER unchanged");
	cr_assert_eq(stub.state.efer, 0x001);
}

Test(vm_exit, wrmsr_efer_with_paging_off_sets_it_and_skips)
{
	stub.state.cr0 = 1; /* PE only */
	v->regs.rcx = MSR_EFER;
	v->regs.rax = 0x901; /* SCE | LME | NXE */
	v->regs.rdx = 0;
	cr_assert_eq(handle(EXIT_WRMSR, 2), EXIT_CONTINUE);
	assert_no_exception();
	cr_assert_eq(stub.set_state_calls, 1);
	cr_assert_eq(stub.state.efer, 0x901);
	cr_assert_eq(v->regs.rip, RIP0 + 2);
}

Test(vm_exit, wrmsr_joins_edx_eax_and_unknown_msrs_fault)
{
	v->regs.rcx = MSR_PAT;
	v->regs.rax = 0xffffffff00070406ull; /* upper half of RAX ignored */
	v->regs.rdx = 0x00070106;
	cr_assert_eq(handle(EXIT_WRMSR, 2), EXIT_CONTINUE);
	cr_assert_eq(stub.state.pat, 0x0007010600070406ull);
	cr_assert_eq(v->regs.rip, RIP0 + 2);
	assert_no_exception();

	v->regs.rcx = 0x4b564d02; /* KVM's async page faults: not offered */
	cr_assert_eq(handle(EXIT_WRMSR, 2), EXIT_CONTINUE);
	assert_queued(13, true);
	cr_assert_eq(v->regs.rip, RIP0 + 2);
}

Test(vm_exit, address_msrs_refuse_non_canonical_values)
{
	static const uint32_t checked[] = { MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE,
					    MSR_LSTAR, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP };

	for (size_t i = 0; i < sizeof(checked) / sizeof(checked[0]); i++) {
		setup();
		v->regs.rcx = checked[i];
		v->regs.rdx = 0x00008000; /* bit 47 set, 63:48 clear */
		v->regs.rax = 0;
		cr_assert_eq(handle(EXIT_WRMSR, 2), EXIT_CONTINUE);
		assert_queued(13, true);
		cr_assert_eq(v->regs.rip, RIP0, "MSR 0x%x", checked[i]);
		v->pending_exception = false;
		v->regs.rdx = 0xffff8000; /* canonical */
		v->regs.rax = 0x1000;
		cr_assert_eq(handle(EXIT_WRMSR, 2), EXIT_CONTINUE);
		assert_no_exception();
		v->regs.rcx = checked[i];
		cr_assert_eq(handle(EXIT_RDMSR, 2), EXIT_CONTINUE);
		cr_assert_eq(v->regs.rdx, 0xffff8000, "MSR 0x%x", checked[i]);
		cr_assert_eq(v->regs.rax, 0x1000);
	}
	cr_assert_eq(stub.state.sysenter_eip, 0xffff800000001000ull);
	/* This guest is Intel: CSTAR is never used there and keeps no check. */
	v->regs.rcx = MSR_CSTAR;
	v->regs.rdx = 0x00008000;
	cr_assert_eq(handle(EXIT_WRMSR, 2), EXIT_CONTINUE);
	assert_no_exception();
}

Test(vm_exit, rdpmc_faults_where_cpuid_offers_no_counters)
{
	v->regs.rcx = 0;
	cr_assert_eq(handle(EXIT_RDPMC, 2), EXIT_CONTINUE);
	assert_queued(13, true);
	cr_assert_eq(v->regs.rip, RIP0);
}

Test(vm_exit, kvmclock_msrs_reach_kvmclock_and_a_tsc_write_re_anchors_it)
{
	v->regs.rcx = MSR_KVM_SYSTEM_TIME_NEW;
	v->regs.rax = 0x12345041; /* GPA | enable */
	v->regs.rdx = 0x1;
	cr_assert_eq(handle(EXIT_WRMSR, 2), EXIT_CONTINUE);
	assert_no_exception();
	cr_assert_eq(stub.kvmclock_writes, 1);
	cr_assert_eq(stub.kvmclock_msr[1], 0x112345041ull);
	v->regs.rax = v->regs.rdx = 0;
	cr_assert_eq(handle(EXIT_RDMSR, 2), EXIT_CONTINUE);
	cr_assert_eq(v->regs.rax, 0x12345041);
	cr_assert_eq(v->regs.rdx, 0x1);

	stub.state.tsc_offset = 0x5555;
	v->regs.rcx = MSR_TSC;
	v->regs.rax = 1000;
	v->regs.rdx = 0;
	cr_assert_eq(handle(EXIT_WRMSR, 2), EXIT_CONTINUE);
	assert_no_exception();
	cr_assert_eq(stub.kvmclock_tsc_changes, 1, "the clock record follows the guest's TSC");
	cr_assert_eq(stub.kvmclock_old_offset, 0x5555, "told the offset it had before");
}

Test(vm_exit, cache_and_tlb_maintenance_and_pause_skip_the_instruction)
{
	static const struct { enum exit_kind kind; uint8_t len; } cases[] = {
		{ EXIT_INVD, 2 }, { EXIT_WBINVD, 2 }, { EXIT_INVLPG, 3 }, { EXIT_PAUSE, 2 },
	};
	uint64_t rip = RIP0;

	for (size_t i = 0; i < 4; i++) {
		cr_assert_eq(handle(cases[i].kind, cases[i].len), EXIT_CONTINUE);
		rip += cases[i].len;
		cr_assert_eq(v->regs.rip, rip, "%s", exit_kind_name(cases[i].kind));
		assert_no_exception();
	}
}

Test(vm_exit, absent_features_queue_ud_without_advancing)
{
	static const enum exit_kind kinds[] = {
		EXIT_VIRT_INSN, EXIT_MONITOR, EXIT_MWAIT, EXIT_RSM, EXIT_GETSEC, EXIT_XSETBV,
	};

	for (size_t i = 0; i < 6; i++) {
		v->pending_exception = false;
		cr_assert_eq(handle(kinds[i], 3), EXIT_CONTINUE);
		assert_queued(6, false);
		cr_assert_eq(v->regs.rip, RIP0, "%s advanced RIP", exit_kind_name(kinds[i]));
	}
}

Test(vm_exit, hlt_halts_and_yields)
{
	cr_assert_eq(handle(EXIT_HLT, 1), EXIT_YIELD);
	cr_assert(v->halted);
	cr_assert_eq(v->regs.rip, RIP0 + 1, "resumes after the HLT when woken");
}

Test(vm_exit, hypercall_answers_nop_and_refuses_the_rest)
{
	v->regs.rax = 0;
	cr_assert_eq(handle(EXIT_HYPERCALL, 3), EXIT_CONTINUE);
	cr_assert_eq(v->regs.rax, 0);
	v->regs.rax = 7;
	cr_assert_eq(handle(EXIT_HYPERCALL, 3), EXIT_CONTINUE);
	cr_assert_eq(v->regs.rax, (uint64_t)-1000, "KVM's -KVM_ENOSYS");
	cr_assert_eq(v->regs.rip, RIP0 + 6);
}

Test(vm_exit, port_in_merges_by_size_and_out_masks)
{
	struct vm_exit e = { .kind = EXIT_IO, .insn_len = 1 };

	e.io.port = 0x3f8;
	e.io.size = 1;
	e.io.in = true;
	stub.port_value = 0xfffffe41;
	v->regs.rax = 0x1122334455667788ull;
	cr_assert_eq(vm_handle_exit(v, &e), EXIT_CONTINUE);
	cr_assert_eq(stub.port, 0x3f8);
	cr_assert_eq(stub.port_size, 1);
	cr_assert_eq(v->regs.rax, 0x1122334455667741ull, "only AL: 0x%lx",
		     (unsigned long)v->regs.rax);
	e.io.size = 2;
	cr_assert_eq(vm_handle_exit(v, &e), EXIT_CONTINUE);
	cr_assert_eq(v->regs.rax, 0x112233445566fe41ull);
	e.io.size = 4;
	cr_assert_eq(vm_handle_exit(v, &e), EXIT_CONTINUE);
	cr_assert_eq(v->regs.rax, 0xfffffe41ull, "IN EAX zero-extends into RAX: 0x%lx",
		     (unsigned long)v->regs.rax);
	cr_assert_eq(v->regs.rip, RIP0 + 3);
	cr_assert_eq(stub.port_reads, 3);

	e.io.in = false;
	e.io.port = 0xe9;
	e.io.size = 2;
	v->regs.rax = 0xabcdef0123456789ull;
	cr_assert_eq(vm_handle_exit(v, &e), EXIT_CONTINUE);
	cr_assert_eq(stub.port_writes, 1);
	cr_assert_eq(stub.port, 0xe9);
	cr_assert_eq(stub.port_value, 0x6789);
	cr_assert_eq(v->regs.rip, RIP0 + 4);
}

Test(vm_exit, port_write_that_stops_the_vm_completes_and_stops)
{
	struct vm_exit e = { .kind = EXIT_IO, .insn_len = 2 };

	e.io.port = 0xf4;
	e.io.size = 4;
	stub.port_write_result = PORT_VM_STOPPED;
	v->regs.rax = 0x31;
	cr_assert_eq(vm_handle_exit(v, &e), EXIT_STOP);
	cr_assert_eq(stub.port_value, 0x31);
	cr_assert_eq(v->regs.rip, RIP0 + 2);
}

Test(vm_exit, string_io_goes_to_its_emulation)
{
	struct vm_exit e = { .kind = EXIT_IO, .insn_len = 2 };

	e.io.string = true;
	e.io.in = true;
	stub.string_io_result = EXIT_STOP;
	cr_assert_eq(vm_handle_exit(v, &e), EXIT_STOP);
	cr_assert_eq(stub.string_io_calls, 1);
	cr_assert_eq(stub.port_reads + stub.port_writes, 0);
	cr_assert_eq(v->regs.rip, RIP0, "the emulation moves RIP, not the dispatcher");
}

static enum exit_action memory_exit(uint64_t gpa, bool write, bool fetch, bool present)
{
	struct vm_exit e = { .kind = EXIT_MEMORY, .code = 0x400, .info1 = 0x6 };

	e.mem.gpa = gpa;
	e.mem.write = write;
	e.mem.fetch = fetch;
	e.mem.present = present;
	return vm_handle_exit(v, &e);
}

Test(vm_exit, memory_exits_reach_the_dirty_log_mmio_or_the_crash_path)
{
	/* A write to a present, write-protected page: the dirty log's. */
	stub.dirty_fault_result = true;
	cr_assert_eq(memory_exit(0x5000, true, false, true), EXIT_CONTINUE);
	cr_assert_eq(stub.dirty_faults, 1);
	cr_assert_eq(stub.dirty_fault_gpa, 0x5000);
	cr_assert_eq(stub.crashes, 0);
	/* Reads and not-present writes are not asked about. */
	cr_assert_eq(memory_exit(VLAPIC_BASE + 0x300, false, false, false), EXIT_CONTINUE);
	cr_assert_eq(memory_exit(VLAPIC_BASE + 0x80, true, false, false), EXIT_CONTINUE);
	cr_assert_eq(stub.dirty_faults, 1);
	cr_assert_eq(stub.mmio_calls, 2, "local APIC accesses are emulated");

	/* Fetching from the APIC page is not emulated: the guest crashes. */
	cr_assert_eq(memory_exit(VLAPIC_BASE, false, true, false), EXIT_STOP);
	cr_assert_eq(stub.mmio_calls, 2);
	cr_assert(strstr(stub.crash_reason, "instruction fetch outside guest memory at GPA "
				     "0xfee00000"), "%s", stub.crash_reason);
	cr_assert(strstr(stub.crash_reason, "exit stub-exit, info 0x6"), "%s", stub.crash_reason);

	/* Not the log's (it said no): a write denied inside guest memory. */
	stub.dirty_fault_result = false;
	cr_assert_eq(memory_exit(0x7000, true, false, true), EXIT_STOP);
	cr_assert_eq(stub.dirty_faults, 2);
	cr_assert(strstr(stub.crash_reason, "write denied in guest memory at GPA 0x7000"), "%s",
		  stub.crash_reason);
	/* Past RAM with no device: the master abort's (mmio.c), unless fetched. */
	cr_assert_eq(memory_exit(64 * MiB, false, false, false), EXIT_CONTINUE);
	cr_assert_eq(memory_exit(0xff000000ull, true, false, false), EXIT_CONTINUE);
	cr_assert_eq(stub.unbacked_calls, 2);
	cr_assert_eq(memory_exit(64 * MiB, false, true, false), EXIT_STOP);
	cr_assert(strstr(stub.crash_reason, "instruction fetch outside guest memory at GPA "
				     "0x4000000"), "%s", stub.crash_reason);
	cr_assert_eq(stub.unbacked_calls, 2);
	cr_assert_eq(stub.crashes, 3);

	/* The guest's own page walk reaching past RAM is not the data access
	 * a master abort answers: it stops the VM as before. */
	struct vm_exit walk = { .kind = EXIT_MEMORY, .code = 0x42, .insn_len = 3 };
	walk.mem.gpa = 64 * MiB + 0x8;
	walk.mem.walk = true;
	cr_assert_eq(vm_handle_exit(v, &walk), EXIT_STOP);
	cr_assert_eq(stub.unbacked_calls, 2);
	cr_assert_eq(stub.crashes, 4);
}

Test(vm_exit, a_poisoned_page_stops_the_guest_with_the_reason)
{
	stub.poisoned_gpa = 0x9000;
	v->regs.rip = 0x1234;
	cr_assert_eq(memory_exit(0x9abc, false, false, false), EXIT_STOP);
	cr_assert_str_eq(stub.crash_reason, "machine check: read of poisoned guest page 0x9000 "
					    "(GPA 0x9abc, RIP 0x1234)");
	cr_assert_eq(memory_exit(0x9000, true, false, false), EXIT_STOP);
	cr_assert(strstr(stub.crash_reason, "write to poisoned guest page"), "%s",
		  stub.crash_reason);
	cr_assert_eq(memory_exit(0x9008, false, true, false), EXIT_STOP);
	cr_assert(strstr(stub.crash_reason, "instruction fetch from poisoned guest page"), "%s",
		  stub.crash_reason);
}

Test(vm_exit, crash_paths_stop_the_vm_with_the_reason)
{
	v->regs.rip = 0xabc;
	cr_assert_eq(handle(EXIT_TRIPLE_FAULT, 0), EXIT_STOP);
	cr_assert_str_eq(stub.crash_reason, "triple fault at RIP 0xabc");
	cr_assert_eq(handle(EXIT_INVALID_STATE, 0), EXIT_STOP);
	cr_assert_str_eq(stub.crash_reason, "invalid guest state: entry refused (exit stub-exit, "
					    "info 0x11) at RIP 0xabc");
	cr_assert_eq(handle(EXIT_UNHANDLED, 0), EXIT_STOP);
	cr_assert_str_eq(stub.crash_reason, "unhandled exit stub-exit (code 0x42, info 0x11/0x22) "
					    "at RIP 0xabc");
	cr_assert_eq(stub.crashes, 3);
	cr_assert_eq(v->regs.rip, 0xabc);
}

Test(vm_exit, an_unknown_kind_takes_the_crash_path_and_counts_as_unhandled)
{
	cr_assert_eq(handle(EXIT_KIND_COUNT, 2), EXIT_STOP);
	cr_assert_eq(stub.crashes, 1);
	cr_assert(strstr(stub.crash_reason, "unhandled exit"), "%s", stub.crash_reason);
	cr_assert_eq(handle((enum exit_kind)1000, 2), EXIT_STOP);
	cr_assert_eq(v->exits_by_kind[EXIT_UNHANDLED], 2);
	cr_assert_eq(v->regs.rip, RIP0);
}

static bool mc_reader_result;
static unsigned mc_reads;

static bool mc_reader(void)
{
	mc_reads++;
	return mc_reader_result;
}

Test(vm_exit, machine_check_exits_read_the_banks_and_stop_when_the_guest_cannot_resume)
{
	cr_assert_eq(handle(EXIT_MACHINE_CHECK, 0), EXIT_YIELD, "no reader registered");
	vm_exit_set_machine_check_reader(mc_reader);
	mc_reader_result = true;
	cr_assert_eq(handle(EXIT_MACHINE_CHECK, 0), EXIT_YIELD,
		     "the main loop retires the page first");
	cr_assert_eq(mc_reads, 1);
	cr_assert_eq(stub.crashes, 0);
	mc_reader_result = false;
	v->regs.rip = 0x777;
	cr_assert_eq(handle(EXIT_MACHINE_CHECK, 0), EXIT_STOP);
	cr_assert_eq(mc_reads, 2);
	cr_assert_str_eq(stub.crash_reason,
			 "machine check while the guest ran, no restart IP (RIP 0x777)");
	cr_assert(stub.crashed_under_lock, "the one handler called without the VM lock takes it");
	cr_assert_eq(stub.locks, 0);
}

Test(vm_exit, the_rest_of_the_kinds)
{
	cr_assert_eq(handle(EXIT_NONE, 5), EXIT_CONTINUE);
	cr_assert_eq(v->regs.rip, RIP0, "handled in the backend: nothing to do");
	cr_assert_eq(handle(EXIT_EXTERNAL_INTERRUPT, 0), EXIT_YIELD);
	cr_assert_eq(handle(EXIT_INTERRUPT_WINDOW, 0), EXIT_CONTINUE);
	cr_assert_eq(stub.window_requests, 1);
	cr_assert_eq(stub.window_on, false, "the window exit is turned off again");
	cr_assert_eq(handle(EXIT_DIRTY_LOG_FULL, 0), EXIT_CONTINUE);
	cr_assert_eq(stub.dirty_buffer_full, 1);
	cr_assert_eq(v->regs.rip, RIP0);
	assert_no_exception();
	cr_assert_eq(stub.crashes, 0);
}

/* One exit of every kind: each counted once, in its own slot. */
Test(vm_exit, every_exit_is_counted_by_kind)
{
	vm_exit_set_machine_check_reader(mc_reader);
	mc_reader_result = true;
	for (unsigned k = 0; k < EXIT_KIND_COUNT; k++) {
		v->regs.rax = v->regs.rcx = 0;
		handle((enum exit_kind)k, 1);
		for (unsigned j = 0; j < EXIT_KIND_COUNT; j++)
			cr_assert_eq(v->exits_by_kind[j], j <= k, "after %s: %s counted %lu",
				     exit_kind_name(k), exit_kind_name(j),
				     (unsigned long)v->exits_by_kind[j]);
	}
}

Test(vm_exit, kind_names_are_distinct)
{
	for (unsigned k = 0; k < EXIT_KIND_COUNT; k++) {
		const char *name = exit_kind_name(k);
		cr_assert(name && strcmp(name, "?") != 0, "kind %u has no name", k);
		for (unsigned j = 0; j < k; j++)
			cr_assert_str_neq(name, exit_kind_name(j));
	}
	cr_assert_str_eq(exit_kind_name(EXIT_KIND_COUNT), "?");
	cr_assert_str_eq(exit_kind_name(EXIT_MEMORY), "memory");
}
