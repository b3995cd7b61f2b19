/* Fatal errors in the hypervisor itself. */
#ifndef HV_PANIC_H
#define HV_PANIC_H

__attribute__((noreturn, format(printf, 3, 4))) void panic_at(const char *file, int line,
							     const char *fmt, ...);

#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)

#define HV_ASSERT(cond)                                                       \
	do {                                                                  \
		if (!(cond))                                                  \
			panic("assertion failed: %s", #cond);                 \
	} while (0)

enum panic_action { PANIC_HALT, PANIC_REBOOT };
void panic_set_action(enum panic_action action);

/* Ends a fatal path: halts, or reboots if configured. Prints the final line. */
__attribute__((noreturn)) void panic_finish(void);

/* Hooks run once on the fatal path before halting (e.g. save MCE records). */
void panic_set_hook(void (*hook)(void));

#endif
