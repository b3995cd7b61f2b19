#include "vuart_harness.h"

struct vuart vu;
uint8_t vu_sent[512];
size_t vu_nsent;
bool vu_levels[VU_MAX_LEVELS];
unsigned vu_nlevels;

static void record_tx(void *ctx, uint8_t b)
{
	cr_assert_eq(ctx, &vu);
	cr_assert_lt(vu_nsent, sizeof(vu_sent));
	vu_sent[vu_nsent++] = b;
}

static void record_irq(void *ctx, unsigned line, bool level)
{
	cr_assert_eq(ctx, &vu);
	cr_assert_eq(line, 4);
	cr_assert_lt(vu_nlevels, VU_MAX_LEVELS);
	vu_levels[vu_nlevels++] = level;
}

void vu_setup(void)
{
	vu_nsent = 0;
	vu_nlevels = 0;
	vuart_init(&vu, record_tx, &vu);
	vuart_set_irq(&vu, (struct irq_line){ .set = record_irq, .ctx = &vu, .line = 4 });
}
