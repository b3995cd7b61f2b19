/* hv_main: from the firmware hand-over to the console prompt, then the
 * main loop. Starts on the one CPU the firmware started us on; the loop
 * may move to another (main_cpu). This is the
 * one file that knows every module: it starts them in order; each one
 * declares its own settings and registers its own poller. */
#include "boot/bootinfo.h"
#include "drivers/acpi/acpi.h"
#include "drivers/block/blk_probe.h"
#include "drivers/pci/pci.h"
#include "hv/store/datastore.h"
#include "hv/core/console.h"
#include "hv/core/hv.h"
#include "hv/core/log.h"
#include "hv/core/mainloop.h"
#include "hv/core/profile.h"
#include "hv/core/panic.h"
#include "hv/core/settings.h"
#include "hv/core/time.h"
#include "hv/mce/mca.h"
#include "hv/mce/retired_list.h"
#include "hv/mm/mm.h"
#include "hv/shell/console_shell.h"
#include "hv/smp/smp.h"
#include "hv/vm/image.h"
#include "hv/vm/sched.h"
#include "hv/vm/vcpu.h"
#include "hv/x86/cpu.h"
#include "hv/x86/cpu_features.h"
#include "hv/x86/side_channel.h"
#include "hv/x86/fpu.h"
#include "hv/x86/percpu.h"
#include "hv/x86/spinlock.h"
#include "hv/x86/lapic.h"
#include "hv/x86/pic.h"
#include "hv/x86/trap.h"
#include "hv/x86/tsc_calibrate.h"
#include "migrate/migrate.h"
#include "net/net.h"

#define MIN_TICK_HZ 10
#define MAX_TICK_HZ 10000

CONFIG_KEY(key_hz, "hz", "1000", "timer tick rate, 10-10000 Hz");

static void calibrate_tsc(const struct boot_info *bi)
{
	struct tsc_rate r = tsc_calibrate(acpi_facts()->pm_timer_port, acpi_facts()->pm_timer_32bit);

	if (!r.hz) {
		log_err("time: cannot calibrate the TSC (no timer moves); assuming 1 GHz");
		r = (struct tsc_rate){ 1000000000ull, "assumed" };
	}
	time_set_calibration(r.hz, bi->boot_tsc, r.source);
	log_info("time: TSC %lu.%03lu MHz (%s)", (unsigned long)(r.hz / 1000000),
		 (unsigned long)(r.hz / 1000 % 1000), r.source);
}

static uint32_t tick_hz(void)
{
	uint64_t hz;

	if (!setting_u64("hz", &hz) || hz < MIN_TICK_HZ || hz > MAX_TICK_HZ) {
		log_warn("config: hz '%s' out of range %u-%u; using 1000", setting("hz"),
			 MIN_TICK_HZ, MAX_TICK_HZ);
		hz = 1000;
	}
	return (uint32_t)hz;
}

/* Every CPU's timer counts for that CPU; the boot CPU's drives time. */
static void timer_interrupt(struct trap_frame *f)
{
	struct percpu *c = this_cpu();

	c->ticks++;
	profile_tick(f->rip, f->rsp, f->rbp);
	if (c->index == 0)
		time_tick();
}

static void start_timer(void)
{
	uint32_t hz = tick_hz();
	uint64_t mmio = lapic_mmio_base();

	if (mmio)
		mm_map_mmio(mmio, PAGE_SIZE);
	lapic_init();
	trap_set_handler(VEC_TIMER, timer_interrupt);
	uint64_t lapic_hz = lapic_timer_start(hz, VEC_TIMER, time_tsc_hz());
	time_set_tick_hz(lapic_hz ? hz : 0);
	this_cpu()->timer_hz = lapic_hz;
	if (!lapic_hz)
		log_err("lapic: timer does not count; no periodic tick");
	log_info("timer: local APIC%s id %u, %lu kHz input, %u Hz tick",
		 lapic_is_x2apic() ? " (x2APIC)" : "", lapic_id(),
		 (unsigned long)(lapic_hz / 1000), hz);
}

/* PCI, then the block devices and the datastore on them, then the NICs and lwIP. */
static void start_devices(const struct boot_info *bi)
{
	struct net_settings ns = {
		.fw_nics_released = bi->nics_released,
		.fw_nics_refused = bi->nics_not_released,
	};

	pci_init(acpi_facts()->ecam_base, acpi_facts()->ecam_bus_first,
		 acpi_facts()->ecam_bus_last);
	blk_probe_all();
	datastore_init();
	net_init(&ns);
}

/* On the CPU the main_cpu setting names (hv/smp), for good. */
static void run_main_loop(void)
{
	log_info("console ready after %lu ms (main loop on cpu %u)",
		 (unsigned long)(time_ns() / NS_PER_MS), this_cpu_index());
	console_shell_init();
	for (;;) {
		console_shell_poll();
		mainloop_poll(true);
	}
}

void hv_main(struct boot_info *bi)
{
	struct percpu *boot_cpu = percpu_boot_cpu();

	boot_cpu->stack_lo = bi->stack_top - BOOT_HV_STACK_PAGES * PAGE_SIZE;
	boot_cpu->stack_hi = bi->stack_top;
	percpu_enter(boot_cpu); /* first: this_cpu() works from here on */
	hv_set_boot_info(bi);
	console_init();
	idt_init();
	trap_set_fatal_handler(panic_trap);
	spin_set_violation_handler(panic_lock_order);
	log_info("%s %s: firmware handed over (%u ExitBootServices attempt%s)", HV_NAME,
		 HV_VERSION, bi->ebs_attempts, bi->ebs_attempts == 1 ? "" : "s");

	/* The firmware's identity map still covers the ACPI tables and ports. */
	acpi_init(bi->acpi_rsdp);
	calibrate_tsc(bi);
	settings_load(bi);
	log_configure();
	panic_configure();
	cpu_features_init();
	side_channel_init();
	log_info("side channels: IBPB between VMs %s, VERW before entry %s",
		 side_channel_current()->ibpb_between_vms ? "on" : side_channel_current()->why_not_ibpb,
		 side_channel_current()->verw_before_entry ? "on"
							    : side_channel_current()->why_not_verw);
	if (fpu_init_host(cpu_features()->xsave))
		log_info("fpu: XCR0 = x87 | SSE (guests are not offered XSAVE)");
	/* Pages retired in earlier boots stay out before anything is handed out. */
	static uint64_t retired[RETIRED_MAX];
	mm_init(bi, retired, retired_list_load(bi, retired));
	mce_init();
	pic_disable();
	start_timer();
	irq_enable();

	vcpu_select_backend();
	smp_start_cpus(bi->ap_trampoline, time_tick_hz());
	sched_init();
	image_init(bi);
	start_devices(bi);
	migrate_init();
	smp_run_main_loop(run_main_loop);
}
