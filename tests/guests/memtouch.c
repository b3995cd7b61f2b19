/* Writes guest pages at a chosen rate and keeps a record of what every page
 * must hold, so it can verify its own memory and print a checksum.
 *
 * Arguments: base=ADDR (first page; default: first 2 MiB boundary after
 * the guest's own data), pages=N (default: up to the top of RAM),
 * rate=P pages per second (0: as fast as possible), mode=seq|rand,
 * fill=page|word (write whole pages or one word), report=MS (status line
 * interval, 0: none), idle (write nothing until told).
 *
 * Serial commands, one per line: c (checksum), v (verify), p (pause),
 * r (resume), s (status), w FIRST COUNT (write those pages once),
 * m MSR [VALUE] (hex: write the MSR if a value is given, then read it). */
#include "rt.h"

extern char _end[];

static uint32_t base, npages, rate, report_ms;
static bool whole_page = true, random_order, paused;
static uint32_t *gen;   /* generation of each page: what it must contain */
static uint64_t written, passes;
static uint32_t cursor, rng = 0x12345678u;

static uint32_t page_word(uint32_t page, uint32_t g, uint32_t i)
{
	uint32_t x = page * 0x9e3779b1u ^ g * 0x85ebca77u ^ i * 0xc2b2ae3du;

	return x ^ (x >> 15);
}

static volatile uint32_t *page_ptr(uint32_t page)
{
	return (volatile uint32_t *)(base + page * 4096u);
}

static void write_page(uint32_t p)
{
	uint32_t g = ++gen[p];
	volatile uint32_t *w = page_ptr(p);

	if (whole_page)
		for (uint32_t i = 0; i < 1024; i++)
			w[i] = page_word(p, g, i);
	else
		w[0] = page_word(p, g, 0);
	written++;
}

static bool page_ok(uint32_t p, uint32_t *bad_word)
{
	volatile uint32_t *w = page_ptr(p);
	uint32_t g = gen[p];
	uint32_t words = whole_page ? 1024 : 1;

	if (g == 0)
		return true; /* never written: no expectation */
	for (uint32_t i = 0; i < words; i++)
		if (w[i] != page_word(p, g, i)) {
			*bad_word = i;
			return false;
		}
	return true;
}

static uint64_t checksum(void)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint32_t p = 0; p < npages; p++) {
		volatile uint32_t *w = page_ptr(p);
		for (uint32_t i = 0; i < 1024; i++)
			h = (h ^ w[i]) * 0x100000001b3ull;
	}
	return h;
}

static void verify(void)
{
	uint32_t bad = 0, first = 0, word = 0;

	for (uint32_t p = 0; p < npages; p++) {
		uint32_t wi;
		if (!page_ok(p, &wi)) {
			if (!bad++) {
				first = p;
				word = wi;
			}
		}
	}
	if (bad)
		gprintf("memtouch: verify FAILED %u pages, first page %u word %u\n", bad, first, word);
	else
		gprintf("memtouch: verify ok %u pages\n", npages);
}

static uint32_t next_page(void)
{
	if (random_order) {
		rng ^= rng << 13;
		rng ^= rng >> 17;
		rng ^= rng << 5;
		return rng % npages;
	}
	uint32_t p = cursor++;
	if (cursor == npages) {
		cursor = 0;
		passes++;
	}
	return p;
}

static uint32_t parse_num(const char **s)
{
	uint32_t v = 0;

	while (**s == ' ')
		(*s)++;
	while (**s >= '0' && **s <= '9')
		v = v * 10 + (uint32_t)(*(*s)++ - '0');
	return v;
}

static uint64_t parse_hex(const char **s)
{
	uint64_t v = 0;

	while (**s == ' ')
		(*s)++;
	for (;; (*s)++) {
		char c = **s;
		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return v;
	}
}

/* "m MSR [VALUE]" (hex): writes the MSR when a value is given, then reads
 * it. For MSRs the guest's CPU has: any other #GPs and ends the guest. */
