#include "rt.h"

#define COM1 0x3f8
#define DEBUG_EXIT 0xf4
#define LAPIC 0xfee00000u
#define HV_CPUID_BASE 0x40000000u

const char *guest_cmdline = "";
uint32_t guest_mem_top;
volatile uint32_t timer_ticks;

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t zero, type;
	uint16_t off_hi;
} __attribute__((packed));

static struct idt_gate idt[256];
extern char isr_timer[], isr_spurious[], isr_fault_table[];

static void set_gate(int v, void *handler)
{
	idt_gate_typed(v, handler, IDT_INTERRUPT_GATE);
}

void idt_gate_typed(int vector, void *handler, uint8_t type)
{
	uint32_t a = (uint32_t)handler;

	idt[vector] = (struct idt_gate){ (uint16_t)a, 0x08, 0, type, (uint16_t)(a >> 16) };
}

void idt_gate(int vector, void (*handler)(void))
{
	set_gate(vector, (void *)handler);
}

void idt_setup(void);
void idt_setup(void)
{
	for (int v = 0; v < 32; v++)
		set_gate(v, isr_fault_table + 16 * v);
	set_gate(TIMER_VECTOR, isr_timer);
	set_gate(0xff, isr_spurious);
	idt_load();
}

void idt_load(void)
{
	idt_load_limit(sizeof(idt) - 1);
}

void idt_load_limit(uint16_t limit)
{
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) p = { limit, (uint32_t)idt };
	__asm__ volatile("lidt %0" : : "m"(p));
}

void *memset(void *d, int c, size_t n)
{
	uint8_t *p = d;

	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *a = d;
	const uint8_t *b = s;

	while (n--)
		*a++ = *b++;
	return d;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i] || !a[i])
			return (unsigned char)a[i] - (unsigned char)b[i];
	}
	return 0;
}

/* 64-by-32 division without libgcc. */
uint64_t udiv64(uint64_t n, uint32_t d, uint32_t *rem)
{
	uint64_t q = 0, r = 0;

	for (int i = 63; i >= 0; i--) {
		r = (r << 1) | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= 1ull << i;
		}
	}
	if (rem)
		*rem = (uint32_t)r;
	return q;
}

void putc_serial(char c)
{
	if (c == '\n')
		putc_serial('\r');
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, (uint8_t)c);
}

void puts_serial(const char *s)
{
	while (*s)
		putc_serial(*s++);
}

int getc_serial(void)
{
	if (!(inb(COM1 + 5) & 1))
		return -1;
	return inb(COM1);
}

static void print_num(uint64_t v, unsigned base, int width, char pad)
{
	char buf[24];
	int n = 0;

	do {
		uint32_t r;
		v = udiv64(v, base, &r);
		buf[n++] = "0123456789abcdef"[r];
	} while (v);
	while (n < width--)
		putc_serial(pad);
	while (n)
		putc_serial(buf[--n]);
}

void gprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			putc_serial(*fmt);
			continue;
		}
		fmt++;
		char pad = ' ';
		int width = 0;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		bool wide = false;
		while (*fmt == 'l') {
			wide = true;
			fmt++;
		}
		switch (*fmt) {
		case 'u': print_num(wide ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t), 10, width, pad); break;
		case 'x': print_num(wide ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t), 16, width, pad); break;
		case 'd': {
			int32_t v = va_arg(ap, int32_t);
			if (v < 0) {
				putc_serial('-');
				v = -v;
			}
			print_num((uint32_t)v, 10, width, pad);
			break;
		}
		case 's': puts_serial(va_arg(ap, const char *)); break;
		case 'c': putc_serial((char)va_arg(ap, int)); break;
		default: putc_serial(*fmt); break;
		}
	}
	va_end(ap);
}

/* Finds "key=" at a word start; returns the value's start or NULL. */
static const char *find_arg(const char *key)
{
	size_t kl = strlen(key);
	const char *p = guest_cmdline;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, kl) && (p[kl] == '=' || p[kl] == ' ' || !p[kl]))
			return p + kl;
		while (*p && *p != ' ')
			p++;
	}
	return NULL;
}

bool arg_present(const char *key)
{
	return find_arg(key) != NULL;
}

uint32_t arg_u32(const char *key, uint32_t fallback)
{
	const char *p = find_arg(key);
	uint32_t v = 0, base = 10;

	if (!p || *p != '=')
		return fallback;
	p++;
	if (p[0] == '0' && p[1] == 'x') {
		base = 16;
		p += 2;
	}
	for (;; p++) {
		uint32_t d;
		if (*p >= '0' && *p <= '9')
			d = (uint32_t)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (uint32_t)(*p - 'a' + 10);
		else
			break;
		v = v * base + d;
	}
	if (*p == 'K' || *p == 'k')
		v <<= 10;
	else if (*p == 'M' || *p == 'm')
		v <<= 20;
	return v;
}

const char *arg_str(const char *key, char *buf, size_t size)
{
	const char *p = find_arg(key);
	size_t n = 0;

	if (!p || *p != '=')
		return NULL;
	p++;
	while (p[n] && p[n] != ' ' && n + 1 < size) {
		buf[n] = p[n];
		n++;
	}
	buf[n] = 0;
	return buf;
}

void rt_init(uint32_t magic, const struct mb_info *mbi)
{
	if (magic != 0x2badb002u)
		guest_exit(0xbad);
	if (mbi->flags & (1u << 2))
		guest_cmdline = (const char *)mbi->cmdline;
	if (mbi->flags & 1)
		guest_mem_top = 0x100000 + mbi->mem_upper * 1024;
}

uint32_t tsc_khz(void)
{
	uint32_t r[4];

	cpuid(HV_CPUID_BASE, r);
	if (r[0] < HV_CPUID_BASE + 1)
		return 0;
	cpuid(HV_CPUID_BASE + 1, r);
	return r[0];
}

static volatile uint32_t *lapic(uint32_t reg)
{
	return (volatile uint32_t *)(LAPIC + reg);
}

void timer_interrupt(void);
void timer_interrupt(void)
{
	timer_ticks++;
	*lapic(0xb0) = 0; /* EOI */
}

void timer_start_periodic(uint32_t us)
{
	uint32_t r[4];

	cpuid(HV_CPUID_BASE + 1, r);
	uint32_t bus_khz = r[1] ? r[1] : 1000000;
	*lapic(0xf0) = 0x1ff;            /* enable, spurious vector 0xff */
	*lapic(0x3e0) = 0xb;             /* divide by 1 */
	*lapic(0x320) = (1u << 17) | TIMER_VECTOR; /* periodic */
	*lapic(0x380) = (uint32_t)udiv64((uint64_t)bus_khz * us, 1000, 0);
	sti();
}

void wait_ticks(uint32_t ticks)
{
	uint32_t until = timer_ticks + ticks;

	while ((int32_t)(timer_ticks - until) < 0)
		__asm__ volatile("sti; hlt");
}

void guest_exit(uint32_t code)
{
	outl(DEBUG_EXIT, code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void fault_interrupt(uint32_t *frame);
void fault_interrupt(uint32_t *frame)
{
	gprintf("guest fault: vector %u, words %x %x %x %x\n", frame[0], frame[1], frame[2],
		frame[3], frame[4]);
	guest_exit(0x80 + frame[0]);
}
