/* Intel 8259A pair, after the 8259A datasheet (initialisation and operation
 * command words, priority resolution, cascade, poll) and the PIIX/ICH ELCR.
 *
 * Choices where a model must decide:
 * - An edge-triggered request stays latched in IRR until acknowledged even
 *   if the line falls first. The chip itself needs IR high until the first
 *   INTA, but devices here pulse their lines in zero time; a request still
 *   disappears before the acknowledge when it is masked, when its level
 *   input falls, or (on the slave) for any of these reasons.
 * - ICW1 resets what the datasheet lists (edge sense, IMR, priority, slave
 *   ID, special mask, read register, ICW4 functions when IC4 = 0); ISR is
 *   not in that list and is kept.
 * - MCS-80/85 mode (ICW4 bit 0 clear) makes no sense on a PC: it is counted
 *   and vectors are still given in 8086 form. */
#include "hv/vdev/vpic.h"

#include "hv/lib/string.h"

enum {
	ICW1_IC4 = 0x01, ICW1_SNGL = 0x02, ICW1_SELECT = 0x10,
	ICW4_UPM = 0x01, ICW4_AEOI = 0x02, ICW4_SFNM = 0x10, ICW4_RESERVED = 0xe0,
	OCW3_SELECT = 0x08, OCW3_RIS = 0x01, OCW3_RR = 0x02, OCW3_POLL = 0x04,
	OCW3_SMM = 0x20, OCW3_ESMM = 0x40, OCW3_RESERVED = 0x80,
	POLL_INTERRUPT = 0x80,
};

enum { MASTER, SLAVE, CASCADE_IR = 2, SLAVE_ID_AFTER_ICW1 = 7 };

/* ELCR bits that can be set: IRQ0, 1, 2 (ELCR1) and IRQ8, 13 (ELCR2) are
 * hard-wired to edge (timer, keyboard, cascade, RTC, FPU error). */
static const uint8_t elcr_writable[2] = { 0xf8, 0xde };

static uint8_t bit(unsigned ir)
{
	return (uint8_t)(1u << ir);
}

/* 0 is the highest priority; the input after `lowest` has it. */
static unsigned priority(const struct vpic_chip *c, unsigned ir)
{
	return (ir + 7 - c->lowest) & 7;
}

static int highest_of(const struct vpic_chip *c, uint8_t bits)
{
	for (unsigned p = 0; p < 8; p++) {
		unsigned ir = (c->lowest + 1 + p) & 7;
		if (bits & bit(ir))
			return (int)ir;
	}
	return -1;
}

static bool is_cascade_input(const struct vpic_chip *master, unsigned ir)
{
	return !(master->icw1 & ICW1_SNGL) && (master->icw3 & bit(ir));
}

/* The request the chip's INT output stands for, or -1. */
static int chip_request(const struct vpic_chip *c, bool is_master)
{
	uint8_t requests = c->irr & ~c->imr;

	/* Special mask mode: every unmasked level not itself in service may
	 * interrupt, lower as well as higher ones. */
	if (c->special_mask)
		return highest_of(c, requests & ~c->isr);
	int ir = highest_of(c, requests);
	int in_service = highest_of(c, c->isr);
	if (ir < 0 || in_service < 0 || priority(c, ir) < priority(c, in_service))
		return ir;
	/* Special fully nested mode: a slave's input in service does not hold
	 * back that slave's next request (the slave resolved it as higher). */
	if (is_master && ir == in_service && (c->icw4 & ICW4_SFNM) && is_cascade_input(c, ir))
		return ir;
	return -1;
}

static void chip_set_input(struct vpic_chip *c, unsigned ir, bool level)
{
	if (c->elcr & bit(ir))
		c->irr = level ? c->irr | bit(ir) : c->irr & ~bit(ir);
	else if (level && !(c->line & bit(ir)))
		c->irr |= bit(ir); /* rising edge */
	c->line = level ? c->line | bit(ir) : c->line & ~bit(ir);
}

/* The slave's INT drives master IR2; the master's INT is INTR. */
static void update(struct vpic *pic)
{
	chip_set_input(&pic->chip[MASTER], CASCADE_IR, chip_request(&pic->chip[SLAVE], false) >= 0);
	bool out = vpic_output(pic);
	if (out != pic->intr) {
		pic->intr = out;
		irq_set(&pic->intr_line, out);
	}
}

/* First INTA (or poll): the level goes in service, an edge request is used
 * up (a level request stays while its line is high). */
static void ack_begin(struct vpic_chip *c, unsigned ir)
{
	c->isr |= bit(ir);
	if (!(c->elcr & bit(ir)))
		c->irr &= ~bit(ir);
}

/* End of the last INTA: automatic EOI, with rotation if enabled. */
static void ack_end(struct vpic_chip *c, unsigned ir)
{
	if (!(c->icw4 & ICW4_AEOI))
		return;
	c->isr &= ~bit(ir);
	if (c->rotate_on_aeoi)
		c->lowest = (uint8_t)ir;
}

