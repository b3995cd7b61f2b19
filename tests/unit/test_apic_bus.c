/* IPIs between local APICs on a VM's bus (hv/vdev/apic_bus.c and the ICR in
 * vlapic.c): physical and logical destinations, the shorthands, NMI, INIT
 * and start-up, lowest priority, and the ICR writes the SDM's table 10-3
 * calls invalid. Four APICs, IDs 0-3, APIC 0 the BSP. */
#include <criterion/criterion.h>

#include "hv/vdev/apic_bus.h"

#define GHZ 1000000000ull
#define N 4

static struct vlapic apics[N];
static struct vlapic *ptrs[N];
static struct apic_bus bus;

static void route(void *ctx, struct vlapic *from, const struct apic_msg *m, enum apic_shorthand sh)
{
	cr_assert_eq(ctx, &bus);
	apic_bus_send(&bus, from, m, sh);
}

static void setup(void)
{
	for (unsigned i = 0; i < N; i++) {
		vlapic_init(&apics[i], i, GHZ);
		if (i)
			vlapic_make_ap(&apics[i]);
		vlapic_set_ipi_bus(&apics[i], route, &bus);
		cr_assert(vlapic_write(&apics[i], APIC_SVR, 0x1ff, 0));
		/* Flat logical model, one bit per APIC. */
		cr_assert(vlapic_write(&apics[i], APIC_LDR, (1u << i) << 24, 0));
		ptrs[i] = &apics[i];
	}
	bus = (struct apic_bus){ ptrs, N, 0 };
}

TestSuite(apic_bus, .init = setup);

static void icr(unsigned from, uint32_t dest, uint32_t lo)
{
	cr_assert(vlapic_write(&apics[from], APIC_ICR_HI, dest << 24, 0));
	cr_assert(vlapic_write(&apics[from], APIC_ICR_LO, lo, 0));
}

/* Which APICs have 'vector' pending, as a bit mask. */
static unsigned pending(int vector)
{
	unsigned mask = 0;

	for (unsigned i = 0; i < N; i++)
		if (vlapic_pending(&apics[i]) == vector) {
			mask |= 1u << i;
			vlapic_accept(&apics[i], vector);
			vlapic_write(&apics[i], APIC_EOI, 0, 0);
		}
	return mask;
}

Test(apic_bus, physical_destination_reaches_one_apic)
{
	icr(0, 2, 0x40);
	cr_assert_eq(pending(0x40), 1u << 2);
	icr(3, 0, 0x41);
	cr_assert_eq(pending(0x41), 1u << 0);
	icr(1, 9, 0x42); /* nobody has ID 9 */
	cr_assert_eq(pending(0x42), 0);
	icr(1, 0xff, 0x43); /* physical broadcast */
	cr_assert_eq(pending(0x43), 0xf);
}

Test(apic_bus, flat_logical_destination_is_a_set)
{
	icr(0, 0x0a, (1u << 11) | 0x50); /* logical, APICs 1 and 3 */
	cr_assert_eq(pending(0x50), (1u << 1) | (1u << 3));
}

Test(apic_bus, cluster_logical_destination)
{
	for (unsigned i = 0; i < N; i++) {
		vlapic_write(&apics[i], APIC_DFR, 0x0fffffffu, 0);
		/* cluster 1 for APICs 0-1, cluster 2 for 2-3; bit i % 2 */
		vlapic_write(&apics[i], APIC_LDR, (((i / 2 + 1) << 4) | (1u << (i % 2))) << 24, 0);
	}
	icr(0, 0x23, (1u << 11) | 0x51); /* cluster 2, both */
	cr_assert_eq(pending(0x51), (1u << 2) | (1u << 3));
}

Test(apic_bus, shorthands)
{
	icr(1, 0, (1u << 18) | 0x60); /* self */
	cr_assert_eq(pending(0x60), 1u << 1);
	icr(1, 0, (2u << 18) | 0x61); /* all including self */
	cr_assert_eq(pending(0x61), 0xf);
	icr(1, 0, (3u << 18) | 0x62); /* all excluding self; the destination field is ignored */
	cr_assert_eq(pending(0x62), 0xf & ~(1u << 1));
}

Test(apic_bus, nmi_init_and_start_up)
{
	icr(0, 3, 4u << 8); /* NMI */
	cr_assert(vlapic_take_nmi(&apics[3]));
	cr_assert_not(vlapic_take_nmi(&apics[2]));
	icr(0, 0, (3u << 18) | (5u << 8) | (1u << 14) | (1u << 15)); /* INIT assert to the others */
	for (unsigned i = 1; i < N; i++)
		cr_assert(vlapic_take_init(&apics[i]), "APIC %u", i);
	cr_assert_not(vlapic_take_init(&apics[0]));
	icr(0, 2, (6u << 8) | 0x9f); /* start-up, vector 0x9f */
	cr_assert_eq(vlapic_take_sipi(&apics[2]), 0x9f);
	cr_assert_eq(vlapic_take_sipi(&apics[1]), -1);
}

