/* The 8259A pair's state blob (docs/device-state.md). A loaded state must
 * be one the pair itself can reach through its ports and input lines:
 * each check below says which rule of vpic.c it stands for. */
#include "hv/vdev/vpic.h"

#include "hv/vdev/vdev_state.h"

#define CHIP_BYTES 15

enum {
	ICW1_IC4 = 0x01, ICW1_SNGL = 0x02, ICW1_SELECT = 0x10, ICW4_RESERVED = 0xe0,
	CASCADE_BIT = 0x04,
};

_Static_assert(VPIC_STATE_SIZE == 2 * CHIP_BYTES + 1, "layout in docs/device-state.md");

/* ELCR bits that can be set (vpic.c: IRQ0, 1, 2, 8 and 13 are edge only). */
static const uint8_t elcr_writable[2] = { 0xf8, 0xde };
static const char *const chip_name[2] = { "master", "slave" };

static void put_chip(struct wire_cursor *w, const struct vpic_chip *c)
{
	const uint8_t bytes[] = { c->irr, c->isr, c->imr, c->line, c->elcr, c->vector_base,
				  c->icw1, c->icw3, c->icw4, c->init_step, c->lowest,
				  c->read_isr, c->poll, c->special_mask, c->rotate_on_aeoi };

	_Static_assert(sizeof(bytes) == CHIP_BYTES, "chip layout");
	for (unsigned i = 0; i < sizeof(bytes); i++)
		wput8(w, bytes[i]);
}

size_t vpic_save(const struct vpic *pic, uint8_t *buf, size_t size)
{
	if (size < VPIC_STATE_SIZE)
		return 0;
	struct wire_cursor w = wire_writer(buf, VPIC_STATE_SIZE);
	put_chip(&w, &pic->chip[0]);
	put_chip(&w, &pic->chip[1]);
	wput8(&w, pic->intr);
	return VPIC_STATE_SIZE;
}

static void get_chip(struct vdev_state_reader *r, struct vpic_chip *c, const char *name)
{
	c->irr = wget8(&r->c);
	c->isr = wget8(&r->c);
	c->imr = wget8(&r->c);
	c->line = wget8(&r->c);
	c->elcr = wget8(&r->c);
	c->vector_base = wget8(&r->c);
	c->icw1 = wget8(&r->c);
	c->icw3 = wget8(&r->c);
	c->icw4 = wget8(&r->c);
	c->init_step = wget8(&r->c);
	c->lowest = wget8(&r->c);
	c->read_isr = vdev_state_bool(r, "%s read_isr", name);
	c->poll = vdev_state_bool(r, "%s poll", name);
	c->special_mask = vdev_state_bool(r, "%s special_mask", name);
	c->rotate_on_aeoi = vdev_state_bool(r, "%s rotate_on_aeoi", name);
}

/* The initialisation sequence: ICW1 always has bit 4 (that is what makes
 * it ICW1), the next ICW is 2, then 3 only in cascade mode, 4 only when
 * ICW1 asked for it; ICW2 keeps bits 7-3; ICW4's bits 7-5 are dropped and
 * without IC4 ICW1 clears it; a slave keeps only its ID (bits 2-0). */
static void check_init(struct vdev_state_reader *r, const struct vpic_chip *c, unsigned which)
{
	const char *n = chip_name[which];
	uint8_t step = c->init_step;

	vdev_state_check(r, c->icw1 & ICW1_SELECT, "%s icw1 0x%02x: bit 4 clear", n, c->icw1);
	vdev_state_check(r, step == 0 || (step >= 2 && step <= 4),
			 "%s init_step %u: not 0, 2, 3 or 4", n, step);
	vdev_state_check(r, step != 3 || !(c->icw1 & ICW1_SNGL),
			 "%s init_step 3 (ICW3) in single mode", n);
	vdev_state_check(r, step != 4 || (c->icw1 & ICW1_IC4),
			 "%s init_step 4 (ICW4) without IC4 in icw1", n);
	vdev_state_check(r, !(c->vector_base & 7), "%s vector_base 0x%02x: bits 2-0 set", n,
			 c->vector_base);
	vdev_state_check(r, !(c->icw4 & ICW4_RESERVED), "%s icw4 0x%02x: bits 7-5 set", n,
			 c->icw4);
	vdev_state_check(r, (c->icw1 & ICW1_IC4) || !c->icw4,
			 "%s icw4 0x%02x without IC4 in icw1 (ICW1 clears it)", n, c->icw4);
	vdev_state_check(r, which == 0 || !(c->icw3 & ~7u), "%s icw3 0x%02x: a slave ID is 0-7",
			 n, c->icw3);
}

/* Priorities and trigger modes: the lowest-priority input is an input
 * number; ELCR bits of the edge-only IRQs cannot be set; a level input's
 * request is its line (set, ELCR and ICW1 writes all keep it so). */
static void check_chip(struct vdev_state_reader *r, const struct vpic_chip *c, unsigned which)
{
	const char *n = chip_name[which];

	check_init(r, c, which);
	vdev_state_check(r, c->lowest <= 7, "%s lowest %u: not an input 0-7", n, c->lowest);
	vdev_state_check(r, !(c->elcr & ~elcr_writable[which]),
			 "%s elcr 0x%02x: edge-only inputs set as level", n, c->elcr);
	vdev_state_check(r, !((c->irr ^ c->line) & c->elcr),
			 "%s irr 0x%02x: level inputs disagree with line 0x%02x", n, c->irr,
			 c->line);
}

/* The outputs: master input 2's line is the slave's INT and INTR the
 * master's, both recomputed after every access, so they must match. */
static void check_outputs(struct vdev_state_reader *r, const struct vpic *p)
{
	bool slave_int = vpic_slave_output(p);

	vdev_state_check(r, ((p->chip[0].line & CASCADE_BIT) != 0) == slave_int,
			 "master line bit 2 is %u but the slave's INT is %u",
			 (p->chip[0].line & CASCADE_BIT) != 0, slave_int);
	vdev_state_check(r, p->intr == vpic_output(p), "intr %u but the master's INT is %u",
			 p->intr, vpic_output(p));
}

int vpic_load(struct vpic *pic, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct vdev_state_reader r;
	struct vpic next = *pic; /* wiring and counters stay */

	if (!vdev_state_begin(&r, "vpic", buf, len, VPIC_STATE_SIZE, err, errlen))
		return -1;
	get_chip(&r, &next.chip[0], chip_name[0]);
	get_chip(&r, &next.chip[1], chip_name[1]);
	next.intr = vdev_state_bool(&r, "intr");
	if (vdev_state_end(&r))
		return -1;
	check_chip(&r, &next.chip[0], 0);
	check_chip(&r, &next.chip[1], 1);
	if (!r.failed)
		check_outputs(&r, &next);
	if (vdev_state_end(&r))
		return -1;
	*pic = next;
	irq_set(&pic->intr_line, pic->intr);
	return 0;
}