static bool slave_answers(const struct vpic_chip *slave, unsigned ir)
{
	return ir == CASCADE_IR && !(slave->icw1 & ICW1_SNGL) && (slave->icw3 & 7) == ir;
}

/* The slave's half of an acknowledge cascaded through master input ir:
 * returns the vector, *acked the slave input put in service or -1. */
static uint8_t slave_vector(struct vpic *pic, unsigned ir, int *acked)
{
	struct vpic_chip *s = &pic->chip[SLAVE];

	*acked = -1;
	if (!slave_answers(s, ir)) {
		pic->bad_values++; /* no chip drives the bus: it floats high */
		return 0xff;
	}
	*acked = chip_request(s, false);
	if (*acked < 0) {
		pic->spurious++;
		return s->vector_base | 7;
	}
	ack_begin(s, (unsigned)*acked);
	return s->vector_base | (uint8_t)*acked;
}

uint8_t vpic_acknowledge(struct vpic *pic)
{
	struct vpic_chip *m = &pic->chip[MASTER];
	int ir = chip_request(m, true);
	int slave_ir = -1;
	uint8_t vector;

	if (ir < 0) {
		pic->spurious++;
		return m->vector_base | 7;
	}
	ack_begin(m, (unsigned)ir);
	if (is_cascade_input(m, (unsigned)ir))
		vector = slave_vector(pic, (unsigned)ir, &slave_ir);
	else
		vector = m->vector_base | (uint8_t)ir;
	update(pic); /* the acknowledged requests leave the INT outputs */
	ack_end(m, (unsigned)ir);
	if (slave_ir >= 0)
		ack_end(&pic->chip[SLAVE], (unsigned)slave_ir);
	update(pic); /* automatic EOI may raise them again */
	return vector;
}

bool vpic_output(const struct vpic *pic)
{
	return chip_request(&pic->chip[MASTER], true) >= 0;
}

bool vpic_slave_output(const struct vpic *pic)
{
	return chip_request(&pic->chip[SLAVE], false) >= 0;
}

void vpic_set_irq(struct vpic *pic, unsigned irq, bool level)
{
	if (irq >= VPIC_IRQS || irq == CASCADE_IR) {
		pic->bad_io++;
		return;
	}
	chip_set_input(&pic->chip[irq / 8], irq % 8, level);
	update(pic);
}

/* A poll (OCW3 P) makes the next read an acknowledge of this chip alone:
 * I (bit 7) and the level, or 0 when nothing is requested. */
static uint8_t poll(struct vpic *pic, struct vpic_chip *c, bool is_master)
{
	int ir = chip_request(c, is_master);

	c->poll = false;
	if (ir < 0)
		return 0;
	ack_begin(c, (unsigned)ir);
	update(pic);
	ack_end(c, (unsigned)ir);
	update(pic);
	return POLL_INTERRUPT | (uint8_t)ir;
}

static void write_icw1(struct vpic_chip *c, uint8_t v, bool is_master)
{
	c->icw1 = v;
	c->init_step = 2;
	c->irr &= c->elcr & c->line; /* edge sense reset: an edge input needs a new rising edge */
	c->imr = 0;
	c->lowest = 7;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	if (!is_master)
		c->icw3 = SLAVE_ID_AFTER_ICW1;
	if (!(v & ICW1_IC4))
		c->icw4 = 0;
}

static void end_of_interrupt(struct vpic_chip *c, int ir, bool rotate)
{
	if (ir < 0)
		return;
	c->isr &= ~bit((unsigned)ir);
	if (rotate)
		c->lowest = (uint8_t)ir;
}

/* OCW2: bits 7-5 are R, SL, EOI; bits 2-0 a level for SL commands. */
static void write_ocw2(struct vpic_chip *c, uint8_t v)
{
	int level = v & 7;

	switch (v >> 5) {
	case 0: c->rotate_on_aeoi = false; break;
	case 1: end_of_interrupt(c, highest_of(c, c->isr), false); break;
	case 2: break; /* no operation */
	case 3: end_of_interrupt(c, level, false); break;
	case 4: c->rotate_on_aeoi = true; break;
	case 5: end_of_interrupt(c, highest_of(c, c->isr), true); break;
	case 6: c->lowest = (uint8_t)level; break; /* set priority */
	default: end_of_interrupt(c, level, true); break; /* rotate on specific EOI */
	}
}

static void write_ocw3(struct vpic *pic, struct vpic_chip *c, uint8_t v)
{
	if (v & OCW3_RESERVED)
		pic->bad_values++;
	if (v & OCW3_ESMM)
		c->special_mask = v & OCW3_SMM;
	if (v & OCW3_RR)
		c->read_isr = v & OCW3_RIS;
	c->poll = v & OCW3_POLL;
}

static void finish_init(struct vpic *pic, struct vpic_chip *c)
{
	c->init_step = 0;
	if (!(c->icw4 & ICW4_UPM))
		pic->bad_values++;
}

