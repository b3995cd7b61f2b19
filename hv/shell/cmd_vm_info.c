/* vm info | output | console | send */
#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/lib/parse.h"
#include "hv/lib/string.h"
#include "hv/shell/cmd_vm.h"
#include "hv/shell/commands.h"
#include "hv/vm/platform.h"
#include "hv/vm/vm.h"
#include "hv/vm/vm_run.h"
#include "hv/vm/vm_place.h"
#include "hv/vm/vm_exit.h"

#define CONSOLE_DETACH 0x1d /* Ctrl-] */

/* Which device the guest keeps busy: port accesses by device, MMIO
 * accesses by window (only those it touched). */
static void show_device_accesses(struct shell *sh, const struct vm *vm)
{
	for (size_t i = 0; i < port_device_count(); i++)
		if (vm->port_accesses[i])
			sh_printf(sh, "io.%s: %lu\n", port_device_name(i),
				  (unsigned long)vm->port_accesses[i]);
	if (vm->plat.io_virtio)
		sh_printf(sh, "io.virtio: %lu\n", (unsigned long)vm->plat.io_virtio);
	const struct { const char *name; uint64_t n; } windows[] = {
		{ "lapic", vm->plat.mmio_lapic }, { "ioapic", vm->plat.mmio_ioapic },
		{ "ecam", vm->plat.mmio_ecam }, { "virtio", vm->plat.mmio_virtio },
		{ "unclaimed", vm->plat.mmio_master_aborts },
	};
	for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++)
		if (windows[i].n)
			sh_printf(sh, "mmio.%s: %lu\n", windows[i].name, (unsigned long)windows[i].n);
}

/* Per disk: what the guest asked of it and what went wrong. */
static void show_disks(struct shell *sh, const struct vm *vm)
{
	for (unsigned i = 0; i < vm->ndisks; i++) {
		const struct vm_disk *d = &vm->disks[i];
		const struct vblk_stats *st = &d->dev.stats;
		sh_printf(sh, "disk%u: %s slot=%u ro=%d reads=%lu writes=%lu flushes=%lu "
			  "read_bytes=%lu write_bytes=%lu io_errors=%lu bad_requests=%lu "
			  "interrupts=%lu\n", i, d->name, d->slot, d->read_only,
			  (unsigned long)st->reads, (unsigned long)st->writes,
			  (unsigned long)st->flushes, (unsigned long)st->read_bytes,
			  (unsigned long)st->write_bytes, (unsigned long)st->io_errors,
			  (unsigned long)st->bad_requests, (unsigned long)st->interrupts);
	}
}

static void show_registers(struct shell *sh, struct vm *vm)
{
	struct vcpu_state s;

	vcpu_ops->get_state(vm_bsp(vm), &s);
	const struct vcpu_regs *r = &s.regs;
	sh_printf(sh, "rip: 0x%lx\nrsp: 0x%lx\nrflags: 0x%lx\n", (unsigned long)r->rip,
		  (unsigned long)r->rsp, (unsigned long)r->rflags);
	sh_printf(sh, "rax: 0x%lx\nrbx: 0x%lx\nrcx: 0x%lx\nrdx: 0x%lx\n", (unsigned long)r->rax,
		  (unsigned long)r->rbx, (unsigned long)r->rcx, (unsigned long)r->rdx);
	sh_printf(sh, "rsi: 0x%lx\nrdi: 0x%lx\nrbp: 0x%lx\n", (unsigned long)r->rsi,
		  (unsigned long)r->rdi, (unsigned long)r->rbp);
	sh_printf(sh, "cr0: 0x%lx\ncr2: 0x%lx\ncr3: 0x%lx\ncr4: 0x%lx\nefer: 0x%lx\n",
		  (unsigned long)s.cr0, (unsigned long)s.cr2, (unsigned long)s.cr3,
		  (unsigned long)s.cr4, (unsigned long)s.efer);
	sh_printf(sh, "cs: 0x%x base 0x%lx attr 0x%x\n", s.seg[SEG_CS].selector,
		  (unsigned long)s.seg[SEG_CS].base, s.seg[SEG_CS].attr);
}

