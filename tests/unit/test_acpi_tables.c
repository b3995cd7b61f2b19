#define _GNU_SOURCE /* memmem */
#include <criterion/criterion.h>
#include <string.h>

#include "hv/lib/byteorder.h"
#include "hv/vdev/acpi_tables.h"
#include "hv/vdev/aml.h"

#define PHYS 0xe0000u

static uint8_t buf[65536];
static size_t used, rsdp;

static const struct acpi_platform four_cpus = { .cpu_count = 4, .ioapic_id = 4 };

static void build(const struct acpi_platform *p)
{
	memset(buf, 0xcc, sizeof(buf));
	rsdp = 12345;
	used = acpi_tables_build(buf, sizeof(buf), PHYS, p, &rsdp);
	cr_assert_neq(used, 0);
	cr_assert_eq(rsdp, 0);
}

static const uint8_t *at(uint64_t phys)
{
	cr_assert(phys >= PHYS && phys < PHYS + used, "address %#llx outside the tables",
		  (unsigned long long)phys);
	return buf + (phys - PHYS);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* A table's signature, length, revision and checksum; returns the table. */
static const uint8_t *table(uint64_t phys, const char *sig, uint32_t len, uint8_t revision)
{
	const uint8_t *t = at(phys);

	cr_assert_eq(memcmp(t, sig, 4), 0, "want %s at %#llx", sig, (unsigned long long)phys);
	if (len)
		cr_assert_eq(get_le32(t + 4), len, "%s length %u", sig, get_le32(t + 4));
	cr_assert_eq(t[8], revision, "%s revision", sig);
	cr_assert_eq(sum(t, get_le32(t + 4)), 0, "%s checksum", sig);
	cr_assert(phys + get_le32(t + 4) <= PHYS + used);
	return t;
}

static const uint8_t *rsdt_entry(unsigned i, unsigned count)
{
	const uint8_t *r = at(PHYS + rsdp);
	const uint8_t *rsdt = table(get_le32(r + 16), "RSDT", 36 + 4 * count, 1);
	const uint8_t *xsdt = table(get_le64(r + 24), "XSDT", 36 + 8 * count, 1);

	cr_assert_eq(get_le32(rsdt + 36 + 4 * i), get_le64(xsdt + 36 + 8 * i));
	return at(get_le64(xsdt + 36 + 8 * i));
}

Test(acpi_tables, rsdp_and_root_tables)
{
	build(&four_cpus);
	const uint8_t *r = at(PHYS + rsdp);
	cr_assert_eq(memcmp(r, "RSD PTR ", 8), 0);
	cr_assert_eq(sum(r, 20), 0, "ACPI 1.0 checksum");
	cr_assert_eq(sum(r, 36), 0, "extended checksum");
	cr_assert_eq(r[15], 2);
	cr_assert_eq(get_le32(r + 20), 36);
	cr_assert_eq(memcmp(r + 9, "HVEFI ", 6), 0);
	cr_assert_eq(memcmp(rsdt_entry(0, 2), "FACP", 4), 0);
	cr_assert_eq(memcmp(rsdt_entry(1, 2), "APIC", 4), 0);
	cr_assert_eq(get_le32(at(get_le32(r + 16)) + 4), 44);
}

Test(acpi_tables, fadt_fields)
{
	build(&four_cpus);
	const uint8_t *r = at(PHYS + rsdp);
	const uint8_t *f = table(get_le64(at(get_le64(r + 24)) + 36), "FACP", 276, 6);

	cr_assert_eq(f[131], 0, "FADT minor version: ACPI 6.0");
	const uint8_t *facs = at(get_le32(f + 36));
	cr_assert_eq(memcmp(facs, "FACS", 4), 0);
	cr_assert_eq(get_le32(facs + 4), 64);
	cr_assert_eq(facs[32], 2);
	cr_assert_eq(get_le32(f + 36) % 64, 0, "FACS 64-byte aligned");
	cr_assert_eq(get_le64(f + 132), 0, "X_FIRMWARE_CTRL zero when FIRMWARE_CTRL is set");
	cr_assert_eq(get_le64(f + 140), get_le32(f + 40), "X_DSDT = DSDT");
	table(get_le32(f + 40), "DSDT", 0, 2);
	cr_assert_eq(get_le16(f + 46), 9, "SCI_INT");
	cr_assert_eq(get_le32(f + 48), 0, "SMI_CMD");
	cr_assert_eq(get_le32(f + 56), 0x600);
	cr_assert_eq(get_le32(f + 60), 0, "no PM1b");
	cr_assert_eq(get_le32(f + 64), 0x604);
	cr_assert_eq(get_le32(f + 72), 0, "no PM2");
	cr_assert_eq(get_le32(f + 76), 0x608);
	cr_assert_eq(get_le32(f + 80), 0, "no GPE0");
	cr_assert(f[88] == 4 && f[89] == 2 && f[90] == 0 && f[91] == 4 && f[92] == 0);
	cr_assert_eq(get_le16(f + 96), 101);
	cr_assert_eq(get_le16(f + 98), 1001);
	cr_assert(f[106] == 0 && f[107] == 0 && f[108] == 0x32, "alarms none, CENTURY 0x32");
	cr_assert_eq(get_le16(f + 109), 0x0005, "LEGACY_DEVICES | VGA not present, no 8042");
	/* WBINVD, PROC_C1, SLP_BUTTON, TMR_VAL_EXT, RESET_REG_SUP */
	cr_assert_eq(get_le32(f + 112), 0x525);
	static const uint8_t reset_reg[12] = { 1, 8, 0, 1, 0xf9, 0x0c };
	cr_assert_eq(memcmp(f + 116, reset_reg, 12), 0);
	cr_assert_eq(f[128], 6, "RESET_VALUE");
	static const uint8_t x_evt[12] = { 1, 32, 0, 2, 0x00, 0x06 };
	static const uint8_t x_cnt[12] = { 1, 16, 0, 2, 0x04, 0x06 };
	static const uint8_t x_tmr[12] = { 1, 32, 0, 3, 0x08, 0x06 };
	static const uint8_t none[12] = { 0 };
	cr_assert_eq(memcmp(f + 148, x_evt, 12), 0, "X_PM1a_EVT_BLK");
	cr_assert_eq(memcmp(f + 160, none, 12), 0, "X_PM1b_EVT_BLK");
	cr_assert_eq(memcmp(f + 172, x_cnt, 12), 0, "X_PM1a_CNT_BLK");
	cr_assert_eq(memcmp(f + 208, x_tmr, 12), 0, "X_PM_TMR_BLK");
	cr_assert_eq(memcmp(f + 220, none, 12), 0, "X_GPE0_BLK");
	cr_assert_eq(memcmp(f + 268, "HVEFI\0\0\0", 8), 0);
}

Test(acpi_tables, madt_entries)
{
	static const uint8_t want[] = {
		0x00, 0x00, 0xe0, 0xfe, 0x01, 0x00, 0x00, 0x00, /* LAPIC address, PCAT_COMPAT */
		0, 8, 0, 0, 1, 0, 0, 0,                         /* processor local APIC 0 */
		0, 8, 1, 1, 1, 0, 0, 0,
		0, 8, 2, 2, 1, 0, 0, 0,
		0, 8, 3, 3, 1, 0, 0, 0,
		1, 12, 4, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0, /* I/O APIC 4, GSI base 0 */
		2, 10, 0, 0, 2, 0, 0, 0, 0x00, 0x00,             /* IRQ0 -> GSI 2, conforming */
		2, 10, 0, 9, 9, 0, 0, 0, 0x0d, 0x00,             /* IRQ9 -> GSI 9, level, high */
		4, 6, 0xff, 0x00, 0x00, 1,                       /* NMI on LINT1, all CPUs */
	};

	build(&four_cpus);
	const uint8_t *m = table(PHYS + (rsdt_entry(1, 2) - buf), "APIC", 36 + sizeof(want), 4);
	cr_assert_eq(memcmp(m + 36, want, sizeof(want)), 0);

	struct acpi_platform one = { .cpu_count = 1, .ioapic_id = 1 };
	build(&one);
	m = table(PHYS + (rsdt_entry(1, 2) - buf), "APIC", 36 + sizeof(want) - 24, 4);
	cr_assert_eq(m[44 + 8], 1, "the I/O APIC after one local APIC");
	cr_assert_eq(m[44 + 8 + 2], 1);
}

Test(acpi_tables, dsdt_s5_and_sb_scope)
{
	/* Name (_S5, Package () { 5, 5, 0, 0 })  Scope (\_SB) { } */
	static const uint8_t aml[] = {
		0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,
		0x10, 0x06, 0x5c, '_', 'S', 'B', '_',
	};

	build(&four_cpus);
	const uint8_t *f = rsdt_entry(0, 2);
	const uint8_t *d = table(get_le32(f + 40), "DSDT", 36 + sizeof(aml), 2);
	cr_assert_eq(memcmp(d + 36, aml, sizeof(aml)), 0);
	cr_assert_eq(memcmp(d + 10, "HVEFI HVPC    ", 14), 0, "OEM ID and table ID");
}

Test(acpi_tables, pci_root_bridge_in_the_dsdt)
{
	struct acpi_platform p = four_cpus;

	p.pci_root = true;
	p.pci_mmio_base = 0xc0000000;
	p.pci_mmio_size = 0x3ec00000;
	build(&p);
	const uint8_t *d = table(get_le32(rsdt_entry(0, 2) + 40), "DSDT", 0, 2);
	size_t len = get_le32(d + 4);
	/* Device (PCI0) { Name (_HID, EisaId ("PNP0A03")) Name (_UID, 0) ... */
	static const uint8_t hid[] = { 'P', 'C', 'I', '0', 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41,
				       0xd0, 0x0a, 0x03, 0x08, '_', 'U', 'I', 'D', 0x00 };
	cr_assert_not_null(memmem(d, len, hid, sizeof(hid)));
	/* The window: DWordMemory 0xc0000000-0xfebfffff. */
	static const uint8_t window[] = { 0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0, 0, 0, 0,
					  0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xbf, 0xfe };
	cr_assert_not_null(memmem(d, len, window, sizeof(window)));
	/* _PRT: 124 entries; slot 1 INTA# -> GSI 17, slot 31 INTD# -> GSI 18. */
	static const uint8_t first[] = { 0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x01, 0x00,
					 0x00, 0x00, 0x0a, 17 };
	static const uint8_t last[] = { 0x12, 0x0c, 0x04, 0x0c, 0xff, 0xff, 0x1f, 0x00,
					0x0a, 0x03, 0x00, 0x0a, 18 };
	const uint8_t *prt = memmem(d, len, "_PRT", 4);
	cr_assert_not_null(prt);
	cr_assert_eq(prt[4], 0x12);
	cr_assert_eq(prt[5] >> 6, 1, "a two-byte PkgLength");
	cr_assert_eq(prt[7], 124);
	cr_assert_eq(memcmp(prt + 8, first, sizeof(first)), 0);
	cr_assert_eq(memcmp(d + len - sizeof(last), last, sizeof(last)), 0);
	cr_assert_eq(acpi_pci_intx_gsi(31, 3), 18);
	cr_assert_eq(acpi_pci_intx_gsi(5, 0), 21);
}

Test(acpi_tables, mcfg_and_extra_tables)
{
	static const uint8_t ssdt_body[] = { 0x10, 0x06, 0x5c, '_', 'S', 'B', '_' };
	struct acpi_extra_table ssdt = { { 'S', 'S', 'D', 'T' }, 2, ssdt_body, sizeof(ssdt_body) };
	struct acpi_platform p = four_cpus;

	p.mcfg = true;
	p.ecam_base = 0xb0000000;
	p.ecam_bus_first = 0;
	p.ecam_bus_last = 0x3f;
	p.extra = &ssdt;
	p.extra_count = 1;
	build(&p);
	const uint8_t *m = rsdt_entry(2, 4);
	table(PHYS + (m - buf), "MCFG", 60, 1);
	cr_assert_eq(get_le64(m + 36), 0, "reserved");
	cr_assert_eq(get_le64(m + 44), 0xb0000000);
	cr_assert_eq(get_le16(m + 52), 0, "segment 0");
	cr_assert(m[54] == 0 && m[55] == 0x3f);
	cr_assert_eq(get_le32(m + 56), 0);
	const uint8_t *s = rsdt_entry(3, 4);
	table(PHYS + (s - buf), "SSDT", 36 + sizeof(ssdt_body), 2);
	cr_assert_eq(memcmp(s + 36, ssdt_body, sizeof(ssdt_body)), 0);
}

Test(acpi_tables, too_small_and_bad_platforms)
{
	size_t off = 999;

	build(&four_cpus);
	size_t need = used;
	for (size_t n = 0; n < need; n++)
		cr_assert_eq(acpi_tables_build(buf, n, PHYS, &four_cpus, &off), 0, "size %zu", n);
	cr_assert_eq(off, 999, "left alone on failure");
	cr_assert_eq(acpi_tables_build(buf, need, PHYS, &four_cpus, &off), need);
	cr_assert_eq(acpi_tables_build(buf, sizeof(buf), PHYS + 16, &four_cpus, &off), 0,
		     "not 64-byte aligned");
	cr_assert_eq(acpi_tables_build(buf, sizeof(buf), 0x100000000ull - 64, &four_cpus, &off), 0,
		     "past 4 GiB");
	struct acpi_platform p = four_cpus;
	p.cpu_count = 0;
	cr_assert_eq(acpi_tables_build(buf, sizeof(buf), PHYS, &p, &off), 0);
	p.cpu_count = 256;
	cr_assert_eq(acpi_tables_build(buf, sizeof(buf), PHYS, &p, &off), 0);
	p.cpu_count = 255;
	cr_assert_neq(acpi_tables_build(buf, sizeof(buf), PHYS, &p, &off), 0);
	p.mcfg = true;
	p.ecam_bus_first = 2;
	p.ecam_bus_last = 1;
	cr_assert_eq(acpi_tables_build(buf, sizeof(buf), PHYS, &p, &off), 0);
	p.mcfg = false;
	p.extra_count = 1; /* and no table */
	cr_assert_eq(acpi_tables_build(buf, sizeof(buf), PHYS, &p, &off), 0);
}

Test(aml, integers_names_and_package_lengths)
{
	uint8_t out[300];
	struct aml a;

	aml_init(&a, out, sizeof(out));
	aml_integer(&a, 0);
	aml_integer(&a, 1);
	aml_integer(&a, 2);
	aml_integer(&a, 0x1234);
	aml_integer(&a, 0x12345678);
	aml_integer(&a, 0x100000000ull);
	static const uint8_t ints[] = { 0x00, 0x01, 0x0a, 0x02, 0x0b, 0x34, 0x12, 0x0c, 0x78, 0x56,
					0x34, 0x12, 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 };
	cr_assert_eq(a.pos, sizeof(ints));
	cr_assert_eq(memcmp(out, ints, sizeof(ints)), 0);

	/* 62 bytes of body: length 63, one byte. 63 bytes: 65, two bytes. */
	for (size_t body = 62; body <= 63; body++) {
		aml_init(&a, out, sizeof(out));
		size_t h = aml_open(&a);
		for (size_t i = 0; i < body; i++)
			aml_byte(&a, (uint8_t)i);
		aml_close(&a, h);
		if (body == 62) {
			cr_assert(a.pos == 63 && out[0] == 63 && out[1] == 0 && out[62] == 61);
		} else {
			cr_assert(a.pos == 65 && out[0] == 0x41 && out[1] == 0x04);
			cr_assert(out[2] == 0 && out[64] == 62);
		}
	}
	aml_init(&a, out, 3);
	aml_open(&a);
	cr_assert(a.overflow, "no room for a package length");
}