static void msr_command(const char *s)
{
	uint32_t msr = (uint32_t)parse_hex(&s);
	while (*s == ' ')
		s++;
	if (*s) {
		uint64_t value = parse_hex(&s);
		__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)value),
				 "d"((uint32_t)(value >> 32)));
	}
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	gprintf("memtouch: msr 0x%x = 0x%lx\n", msr, (uint64_t)hi << 32 | lo);
}

static void status(void)
{
	gprintf("memtouch: written %lu passes %lu pages %u base 0x%x %s\n", written, passes,
		npages, base, paused ? "paused" : "running");
}

static void command(const char *line)
{
	switch (line[0]) {
	case 'c': gprintf("memtouch: checksum 0x%016lx pages %u\n", checksum(), npages); break;
	case 'v': verify(); break;
	case 'p': paused = true; gprintf("memtouch: paused\n"); break;
	case 'r': paused = false; gprintf("memtouch: resumed\n"); break;
	case 's': status(); break;
	case 'm': msr_command(line + 1); break;
	case 'w': {
		const char *s = line + 1;
		uint32_t first = parse_num(&s), count = parse_num(&s);
		if (first >= npages || count > npages - first) {
			gprintf("memtouch: bad range %u+%u (pages %u)\n", first, count, npages);
			break;
		}
		for (uint32_t p = first; p < first + count; p++)
			write_page(p);
		gprintf("memtouch: wrote %u pages from %u\n", count, first);
		break;
	}
	default:
		if (line[0])
			gprintf("memtouch: unknown command '%s'\n", line);
	}
}

static void poll_input(void)
{
	static char line[64];
	static uint32_t len;
	int c;

	while ((c = getc_serial()) >= 0) {
		if (c == '\n' || c == '\r') {
			line[len] = 0;
			command(line);
			len = 0;
		} else if (len + 1 < sizeof(line)) {
			line[len++] = (char)c;
		}
	}
}

int main(uint32_t magic, const struct mb_info *mbi);
int main(uint32_t magic, const struct mb_info *mbi)
{
	char buf[16];

	rt_init(magic, mbi);
	gen = (uint32_t *)(((uint32_t)_end + 4095) & ~4095u);
	uint32_t max_pages = (guest_mem_top - (uint32_t)gen) / 4100; /* pages + their records */
	uint32_t def_base = ((uint32_t)gen + max_pages * 4 + 0x1fffff) & ~0x1fffffu;
	base = arg_u32("base", def_base);
	npages = arg_u32("pages", base < guest_mem_top ? (guest_mem_top - base) / 4096 : 0);
	rate = arg_u32("rate", 0);
	report_ms = arg_u32("report", 1000);
	random_order = arg_str("mode", buf, sizeof(buf)) && !strncmp(buf, "rand", 4);
	whole_page = !(arg_str("fill", buf, sizeof(buf)) && !strncmp(buf, "word", 4));
	paused = arg_present("idle");
	if (!npages || base < (uint32_t)(gen + npages) ||
	    base + (uint64_t)npages * 4096 > guest_mem_top) {
		gprintf("memtouch: bad layout base 0x%x pages %u top 0x%x\n", base, npages,
			guest_mem_top);
		return 2;
	}
	memset(gen, 0, npages * sizeof(uint32_t));
	gprintf("memtouch: ready base 0x%x pages %u rate %u fill %s\n", base, npages, rate,
		whole_page ? "page" : "word");

	uint64_t khz = tsc_khz() ? tsc_khz() : 1000000;
	uint64_t per_page = rate ? udiv64(khz * 1000, rate, 0) : 0;
	uint64_t next_write = rdtsc(), next_report = rdtsc() + khz * report_ms;
	uint64_t next_poll = 0;
	for (;;) {
		uint64_t now = rdtsc();
		/* Reading the UART exits to the hypervisor: poll every 2 ms only. */
		if (now >= next_poll) {
			poll_input();
			next_poll = now + khz * 2;
		}
		if (!paused && now >= next_write) {
			write_page(next_page());
			next_write = per_page ? next_write + per_page : now;
			if (per_page && now > next_write + khz * 100)
				next_write = now; /* fell behind (paused host): no burst */
		}
		if (report_ms && now >= next_report) {
			status();
			next_report = now + khz * report_ms;
		}
	}
}
