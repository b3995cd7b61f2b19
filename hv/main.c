/* hv_main: from the firmware hand-over to the console prompt, then the
 * main loop. Runs on the one CPU the firmware started us on. */
#include "hv/hv.h"

#include "drivers/acpi.h"
#include "drivers/pci/pci.h"
#include "hv/config.h"
#include "hv/image.h"
#include "hv/sched.h"
#include "hv/console.h"
#include "hv/lib/parse.h"
#include "hv/lib/string.h"
#include "hv/log.h"
#include "hv/mainloop.h"
#include "hv/mce/mca.h"
#include "hv/mce/retired_list.h"
#include "migrate/migrate.h"
#include "hv/mm/mm.h"
#include "hv/panic.h"
#include "hv/shell/console_shell.h"
#include "hv/time.h"
#include "hv/vcpu.h"
#include "hv/x86/backtrace.h"
#include "hv/x86/cpu.h"
#include "hv/x86/cpu_features.h"
#include "hv/x86/gdt.h"
#include "hv/x86/lapic.h"
#include "hv/x86/pic.h"
#include "hv/x86/trap.h"
#include "hv/x86/tsc_calibrate.h"
#include "net/net.h"

#define DEFAULT_TICK_HZ 1000
#define MIN_TICK_HZ 10
#define MAX_TICK_HZ 10000

static struct boot_info *boot;
static struct config config;

static const char *const known_settings[] = {
	"name", "debug", "hz", "loglevel", "panic", "ip", "gw", "dhcp", NULL,
};

const struct boot_info *hv_boot_info(void)
{
	return boot;
}

const struct config *hv_config(void);
const struct config *hv_config(void)
{
	return &config;
}

static void config_error(void *ctx, const char *origin, unsigned line, const char *msg)
{
	(void)ctx;
	if (line)
		log_warn("config: %s line %u: %s (ignored)", origin, line, msg);
	else
		log_warn("config: %s: %s (ignored)", origin, msg);
}

static void load_config(void)
{
	config_init(&config);
	if (boot->config_len)
		config_parse(&config, boot->config, boot->config_len, "hv.cfg", true, config_error,
			     NULL);
	config_parse(&config, boot->cmdline, strlen(boot->cmdline), "cmdline", false,
		     config_error, NULL);
	config_check_known(&config, known_settings, config_error, NULL);

	const char *level = config_get(&config, "loglevel");
	if (level) {
		if (!strcmp(level, "debug"))
			log_set_console_level(LOG_DEBUG);
		else if (!strcmp(level, "warn"))
			log_set_console_level(LOG_WARN);
		else if (!strcmp(level, "error"))
			log_set_console_level(LOG_ERR);
		else if (strcmp(level, "info"))
			log_warn("config: loglevel '%s' unknown (error, warn, info, debug)", level);
	}
	const char *p = config_get(&config, "panic");
	if (p && !strcmp(p, "reboot"))
		panic_set_action(PANIC_REBOOT);
	else if (p && strcmp(p, "halt"))
		log_warn("config: panic '%s' unknown (halt, reboot)", p);
}

static uint32_t tick_hz(void)
{
	uint64_t hz = DEFAULT_TICK_HZ;
	const char *v = config_get(&config, "hz");

	if (v && (!parse_u64(v, &hz) || hz < MIN_TICK_HZ || hz > MAX_TICK_HZ)) {
		log_warn("config: hz '%s' out of range %u-%u; using %u", v, MIN_TICK_HZ,
			 MAX_TICK_HZ, DEFAULT_TICK_HZ);
		hz = DEFAULT_TICK_HZ;
	}
	return (uint32_t)hz;
}

static void timer_interrupt(struct trap_frame *f)
{
	(void)f;
	time_tick();
}

static void start_timer(void)
{
	uint32_t hz = tick_hz();

	lapic_init();
	trap_set_handler(VEC_TIMER, timer_interrupt);
	uint64_t lapic_hz = lapic_timer_start(hz, VEC_TIMER);
	time_set_tick_hz(lapic_hz ? hz : 0);
	log_info("timer: local APIC%s id %u, %lu kHz input, %u Hz tick",
		 lapic_is_x2apic() ? " (x2APIC)" : "", lapic_id(),
		 (unsigned long)(lapic_hz / 1000), hz);
}

void hv_main(struct boot_info *bi)
{
	boot = bi;
	console_init();
	gdt_init();
	idt_init();
	backtrace_add_stack(bi->stack_top - BOOT_HV_STACK_PAGES * PAGE_SIZE, bi->stack_top);
	log_info("%s %s: firmware handed over (%u ExitBootServices attempt%s)", HV_NAME,
		 HV_VERSION, bi->ebs_attempts, bi->ebs_attempts == 1 ? "" : "s");

	/* The firmware's identity map still covers the ACPI tables and ports. */
	acpi_init(bi->acpi_rsdp);
	tsc_calibrate(acpi_facts()->pm_timer_port, acpi_facts()->pm_timer_32bit, bi->boot_tsc);
	load_config();
	cpu_features_init();
	/* Pages retired in earlier boots stay out before anything is handed out. */
	static uint64_t retired[RETIRED_MAX];
	mm_init(bi, retired, retired_list_load(bi, retired));
	mce_init();
	pic_disable();
	start_timer();
	irq_enable();

	vcpu_select_backend();
	image_init(bi);
	pci_init(acpi_facts()->ecam_base, acpi_facts()->ecam_bus_first,
		 acpi_facts()->ecam_bus_last);
	net_init(&config);
	log_info("console ready after %lu ms", (unsigned long)(time_ns() / NS_PER_MS));
	console_shell_init(config_get_bool(&config, "debug", false));

	for (;;) {
		console_shell_poll();
		mainloop_poll(true);
	}
}

void mainloop_poll(bool may_sleep)
{
	bool busy = net_poll();

	busy |= migrate_poll();
	mce_poll();

	if (!sched_run() && !busy && may_sleep)
		cpu_idle(); /* nothing to do: sleep until the next interrupt */
}
