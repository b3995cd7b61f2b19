/* Starts every processor the ACPI MADT lists, the way an OS does (INIT,
 * start-up, start-up through the local APIC's ICR), then checks what the
 * processors' local APICs do for each other: fixed IPIs to a physical and
 * to logical destinations, the shorthands, NMI, lowest priority, each
 * processor's own timer, and INIT and start-up again for a running one.
 * One line per check, "PASS: ..." or "FAIL: ...", then
 * "smp: N cpus, F failed"; the exit code is F. Runs on bare QEMU or Bochs
 * as well as under the hypervisor.
 *
 * With "count" on the command line it starts the processors and then
 * runs for good instead: each processor counts in its own variable with
 * interrupts on, the BSP sends every AP a fixed IPI in turn and waits for
 * it to be taken, and every 200 ms prints "count: C0 C1 ... lost L" (L:
 * IPIs never taken within 2 s), for a migration to carry.
 *
 * With "pingpong" it measures the IPI round trip between the BSP and the
 * first AP instead: the BSP sends a fixed IPI, the AP's handler answers
 * with one, n=N times (default 2000); it prints
 * "pingpong: n=N tsc_per_round_trip=T" and exits.
 *
 * With "flood" the BSP sends fixed IPIs to every processor, itself
 * included (the all-including-self shorthand), as fast as its ICR takes
 * them, for good, and prints "flood: sent S taken T" every second (T: IPIs
 * taken by all processors): a guest a hypervisor must stay responsive
 * beside.
 *
 * With "lock" every processor takes one test-and-set spinlock n=N times
 * (default 2000), spinning with PAUSE as an OS does, and does a little
 * work inside and outside it; the BSP checks the count the lock guards and
 * prints "lock: n=N cpus=C count ok|wrong tsc_per_acquisition=T", then
 * exits (code 1 if wrong). A holder whose processor stops running (a
 * preempted vCPU) leaves the others spinning.
 *
 * With "write" every processor writes pages=P pages of its own (default
 * 256), interleaved with the others' (page k of the data area, which
 * starts at the first 2 MiB boundary above the kernel, belongs to
 * processor k mod N), passes=M times (default 1), at rate=R pages a
 * second each (default 0: as fast as it can); with spread=S only every
 * S-th page of an area S times as large (default 1: every page). It prints "write: ready base
 * 0xB pages T cpus N" and waits for a "g" on the serial line, so that a
 * dirty log can be started first; then "write: done pages T passes M
 * tsc_per_page=C" and halts. Each page's first bytes hold, per processor,
 * the pass that wrote it last. */
#include "rt.h"

#define AP_TRAMPOLINE 0x8000u
#define LAPIC_BASE 0xfee00000u
#define MAX_CPUS 16
#define VEC_IPI 0x40
#define VEC_AP_TIMER 0x41

#define ICR_LO 0x300
#define ICR_HI 0x310
#define ICR_BUSY (1u << 12)
#define DM_LOWEST (1u << 8)
#define DM_NMI (4u << 8)
#define DM_INIT (5u << 8)
#define DM_STARTUP (6u << 8)
#define DEST_LOGICAL (1u << 11)
#define LEVEL_ASSERT (1u << 14)
#define TRIGGER_LEVEL (1u << 15)
#define SH_SELF (1u << 18)
#define SH_ALL (2u << 18)
#define SH_OTHERS (3u << 18)

extern char ap_trampoline_start[], ap_trampoline_end[], ap_gdtr[];
extern void isr_ipi(void), isr_nmi(void), isr_ap_timer(void);
void ap_main(void);
void on_ipi(void);
void on_nmi(void);
void on_ap_timer(void);

volatile uint32_t ap_stack_top;
static uint8_t ap_stacks[MAX_CPUS][4096] __attribute__((aligned(16)));
static volatile uint32_t online[256], ipis[256], nmis[256], ticks[256];
static volatile uint32_t timers_on, counting, locking, lock_word, lock_count, lock_done;
/* A cache line each: the counters of processors that run side by side
 * would otherwise share lines, and every increment would fight for one. */
static volatile struct {
	uint32_t n;
	uint8_t pad[60];
} work[256] __attribute__((aligned(64)));
static volatile uint32_t writing, write_done;
static uint32_t write_base, write_pages, write_passes, write_rate, write_spread;
extern char _end[];
static uint32_t ids[MAX_CPUS], ncpus, failures;