/* The odd port: ICW2-ICW4 while initialising, OCW1 (the mask) after. */
static void write_data(struct vpic *pic, struct vpic_chip *c, uint8_t v, bool is_master)
{
	switch (c->init_step) {
	case 2:
		c->vector_base = v & 0xf8; /* bits 2-0 are the level in 8086 mode */
		c->init_step = !(c->icw1 & ICW1_SNGL) ? 3 : (c->icw1 & ICW1_IC4) ? 4 : 0;
		if (!c->init_step)
			finish_init(pic, c);
		return;
	case 3:
		if (!is_master && (v & 0xf8))
			pic->bad_values++; /* a slave's ICW3 holds only its ID */
		c->icw3 = is_master ? v : (v & 7);
		c->init_step = (c->icw1 & ICW1_IC4) ? 4 : 0;
		if (!c->init_step)
			finish_init(pic, c);
		return;
	case 4:
		if (v & ICW4_RESERVED)
			pic->bad_values++;
		c->icw4 = v & ~ICW4_RESERVED;
		finish_init(pic, c);
		return;
	default:
		c->imr = v;
		return;
	}
}

static void write_command(struct vpic *pic, struct vpic_chip *c, uint8_t v, bool is_master)
{
	if (v & ICW1_SELECT)
		write_icw1(c, v, is_master);
	else if (v & OCW3_SELECT)
		write_ocw3(pic, c, v);
	else
		write_ocw2(c, v);
}

static void write_elcr(struct vpic *pic, struct vpic_chip *c, unsigned which, uint8_t v)
{
	if (v & ~elcr_writable[which])
		pic->bad_values++;
	c->elcr = v & elcr_writable[which];
	/* A level input's request is its line; an edge input keeps what it
	 * latched. */
	c->irr = (c->irr & ~c->elcr) | (c->line & c->elcr);
}

static void write_byte(struct vpic *pic, uint16_t port, uint8_t v)
{
	switch (port) {
	case VPIC_MASTER_PORT: write_command(pic, &pic->chip[MASTER], v, true); break;
	case VPIC_MASTER_PORT + 1: write_data(pic, &pic->chip[MASTER], v, true); break;
	case VPIC_SLAVE_PORT: write_command(pic, &pic->chip[SLAVE], v, false); break;
	case VPIC_SLAVE_PORT + 1: write_data(pic, &pic->chip[SLAVE], v, false); break;
	case VPIC_ELCR_PORT: write_elcr(pic, &pic->chip[MASTER], MASTER, v); break;
	case VPIC_ELCR_PORT + 1: write_elcr(pic, &pic->chip[SLAVE], SLAVE, v); break;
	default: pic->bad_io++; return;
	}
	update(pic);
}

static uint8_t read_chip(struct vpic *pic, unsigned which, bool odd)
{
	struct vpic_chip *c = &pic->chip[which];

	if (c->poll) /* the poll answers the next read at either port */
		return poll(pic, c, which == MASTER);
	if (odd)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

static uint8_t read_byte(struct vpic *pic, uint16_t port)
{
	switch (port) {
	case VPIC_MASTER_PORT:
	case VPIC_MASTER_PORT + 1: return read_chip(pic, MASTER, port & 1);
	case VPIC_SLAVE_PORT:
	case VPIC_SLAVE_PORT + 1: return read_chip(pic, SLAVE, port & 1);
	case VPIC_ELCR_PORT: return pic->chip[MASTER].elcr;
	case VPIC_ELCR_PORT + 1: return pic->chip[SLAVE].elcr;
	default: pic->bad_io++; return 0xff;
	}
}

static bool valid_size(struct vpic *pic, unsigned size)
{
	if (size == 1 || size == 2 || size == 4)
		return true;
	pic->bad_io++;
	return false;
}

uint32_t vpic_read(struct vpic *pic, uint16_t port, unsigned size)
{
	uint32_t value = 0;

	if (!valid_size(pic, size))
		return UINT32_MAX;
	for (unsigned i = 0; i < size; i++)
		value |= (uint32_t)read_byte(pic, (uint16_t)(port + i)) << (8 * i);
	return value;
}

void vpic_write(struct vpic *pic, uint16_t port, unsigned size, uint32_t value)
{
	if (!valid_size(pic, size))
		return;
	for (unsigned i = 0; i < size; i++)
		write_byte(pic, (uint16_t)(port + i), (uint8_t)(value >> (8 * i)));
}

void vpic_init(struct vpic *pic, const struct irq_line *intr)
{
	static const uint8_t bios_init[][2] = {
		{ 0x20, 0x11 }, { 0x21, 0x08 }, { 0x21, 0x04 }, { 0x21, 0x01 }, { 0x21, 0xff },
		{ 0xa0, 0x11 }, { 0xa1, 0x70 }, { 0xa1, 0x02 }, { 0xa1, 0x01 }, { 0xa1, 0xff },
	};

	memset(pic, 0, sizeof(*pic));
	for (unsigned i = 0; i < sizeof(bios_init) / sizeof(bios_init[0]); i++)
		write_byte(pic, bios_init[i][0], bios_init[i][1]);
	if (intr)
		pic->intr_line = *intr;
}