Test(apic_bus, init_de_assert_and_invalid_combinations_are_not_sent)
{
	icr(0, 1, (5u << 8) | (1u << 15)); /* INIT level de-assert */
	cr_assert_not(vlapic_take_init(&apics[1]));
	icr(0, 0, (1u << 18) | (4u << 8)); /* NMI to self: invalid */
	cr_assert_not(vlapic_take_nmi(&apics[0]));
	icr(0, 0, (2u << 18) | (6u << 8) | 0x10); /* start-up to all including self */
	for (unsigned i = 0; i < N; i++)
		cr_assert_eq(vlapic_take_sipi(&apics[i]), -1);
	icr(0, 1, 0x05); /* fixed vector below 16 */
	cr_assert_eq(pending(0x05), 0);
	uint32_t esr = 0;
	vlapic_read(&apics[0], APIC_ESR, &esr, 0);
	cr_assert(esr & (1u << 5), "send illegal vector");
	cr_assert_eq(apics[0].ipis_ignored, 4);
	cr_assert_eq(apics[0].ipis_sent, 0);
}

Test(apic_bus, icr_reads_back_idle)
{
	icr(0, 2, (1u << 14) | 0x40);
	uint32_t lo = 0;
	cr_assert(vlapic_read(&apics[0], APIC_ICR_LO, &lo, 0));
	cr_assert_eq(lo, (1u << 14) | 0x40, "delivery status reads idle");
}

Test(apic_bus, lowest_priority_goes_to_one_with_the_lowest_priority)
{
	vlapic_write(&apics[1], APIC_TPR, 0x30, 0);
	vlapic_write(&apics[2], APIC_TPR, 0x10, 0);
	vlapic_write(&apics[3], APIC_TPR, 0x20, 0);
	icr(0, 0x0e, (1u << 11) | (1u << 8) | 0x70); /* logical 1-3, lowest priority */
	cr_assert_eq(pending(0x70), 1u << 2);
	/* Equal priorities: the message rotates among them. */
	for (unsigned i = 1; i < N; i++)
		vlapic_write(&apics[i], APIC_TPR, 0, 0);
	unsigned seen = 0;
	for (int k = 0; k < 3; k++) {
		icr(0, 0x0e, (1u << 11) | (1u << 8) | 0x71);
		unsigned got = pending(0x71);
		cr_assert_eq(__builtin_popcount(got), 1);
		seen |= got;
	}
	cr_assert_eq(seen, 0x0e, "each of the three took one");
}

Test(apic_bus, ioapic_messages_use_the_same_destinations)
{
	struct apic_msg m = { .vector = 0x80, .dest = 0x06, .dest_logical = true };
	cr_assert(apic_bus_deliver(&bus, &m));
	cr_assert_eq(pending(0x80), (1u << 1) | (1u << 2));
	vlapic_write(&apics[3], APIC_SVR, 0xff, 0); /* software-disabled: refuses fixed */
	m = (struct apic_msg){ .vector = 0x81, .dest = 3 };
	cr_assert_not(apic_bus_deliver(&bus, &m));
}

Test(apic_bus, init_keeps_the_id_and_a_later_start_up)
{
	vlapic_write(&apics[2], APIC_ID, 7u << 24, 0);
	vlapic_write(&apics[2], APIC_TPR, 0x20, 0);
	icr(0, 7, (5u << 8) | (1u << 14));
	icr(0, 7, (6u << 8) | 0x12);
	cr_assert(vlapic_take_init(&apics[2]));
	vlapic_init_signal(&apics[2]);
	cr_assert_eq(apics[2].id, 7);
	cr_assert_eq(apics[2].tpr, 0);
	cr_assert_eq(vlapic_take_sipi(&apics[2]), 0x12, "a start-up after the INIT stays");
	cr_assert_eq(vlapic_read_apic_base(&apics[2]) & VLAPIC_BASE_BSP, 0);
	cr_assert(vlapic_read_apic_base(&apics[0]) & VLAPIC_BASE_BSP);
}

/* The VM kicks the CPU of each vCPU whose APIC took a message: the hook
 * must name exactly those, and only after they took it. */
static unsigned told;

static void note_delivery(void *ctx, unsigned index)
{
	cr_assert_eq(ctx, &told);
	cr_assert(vlapic_pending(&apics[index]) >= 0 || apics[index].nmi_pending ||
		  apics[index].init_pending || apics[index].sipi_pending,
		  "APIC %u told before it took the message", index);
	told |= 1u << index;
}

Test(apic_bus, each_apic_that_takes_a_message_is_named_once)
{
	bus.delivered = note_delivery;
	bus.delivered_ctx = &told;
	told = 0;
	icr(0, 0x06, (1u << 11) | 0x60); /* logical 1 and 2, fixed */
	cr_assert_eq(told, (1u << 1) | (1u << 2));
	cr_assert_eq(pending(0x60), told);
	told = 0;
	icr(1, 0, (3u << 18) | 0x61); /* all but self */
	cr_assert_eq(told, 0x0d);
	cr_assert_eq(pending(0x61), told);
	told = 0;
	icr(0, 0x0e, (1u << 11) | (1u << 8) | 0x62); /* lowest priority: one */
	cr_assert_eq(__builtin_popcount(told), 1);
	cr_assert_eq(pending(0x62), told);
	told = 0;
	vlapic_write(&apics[3], APIC_SVR, 0xff, 0); /* refuses fixed: not named */
	struct apic_msg m = { .vector = 0x63, .dest = 3 };
	cr_assert_not(apic_bus_deliver(&bus, &m));
	cr_assert_eq(told, 0);
	icr(0, 2, (4u << 8)); /* NMI, physical 2 */
	cr_assert_eq(told, 1u << 2);
}