static volatile uint32_t *lapic(uint32_t reg)
{
	return (volatile uint32_t *)(LAPIC_BASE + reg);
}

static uint32_t apic_id(void)
{
	return *lapic(0x20) >> 24;
}

static volatile uint32_t pong_to; /* APIC ID + 1 the APs answer, 0: none */

void on_ipi(void)
{
	__atomic_fetch_add(&ipis[apic_id()], 1, __ATOMIC_SEQ_CST);
	*lapic(0xb0) = 0;
	if (pong_to && apic_id() != pong_to - 1) {
		*lapic(0x310) = (pong_to - 1) << 24;
		*lapic(0x300) = 0x40; /* VEC_IPI back */
	}
}

void on_nmi(void)
{
	__atomic_fetch_add(&nmis[apic_id()], 1, __ATOMIC_SEQ_CST);
}

void on_ap_timer(void)
{
	ticks[apic_id()]++;
	*lapic(0xb0) = 0;
}

/* Flat logical model, one bit per APIC ID below 8. */
static void apic_setup(uint32_t id)
{
	*lapic(0xf0) = 0x1ff;
	*lapic(0xe0) = 0xffffffffu;
	*lapic(0xd0) = (id < 8 ? 1u << id : 0) << 24;
}

static void spin_work(uint32_t n)
{
	for (volatile uint32_t i = 0; i < n; i++)
		;
}

static void lock_loop(uint32_t n)
{
	for (uint32_t k = 0; k < n; k++) {
		while (__atomic_exchange_n(&lock_word, 1, __ATOMIC_ACQUIRE))
			while (lock_word)
				__asm__ volatile("pause");
		lock_count++;
		spin_work(100);
		__atomic_store_n(&lock_word, 0, __ATOMIC_RELEASE);
		spin_work(100);
	}
	__atomic_fetch_add(&lock_done, 1, __ATOMIC_SEQ_CST);
}

static uint32_t position_of(uint32_t id)
{
	for (uint32_t i = 0; i < ncpus; i++)
		if (ids[i] == id)
			return i;
	return 0;
}

/* This processor's share of "write" mode, then one more in write_done. */
static void write_share(uint32_t me)
{
	uint64_t khz = tsc_khz() ? tsc_khz() : 1000000;
	uint64_t gap = write_rate ? udiv64(khz * 1000, write_rate, 0) : 0, next = rdtsc();

	for (uint32_t pass = 1; pass <= write_passes; pass++)
		for (uint32_t k = 0; k < write_pages; k++) {
			while (gap && rdtsc() < next)
				__asm__ volatile("pause");
			next += gap;
			volatile uint32_t *page =
				(volatile uint32_t *)(write_base +
						     ((k * ncpus + me) * write_spread << 12));
			page[me] = pass;
		}
	__atomic_fetch_add(&write_done, 1, __ATOMIC_SEQ_CST);
}

void ap_main(void)
{
	uint32_t id = apic_id();

	idt_load();
	apic_setup(id);
	bool timer = false;
	online[id] = 1;
	for (;;) {
		if (counting) {
			__asm__ volatile("sti");
			for (;;)
				work[id].n++;
		}
		if (writing) {
			write_share(position_of(id));
			for (;;)
				__asm__ volatile("cli; hlt");
		}
		if (locking) {
			lock_loop(locking);
			for (;;)
				__asm__ volatile("cli; hlt");
		}
		if (timers_on && !timer) {
			*lapic(0x3e0) = 0xb;
			*lapic(0x320) = (1u << 17) | VEC_AP_TIMER;
			*lapic(0x380) = 1000000; /* ~1 ms at the 1 GHz bus hv offers */
			timer = true;
		}
		__asm__ volatile("sti; hlt; cli");
	}
}

static void delay_us(uint32_t us)
{
	uint64_t end = rdtsc() + udiv64((uint64_t)(tsc_khz() ? tsc_khz() : 1000000) * us, 1000, 0);

	while (rdtsc() < end)
		__asm__ volatile("pause");
}

static void send(uint32_t dest, uint32_t lo)
{
	*lapic(ICR_HI) = dest << 24;
	*lapic(ICR_LO) = lo;
	while (*lapic(ICR_LO) & ICR_BUSY)
		__asm__ volatile("pause");
}

