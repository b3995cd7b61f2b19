/* A 16550A under test (test_vuart.c, test_vuart_irq.c): one UART whose
 * transmitted bytes and interrupt line levels are recorded. */
#ifndef TESTS_UNIT_VUART_HARNESS_H
#define TESTS_UNIT_VUART_HARNESS_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/vdev/vuart.h"

enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4,
       LSR = 5, MSR = 6, SCR = 7 };
enum { LOOP = 0x10, OUT2 = 0x08 };

#define VU_MAX_LEVELS 64

extern struct vuart vu;
extern uint8_t vu_sent[512];     /* what the tx callback got */
extern size_t vu_nsent;
extern bool vu_levels[VU_MAX_LEVELS]; /* every level driven on IRQ 4, in order */
extern unsigned vu_nlevels;

/* vuart_init with the recorders, then vuart_set_irq on line 4. */
void vu_setup(void);

static inline uint8_t vu_rd(unsigned offset)
{
	return vuart_read(&vu, offset);
}

static inline void vu_wr(unsigned offset, uint8_t value)
{
	vuart_write(&vu, offset, value);
}

/* The levels driven so far are exactly want[0..n). */
static inline void vu_assert_levels(const bool *want, unsigned n)
{
	cr_assert_eq(vu_nlevels, n, "%u levels driven, expected %u", vu_nlevels, n);
	for (unsigned i = 0; i < n; i++)
		cr_assert_eq(vu_levels[i], want[i], "level %u", i);
}

#endif