/* Exit counts summed over the vCPUs. */
static void show_exits(struct shell *sh, struct vm *vm)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < vm->nvcpus; i++)
		total += vm->vcpus[i].exits;
	sh_printf(sh, "exits: %lu\n", (unsigned long)total);
	for (unsigned k = 0; k < EXIT_KIND_COUNT; k++) {
		uint64_t n = 0;
		for (unsigned i = 0; i < vm->nvcpus; i++)
			n += vm->vcpus[i].exits_by_kind[k];
		if (n)
			sh_printf(sh, "exits.%s: %lu\n", exit_kind_name(k), (unsigned long)n);
	}
	for (unsigned slot = 0; slot < VCPU_EXIT_STATS; slot++) {
		uint64_t n = 0;
		for (unsigned i = 0; i < vm->nvcpus; i++)
			n += vm->vcpus[i].exits_by_code[slot];
		if (n)
			sh_printf(sh, "exit.%s: %lu\n",
				  vcpu_ops->exit_name(vcpu_ops->slot_code(slot)), (unsigned long)n);
	}
}

static const char *vcpu_state_name(const struct vcpu *v)
{
	return v->wait_for_sipi ? "wait-for-sipi" : v->halted ? "halted" : "running";
}

/* One line per vCPU: what the BSP's summary lines do not say. */
static void show_vcpus(struct shell *sh, struct vm *vm)
{
	sh_printf(sh, "vcpus: %u\n", vm->nvcpus);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		const struct vcpu *v = &vm->vcpus[i];
		char timer[24];
		uint64_t at = v->lapic.timer_deadline, now = rdtsc();
		if (!at)
			str_copy(timer, "off", sizeof(timer));
		else if (at == UINT64_MAX)
			str_copy(timer, "never", sizeof(timer)); /* a deadline beyond 64 bits */
		else
			fmt_snprintf(timer, sizeof(timer), "%s%lu", at < now ? "-" : "",
				     (unsigned long)(time_tsc_to_ns(at < now ? now - at : at - now) /
						     1000));
		sh_printf(sh, "vcpu%u: state=%s apic_id=%u cpu=%u exits=%lu run_ms=%lu ipis_sent=%lu "
			      "timer_fired=%lu pause_yields=%lu rip=0x%lx if=%u irr=%d isr=%d tpr=0x%x "
			      "timer_us=%s\n", i,
			  vcpu_state_name(v), v->lapic.id, v->cpu, (unsigned long)v->exits,
			  (unsigned long)(time_tsc_to_ns(v->run_tsc) / NS_PER_MS),
			  (unsigned long)v->lapic.ipis_sent, (unsigned long)v->lapic.timer_fired,
			  (unsigned long)v->pause_yields, (unsigned long)v->regs.rip,
			  (unsigned)!!(v->regs.rflags & RFLAGS_IF), vlapic_pending(&v->lapic),
			  vlapic_in_service(&v->lapic), v->lapic.tpr, timer);
	}
}

