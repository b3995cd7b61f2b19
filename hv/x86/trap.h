/* Interrupt and exception entry for the hypervisor itself. */
#ifndef HV_X86_TRAP_H
#define HV_X86_TRAP_H

#include <stdbool.h>
#include <stdint.h>

/* Layout pushed by isr.S: general registers, then vector and error code,
 * then what the CPU pushed. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

enum {
	VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5, VEC_UD = 6,
	VEC_NM = 7, VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12, VEC_GP = 13,
	VEC_PF = 14, VEC_MF = 16, VEC_AC = 17, VEC_MC = 18, VEC_XM = 19, VEC_VE = 20,
	VEC_CP = 21,
	VEC_TIMER = 0x20,
	VEC_IPI_WAKE = 0x21,
	VEC_IPI_STOP = 0x22, /* another CPU panicked: halt */
	VEC_SPURIOUS = 0xff,
};

/* #PF error code bits (Intel SDM vol. 3 §4.7, AMD APM vol. 2 §8.4.2). */
#define PF_ERR_P 1u     /* a protection violation, not a not-present entry */
#define PF_ERR_W 2u     /* a write */
#define PF_ERR_U 4u     /* a user-mode access */
#define PF_ERR_RSVD 8u  /* a reserved bit set in a paging-structure entry */
#define PF_ERR_ID 16u   /* an instruction fetch */

typedef void (*trap_handler_fn)(struct trap_frame *f);

void idt_init(void);
/* Loads the table idt_init filled on the calling CPU. */
void idt_load(void);
/* Installs a handler for a vector (>= 32, or 2/18 for NMI/#MC). */
void trap_set_handler(unsigned vector, trap_handler_fn fn);

/* Exception fixups: an instruction listed in the ex_table section that
 * faults resumes at its fixup address instead of being fatal. */
bool trap_apply_fixup(struct trap_frame *f);
/* Whether an instruction at rip has a fixup (nothing is changed). */
bool trap_has_fixup(uint64_t rip);

const char *trap_vector_name(unsigned vector);

/* Called for an exception nobody handles or fixes up (the panic report,
 * registered by hv/core); it must not return. Without one the CPU halts. */
typedef void (*trap_fatal_fn)(struct trap_frame *f);
void trap_set_fatal_handler(trap_fatal_fn fn);

#endif
