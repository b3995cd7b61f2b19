/* The PC's 8254 wiring: three counters at 0x40-0x43 clocked from VM time,
 * gate 2 and OUT2 at port 0x61, OUT0's rising edges as IRQ0 pulses. One
 * counter's behaviour is vpit_counter.c. */
#include "hv/vdev/vpit.h"

#include "hv/lib/string.h"

enum {
	RW_LATCH = 0, SELECT_READ_BACK = 3,
	RB_NO_COUNT = 0x20, RB_NO_STATUS = 0x10, RB_RESERVED = 0x01,
	PORT_B_GATE2 = 0x01, PORT_B_WRITABLE = 0x0f, PORT_B_REFRESH = 0x10, PORT_B_OUT2 = 0x20,
	REFRESH_CLOCKS = 18, /* the AT's counter 1 count: one refresh per 15.09 us */
	CONTROL_PORT = VPIT_PORT + 3,
};

static void deliver_edge(struct vpit *pit)
{
	pit->irq_edges++;
	irq_pulse(&pit->irq0);
}

static void write_control_port(struct vpit *pit, uint8_t v, uint64_t k)
{
	unsigned select = v >> 6;

	if (select != SELECT_READ_BACK) {
		if (((v >> 4) & 3) == RW_LATCH)
			vpit_counter_latch(&pit->ch[select], true, false, k);
		else
			vpit_counter_control(&pit->ch[select], v, k);
		return;
	}
	if (v & RB_RESERVED)
		pit->bad_values++;
	for (unsigned i = 0; i < 3; i++) {
		if (!(v & (2u << i)))
			continue;
		vpit_counter_latch(&pit->ch[i], !(v & RB_NO_COUNT), !(v & RB_NO_STATUS), k);
	}
}

static uint8_t read_byte(struct vpit *pit, uint16_t port, uint64_t k)
{
	if (port >= VPIT_PORT && port < CONTROL_PORT)
		return vpit_counter_read(&pit->ch[port - VPIT_PORT], k);
	if (port == VPIT_PORT_B)
		return (uint8_t)(pit->port_b | ((k / REFRESH_CLOCKS) & 1 ? PORT_B_REFRESH : 0) |
				 (vpit_counter_out(&pit->ch[2], k) ? PORT_B_OUT2 : 0));
	pit->bad_io++; /* 0x43 included: the 8254 leaves the bus floating */
	return 0xff;
}

static void write_byte(struct vpit *pit, uint16_t port, uint8_t v, uint64_t k)
{
	bool out0_before = vpit_counter_out(&pit->ch[0], k);

	if (port >= VPIT_PORT && port < CONTROL_PORT) {
		if (!vpit_counter_write(&pit->ch[port - VPIT_PORT], v, k))
			pit->bad_values++;
	} else if (port == CONTROL_PORT) {
		write_control_port(pit, v, k);
	} else if (port == VPIT_PORT_B) {
		pit->port_b = v & PORT_B_WRITABLE;
		vpit_counter_set_gate(&pit->ch[2], v & PORT_B_GATE2, k);
	} else {
		pit->bad_io++;
	}
	/* A control word raises OUT at once from mode 0's low level: an edge. */
	if (!out0_before && vpit_counter_out(&pit->ch[0], k))
		deliver_edge(pit);
}

static bool valid_size(struct vpit *pit, unsigned size)
{
	if (size == 1 || size == 2 || size == 4)
		return true;
	pit->bad_io++;
	return false;
}

uint32_t vpit_read(struct vpit *pit, uint16_t port, unsigned size, uint64_t now_ns)
{
	uint64_t k = vpit_tick(now_ns);
	uint32_t value = 0;

	if (!valid_size(pit, size))
		return UINT32_MAX;
	for (unsigned i = 0; i < size; i++)
		value |= (uint32_t)read_byte(pit, (uint16_t)(port + i), k) << (8 * i);
	return value;
}

void vpit_write(struct vpit *pit, uint16_t port, unsigned size, uint32_t value, uint64_t now_ns)
{
	uint64_t k = vpit_tick(now_ns);

	if (!valid_size(pit, size))
		return;
	vpit_advance(pit, now_ns); /* what was due happens before the write */
	for (unsigned i = 0; i < size; i++)
		write_byte(pit, (uint16_t)(port + i), (uint8_t)(value >> (8 * i)), k);
}

uint64_t vpit_next_event(const struct vpit *pit, uint64_t now_ns)
{
	(void)now_ns; /* the answer depends on what was delivered, not on now */
	uint64_t tick = vpit_counter_next_rise(&pit->ch[0], pit->irq_tick);

	return tick == UINT64_MAX ? UINT64_MAX : vpit_tick_ns(tick);
}

void vpit_advance(struct vpit *pit, uint64_t now_ns)
{
	uint64_t k = vpit_tick(now_ns);

	if (k > pit->irq_tick) {
		uint64_t edges = vpit_counter_rises(&pit->ch[0], pit->irq_tick, k);
		if (edges) {
			deliver_edge(pit);
			pit->irq_coalesced += edges - 1;
		}
		pit->irq_tick = k;
	}
	for (unsigned i = 0; i < 3; i++)
		vpit_counter_sync(&pit->ch[i], k);
}

void vpit_init(struct vpit *pit, const struct irq_line *irq0, uint64_t now_ns)
{
	uint64_t k = vpit_tick(now_ns);
	static const uint8_t bios_init[][2] = {
		{ 0x43, 0x36 }, { 0x40, 0x00 }, { 0x40, 0x00 }, /* counter 0: mode 3, 65536 */
		{ 0x43, 0x74 }, { 0x41, 18 }, { 0x41, 0x00 },  /* counter 1: mode 2, 18 */
		{ 0x43, 0xb6 },                                 /* counter 2: mode 3 */
	};

	memset(pit, 0, sizeof(*pit));
	pit->irq_tick = k;
	pit->ch[0].gate = true;
	pit->ch[1].gate = true;
	for (unsigned i = 0; i < sizeof(bios_init) / sizeof(bios_init[0]); i++)
		write_byte(pit, bios_init[i][0], bios_init[i][1], k);
	pit->irq_edges = 0; /* OUT0 rose from its undefined power-on level: no one saw it */
	if (irq0)
		pit->irq0 = *irq0;
}