/* Waits up to 'ms' for *p to reach 'want'. */
static bool wait_for(volatile uint32_t *p, uint32_t want, uint32_t ms)
{
	for (uint32_t i = 0; i < ms * 10; i++) {
		if (*p >= want)
			return true;
		delay_us(100);
	}
	return *p >= want;
}

static void check(bool ok, const char *what, uint32_t a, uint32_t b)
{
	gprintf("%s: %s (%u, %u)\n", ok ? "PASS" : "FAIL", what, a, b);
	failures += !ok;
}

/* ---- the MADT: which processors exist --------------------------------- */

static bool sig(const uint8_t *p, const char *s, uint32_t n)
{
	return strncmp((const char *)p, s, n) == 0;
}

static const uint8_t *find_rsdp(void)
{
	for (uint32_t a = 0xe0000; a < 0x100000; a += 16)
		if (sig((const uint8_t *)a, "RSD PTR ", 8))
			return (const uint8_t *)a;
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void read_madt(void)
{
	const uint8_t *rsdp = find_rsdp();
	if (!rsdp)
		return;
	const uint8_t *rsdt = (const uint8_t *)le32(rsdp + 16);
	for (uint32_t off = 36; off + 4 <= le32(rsdt + 4); off += 4) {
		const uint8_t *t = (const uint8_t *)le32(rsdt + off);
		if (!sig(t, "APIC", 4))
			continue;
		for (uint32_t e = 44; e + 2 <= le32(t + 4) && t[e + 1]; e += t[e + 1])
			if (t[e] == 0 && (le32(t + e + 4) & 1) && ncpus < MAX_CPUS)
				ids[ncpus++] = t[e + 3];
	}
}

/* ---- starting processors ---------------------------------------------- */

static bool start_ap(uint32_t id, unsigned slot)
{
	ap_stack_top = (uint32_t)(ap_stacks[slot] + sizeof(ap_stacks[slot]));
	online[id] = 0;
	send(id, DM_INIT | LEVEL_ASSERT | TRIGGER_LEVEL);
	delay_us(10000);
	send(id, DM_INIT | TRIGGER_LEVEL); /* de-assert */
	for (int i = 0; i < 2 && !online[id]; i++) {
		send(id, DM_STARTUP | (AP_TRAMPOLINE >> 12));
		delay_us(200);
	}
	return wait_for(&online[id], 1, 1000);
}

static void start_all(uint32_t bsp)
{
	uint32_t len = (uint32_t)(ap_trampoline_end - ap_trampoline_start);

	memcpy((void *)AP_TRAMPOLINE, ap_trampoline_start, len);
	__asm__ volatile("sgdt %0" : "=m"(*(char(*)[6])(AP_TRAMPOLINE + (ap_gdtr - ap_trampoline_start))));
	for (unsigned i = 0; i < ncpus; i++)
		if (ids[i] != bsp)
			check(start_ap(ids[i], i), "processor started by INIT, start-up", ids[i], 0);
}

/* ---- the checks ------------------------------------------------------- */

static uint32_t total(volatile uint32_t *count)
{
	uint32_t n = 0;

	for (unsigned i = 0; i < ncpus; i++)
		n += count[ids[i]];
	return n;
}

/* A fixed IPI or an NMI to each AP by its physical ID, taken in time. */
static void check_each_ap(uint32_t bsp, uint32_t mode, volatile uint32_t *count,
			  const char *what)
{
	for (unsigned i = 0; i < ncpus; i++) {
		uint32_t id = ids[i], before = count[id];
		if (id == bsp)
			continue;
		send(id, mode);
		bool ok = wait_for(&count[id], before + 1, 100);
		check(ok, what, id, count[id] - before);
	}
}

/* The flat logical destination of every AP (IDs below 8). */
static uint32_t ap_mask(uint32_t bsp)
{
	uint32_t mask = 0;

	for (unsigned i = 0; i < ncpus; i++)
		if (ids[i] != bsp && ids[i] < 8)
			mask |= 1u << ids[i];
	return mask;
}

static void check_logical(uint32_t bsp)
{
	uint32_t mask = ap_mask(bsp), want = total(ipis);

	for (uint32_t m = mask; m; m &= m - 1)
		want++;
	send(mask, DEST_LOGICAL | VEC_IPI);
	delay_us(20000);
	check(total(ipis) == want, "fixed IPI, flat logical destination", mask, total(ipis) - want);
}

static void check_shorthands(uint32_t bsp)
{
	uint32_t before = total(ipis), mine = ipis[bsp];

	send(0, SH_OTHERS | VEC_IPI);
	delay_us(20000);
	check(total(ipis) - before == ncpus - 1 && ipis[bsp] == mine, "all-excluding-self",
	      total(ipis) - before, ipis[bsp] - mine);
	before = total(ipis);
	__asm__ volatile("sti");
	send(0, SH_ALL | VEC_IPI);
	delay_us(20000);
	check(total(ipis) - before == ncpus, "all-including-self", total(ipis) - before, ncpus);
	mine = ipis[bsp];
	send(0, SH_SELF | VEC_IPI);
	bool ok = wait_for(&ipis[bsp], mine + 1, 100);
	check(ok, "self", ipis[bsp] - mine, 0);
	__asm__ volatile("cli");
}

/* To the application processors only: the BSP takes no interrupts here. */
static void check_lowest(uint32_t bsp)
{
	uint32_t before = total(ipis);

	send(ap_mask(bsp), DEST_LOGICAL | DM_LOWEST | VEC_IPI);
	delay_us(20000);
	check(total(ipis) - before == 1, "lowest priority reaches one processor",
	      total(ipis) - before, 1);
}

/* Against the BSP's own timer at the same rate, not the TSC: under an
 * emulator the two clocks need not keep pace. */
static void check_timers(uint32_t bsp)
{
	timers_on = 1;
	send(0, SH_OTHERS | VEC_IPI); /* wake them to start their timers */
	timer_start_periodic(1000);
	wait_ticks(50);
	__asm__ volatile("cli");
	for (unsigned i = 0; i < ncpus; i++)
		if (ids[i] != bsp)
			check(ticks[ids[i]] >= 25, "own local APIC timer ticks", ids[i], ticks[ids[i]]);
}

static void check_restart(uint32_t bsp)
{
	for (unsigned i = 0; i < ncpus; i++)
		if (ids[i] != bsp) {
			check(start_ap(ids[i], i), "running processor restarted by INIT, start-up",
			      ids[i], 0);
			return;
		}
}

static void count_forever(uint32_t bsp)
{
	uint64_t step = (uint64_t)(tsc_khz() ? tsc_khz() : 1000000) * 200;
	uint64_t next = rdtsc() + step;
	uint32_t lost = 0;

	counting = 1;
	send(0, SH_OTHERS | VEC_IPI); /* out of their HLT */
	__asm__ volatile("sti");
	for (;;) {
		for (unsigned i = 0; i < ncpus; i++) {
			uint32_t id = ids[i], before = ipis[id];
			if (id == bsp)
				continue;
			send(id, VEC_IPI);
			if (!wait_for(&ipis[id], before + 1, 2000)) {
				gprintf("FAIL: IPI to processor %u not taken in 2 s\n", id);
				lost++;
			}
		}
		while (rdtsc() < next)
			work[bsp].n++;
		next += step;
		gprintf("count:");
		for (unsigned i = 0; i < ncpus; i++)
			gprintf(" %u", work[ids[i]].n);
		gprintf(" lost %u\n", lost);
	}
}

static void pingpong(uint32_t bsp)
{
	uint32_t n = arg_u32("n", 2000), ap = 0;

	for (unsigned i = 0; i < ncpus; i++)
		if (ids[i] != bsp) {
			ap = ids[i];
			break;
		}
	if (ncpus < 2) {
		gprintf("pingpong: needs two processors\n");
		guest_exit(1);
	}
	pong_to = bsp + 1;
	__asm__ volatile("sti");
	uint64_t t0 = rdtsc();
	for (uint32_t k = 0; k < n; k++) {
		uint32_t before = ipis[bsp];
		send(ap, VEC_IPI);
		while (ipis[bsp] == before)
			__asm__ volatile("pause");
	}
	uint64_t per = udiv64(rdtsc() - t0, n, 0);
	gprintf("pingpong: n=%u tsc_per_round_trip=%u\n", n, (uint32_t)per);
	guest_exit(0);
}

static void flood(void)
{
	uint64_t step = (uint64_t)(tsc_khz() ? tsc_khz() : 1000000) * 1000, next = rdtsc() + step;
	uint32_t sent = 0;

	__asm__ volatile("sti");
	for (;;) {
		send(0, SH_ALL | VEC_IPI);
		sent++;
		if (rdtsc() < next)
			continue;
		uint32_t taken = 0;
		for (unsigned i = 0; i < ncpus; i++)
			taken += ipis[ids[i]];
		gprintf("flood: sent %u taken %u\n", sent, taken);
		next += step;
	}
}

static void lock_test(void)
{
	uint32_t n = arg_u32("n", 2000);

	uint64_t t0 = rdtsc();
	locking = n;
	send(0, SH_OTHERS | VEC_IPI); /* out of their HLT */
	lock_loop(n);
	while (lock_done < ncpus)
		__asm__ volatile("pause");
	uint64_t per = udiv64(rdtsc() - t0, (uint64_t)n * ncpus, 0);
	bool ok = lock_count == n * ncpus;
	gprintf("lock: n=%u cpus=%u count %s tsc_per_acquisition=%u\n", n, ncpus,
		ok ? "ok" : "wrong", (uint32_t)per);
	guest_exit(ok ? 0 : 1);
}

static void write_test(uint32_t bsp)
{
	write_pages = arg_u32("pages", 256);
	write_passes = arg_u32("passes", 1);
	write_rate = arg_u32("rate", 0);
	write_spread = arg_u32("spread", 1);
	write_base = ((uint32_t)_end + 0x1fffff) & ~0x1fffffu;
	uint32_t total = write_pages * ncpus;
	if (!write_spread ||
	    write_base + (uint64_t)total * write_spread * 4096 > guest_mem_top) {
		gprintf("write: %u pages spread %u from 0x%x do not fit below 0x%x\n", total,
			write_spread, write_base, guest_mem_top);
		guest_exit(1);
	}
	gprintf("write: ready base 0x%x pages %u cpus %u spread %u\n", write_base, total, ncpus,
		write_spread);
	/* Reading the UART exits to the hypervisor: look every 2 ms only. */
	while (getc_serial() != 'g')
		delay_us(2000);
	uint64_t t0 = rdtsc();
	writing = 1;
	send(0, SH_OTHERS | VEC_IPI); /* out of their HLT */
	write_share(position_of(bsp));
	while (write_done < ncpus)
		__asm__ volatile("pause");
	uint64_t per = udiv64(rdtsc() - t0, total * write_passes, 0);
	gprintf("write: done pages %u passes %u tsc_per_page=%u\n", total, write_passes,
		(uint32_t)per);
	for (;;)
		__asm__ volatile("cli; hlt");
}

int main(uint32_t magic, const struct mb_info *mbi);
int main(uint32_t magic, const struct mb_info *mbi)
{
	rt_init(magic, mbi);
	/* Firmware may leave the 8259 running with the BIOS's vectors (IRQ0
	 * on vector 8): only local APIC interrupts here. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	read_madt();
	uint32_t bsp = apic_id();
	gprintf("smp: the MADT lists %u processors, this is APIC %u\n", ncpus, bsp);
	check(ncpus >= 1, "the MADT lists processors", ncpus, 0);
	idt_gate(VEC_IPI, isr_ipi);
	idt_gate(2, isr_nmi);
	idt_gate(VEC_AP_TIMER, isr_ap_timer);
	apic_setup(bsp);
	start_all(bsp);
	if (arg_present("count"))
		count_forever(bsp);
	if (arg_present("pingpong"))
		pingpong(bsp);
	if (arg_present("flood"))
		flood();
	if (arg_present("lock"))
		lock_test();
	if (arg_present("write"))
		write_test(bsp);
	if (ncpus > 1) {
		check_each_ap(bsp, VEC_IPI, ipis, "fixed IPI, physical destination");
		check_logical(bsp);
		check_shorthands(bsp);
		check_each_ap(bsp, DM_NMI, nmis, "NMI IPI");
		check_lowest(bsp);
		check_timers(bsp);
		check_restart(bsp);
	}
	gprintf("smp: %u cpus, %u failed\n", ncpus, failures);
	return (int)failures;
}