int cmd_vm_info(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	struct vm *vm = cmd_vm_lookup(sh, argv[2]);

	if (!vm)
		return SHELL_FAILED;
	sh_printf(sh, "name: %s\nid: %u\nstate: %s\n", vm->name, vm->id, vm_state_name(vm->state));
	if (vm->reason[0])
		sh_printf(sh, "reason: %s\n", vm->reason);
	if (vm->has_exit_code)
		sh_printf(sh, "exit_code: %u\n", vm->exit_code);
	sh_printf(sh, "image: %s\ncmdline: %s\nmem: %lu MiB\nhost_pages: %zu\n", vm->image_name,
		  vm->cmdline, (unsigned long)(vm->mem.size >> 20), vm_host_pages(vm));
	sh_printf(sh, "poisoned_pages: %lu\nresets: %lu\n", (unsigned long)vm->poisoned_pages,
		  (unsigned long)vm->resets);
	sh_printf(sh, "vcpu0_cpu: %u\n", vm->vcpus[0].cpu);
	sh_printf(sh, "unbacked: %s\n", vm->unbacked_stops ? "stop" : "abort");
	show_disks(sh, vm);
	for (size_t i = 0; i < vm->nmodules; i++)
		sh_printf(sh, "module.%zu: %s\n", i, vm->modules[i]);
	uint64_t run_tsc = 0, timer_fired = 0;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		run_tsc += vm->vcpus[i].run_tsc;
		timer_fired += vm->vcpus[i].lapic.timer_fired;
	}
	sh_printf(sh, "halted: %s\nrun_ms: %lu\n", vm_runnable(vm) ? "no" : "yes",
		  (unsigned long)(time_tsc_to_ns(run_tsc) / NS_PER_MS));
	show_vcpus(sh, vm);
	show_registers(sh, vm);
	show_exits(sh, vm);
	sh_printf(sh, "lapic_timer_fired: %lu\nuart_tx_bytes: %lu\nports_unhandled: %lu\n"
		      "mmio_emulated: %lu\nexceptions_reflected: %lu\n",
		  (unsigned long)timer_fired, (unsigned long)vm->uart.tx_bytes,
		  (unsigned long)vm->ports_unhandled, (unsigned long)vm->mmio_emulated,
		  (unsigned long)vm->exceptions_reflected);
	sh_printf(sh, "pit_irqs: %lu\nioapic_messages: %lu\npic_spurious: %lu\n"
		      "vm_clock_ms: %lu\n", (unsigned long)vm->plat.pit.irq_edges,
		  (unsigned long)vm->plat.ioapic.messages, (unsigned long)vm->plat.pic.spurious,
		  (unsigned long)(platform_clock(vm) / NS_PER_MS));
	show_device_accesses(sh, vm);
	return SHELL_OK;
}

int cmd_vm_output(struct shell *sh, int argc, char **argv)
{
	struct vm *vm = cmd_vm_lookup(sh, argv[2]);
	uint64_t want = 20;

	if (!vm)
		return SHELL_FAILED;
	if (argc == 4 && (!parse_u64(argv[3], &want) || !want))
		return sh_error(sh, "LINES must be a positive number");
	const struct vm_output *o = &vm->out;
	uint64_t start = o->written > VM_OUTPUT_RING ? o->written - VM_OUTPUT_RING : 0;
	/* Walk back 'want' line ends from the newest byte. */
	uint64_t pos = o->written;
	uint64_t lines = 0;
	while (pos > start) {
		char c = o->ring[(pos - 1) % VM_OUTPUT_RING];
		if (c == '\n' && pos != o->written && ++lines == want)
			break;
		pos--;
	}
	for (uint64_t i = pos; i < o->written; i++) {
		char c = o->ring[i % VM_OUTPUT_RING];
		if (c == '\r')
			continue;
		sh_write(sh, (c == '\n' || (c >= 0x20 && c < 0x7f)) ? &c : ".", 1);
	}
	if (o->written && o->ring[(o->written - 1) % VM_OUTPUT_RING] != '\n')
		sh_write(sh, "\n", 1);
	return SHELL_OK;
}

static bool console_input(void *ctx, unsigned char byte)
{
	struct vm *vm = ctx;

	if (byte == CONSOLE_DETACH) {
		vm->out.attached = false;
		return false;
	}
	bool held = vm_hold(vm); /* typed while another CPU runs it */
	vuart_receive(&vm->uart, byte);
	if (held)
		vm_release(vm);
	return true;
}

int cmd_vm_console(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	struct vm *vm = cmd_vm_lookup(sh, argv[2]);

	if (!vm)
		return SHELL_FAILED;
	vm_output_flush(vm);
	vm->out.attached = true;
	shell_set_input_hook(sh, console_input, vm);
	sh_printf(sh, "attached to %s; Ctrl-] detaches\n", vm->name);
	return SHELL_OK;
}

int cmd_vm_send(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	struct vm *vm = cmd_vm_lookup(sh, argv[2]);
	size_t sent = 0;

	if (!vm)
		return SHELL_FAILED;
	for (const char *p = argv[3];; p++) {
		uint8_t b = *p ? (uint8_t)*p : '\n';
		if (!vuart_receive(&vm->uart, b))
			return sh_error(sh, "the guest's receive buffer is full after %zu bytes", sent);
		sent++;
		if (!*p)
			break;
	}
	sh_printf(sh, "sent: %zu\n", sent);
	return SHELL_OK;
}
