/* A tiny runtime for the test guests (32-bit, no libc). */
#ifndef GUEST_RT_H
#define GUEST_RT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIMER_VECTOR 0x30

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
};

/* Set up by main() callers through rt_init(). */
extern const char *guest_cmdline;
extern uint32_t guest_mem_top; /* first byte above RAM (from mem_upper) */
extern volatile uint32_t timer_ticks;

void rt_init(uint32_t magic, const struct mb_info *mbi);

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }
static inline void cpuid(uint32_t leaf, uint32_t r[4]) { __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0)); }
static inline void sti(void) { __asm__ volatile("sti"); }
static inline void cli(void) { __asm__ volatile("cli"); }

/* The IDT every CPU of the guest shares: a gate to 'handler' (an
 * interrupt stub ending in iret), and LIDT of it on the calling CPU. */
void idt_gate(int vector, void (*handler)(void));
void idt_load(void);
/* The same IDT: a gate of any type (type 0: not present), and LIDT of it
 * with a limit that may cut it short (the conformance checks). */
#define IDT_INTERRUPT_GATE 0x8e
void idt_gate_typed(int vector, void *handler, uint8_t type);
void idt_load_limit(uint16_t limit);
#define IDT_FULL_LIMIT (256 * 8 - 1)

void putc_serial(char c);
void puts_serial(const char *s);
void gprintf(const char *fmt, ...);
/* A byte from the serial port, or -1. */
int getc_serial(void);

/* "key=value" from the command line: the value as a number (decimal or
 * 0x hex, with K/M suffixes), or the default. */
uint32_t arg_u32(const char *key, uint32_t fallback);
bool arg_present(const char *key);
const char *arg_str(const char *key, char *buf, size_t size);

/* Local APIC timer: periodic interrupt every 'us' microseconds. */
void timer_start_periodic(uint32_t us);
/* Sleeps (HLT) until 'ticks' timer ticks have passed. */
void wait_ticks(uint32_t ticks);
uint32_t tsc_khz(void); /* from the hypervisor's CPUID leaf */

uint64_t udiv64(uint64_t n, uint32_t d, uint32_t *rem);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

__attribute__((noreturn)) void guest_exit(uint32_t code);

#endif
