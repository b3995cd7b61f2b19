/* Frame-pointer backtraces with symbol names (hv.efi is built with
 * -fno-omit-frame-pointer). */
#ifndef HV_CORE_BACKTRACE_H
#define HV_CORE_BACKTRACE_H

#include <stdint.h>

/* The walker follows frames only into the current CPU's stack and its
 * interrupt stacks (struct percpu). */
void backtrace_print(uint64_t rip, uint64_t rbp);
void backtrace_print_here(void);

/* "name+0xoff" for a code address, or "hv.efi+0xoff" without a symbol. */
void backtrace_format_addr(char *buf, unsigned size, uint64_t addr);

#endif
