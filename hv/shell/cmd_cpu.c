/* cpu */
#include "drivers/acpi/acpi.h"
#include "hv/core/time.h"
#include "hv/shell/commands.h"
#include "hv/smp/smp.h"
#include "hv/vm/vcpu.h"
#include "hv/x86/cpu_features.h"
#include "hv/x86/percpu.h"
#include "hv/x86/side_channel.h"

static const char *yn(bool b)
{
	return b ? "yes" : "no";
}

static void print_to_shell(void *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sh_vprintf(ctx, fmt, ap);
	va_end(ap);
}

int cmd_cpu(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct cpu_features *f = cpu_features();

	sh_printf(sh, "vendor: %s\nbrand: %s\n", f->vendor_string, f->brand);
	sh_printf(sh, "family: 0x%x\nmodel: 0x%x\nstepping: %u\n", f->family, f->model,
		  f->stepping);
	sh_printf(sh, "cpus: %d\n", acpi_facts()->cpu_count ? acpi_facts()->cpu_count : 1);
	sh_printf(sh, "cpus_online: %u\n", smp_cpus_online());
	sh_printf(sh, "main_cpu: %u\n", percpu_main_index());
	for (uint32_t i = 0; i < percpu_count(); i++) {
		const struct percpu *c = percpu_get(i);
		enum cpu_state st = c->state;

		sh_printf(sh, "cpu%u: apic_id=%u state=%s ticks=%lu timer_khz=%lu idle_ms=%lu "
			      "lock_wait_ms=%lu lock_sleeps=%lu longest_lock_wait_us=%lu longest_lock=%s%s%s\n",
			  c->index,
			  c->apic_id, cpu_state_name(st), (unsigned long)c->ticks,
			  (unsigned long)(c->timer_hz / 1000),
			  (unsigned long)(time_tsc_to_ns(c->idle_tsc) / NS_PER_MS),
			  (unsigned long)(time_tsc_to_ns(c->lock_wait_tsc) / NS_PER_MS),
			  (unsigned long)c->lock_sleeps,
			  (unsigned long)(time_tsc_to_ns(c->longest_lock_wait_tsc) / 1000),
			  c->longest_lock_wait_name ? c->longest_lock_wait_name : "-",
			  st == CPU_FAILED ? " why=" : "", st == CPU_FAILED ? c->why : "");
	}
	sh_printf(sh, "under_hypervisor: %s\n", yn(f->hypervisor_bit));
	vcpu_describe_backends(print_to_shell, sh);
	sh_printf(sh, "guest_backend: %s\n", vcpu_backend_name());
	sh_printf(sh, "mca: %s banks=%u mcg_cap=0x%lx\n", yn(f->mca), f->mca_banks,
		  (unsigned long)f->mcg_cap);
	sh_printf(sh, "other: 1g_pages=%s nx=%s x2apic=%s invariant_tsc=%s\n", yn(f->page_1g),
		  yn(f->nx), yn(f->x2apic), yn(f->invariant_tsc));
	const struct side_channel_plan *sc = side_channel_current();
	sh_printf(sh, "ibpb_between_vms: %s\nibpb_issued: %lu\nverw_before_entry: %s\n",
		  sc->ibpb_between_vms ? "yes" : sc->why_not_ibpb,
		  (unsigned long)side_channel_ibpbs(),
		  sc->verw_before_entry ? "yes" : sc->why_not_verw);
	return SHELL_OK;
}
