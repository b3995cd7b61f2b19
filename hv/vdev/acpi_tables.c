/* Field offsets follow ACPI 6.0 Errata A, by section: 5.2.5.3 (RSDP), 5.2.6
 * (table header), 5.2.3.2 (Generic Address Structure), 5.2.7 and 5.2.8 (RSDT,
 * XSDT), 5.2.9 (FADT; 5.2.9.1 flags, 5.2.9.3 IA-PC boot architecture flags),
 * 5.2.10 (FACS), 5.2.12 (MADT: 5.2.12.2 local APIC, 5.2.12.3 I/O APIC,
 * 5.2.12.5 interrupt source override, 5.2.12.7 local APIC NMI), and the PCI
 * Firmware Specification 3.0, 4.1.2 (MCFG). */
#include "hv/vdev/acpi_tables.h"

#include "hv/lib/byteorder.h"
#include "hv/lib/string.h"
#include "hv/vdev/acpi_dsdt.h"
#include "hv/vdev/vacpi_pm.h"

#define HEADER_LEN 36
#define RSDP_LEN 36
#define RSDP_V1_LEN 20
#define FACS_LEN 64
#define FADT_LEN 276
#define MAX_LISTED (3 + ACPI_MAX_EXTRA_TABLES) /* FADT, MADT, MCFG, extras */

/* GAS address space IDs and access sizes (5.2.3.2). */
enum { GAS_SYSTEM_IO = 1, GAS_ACCESS_BYTE = 1, GAS_ACCESS_WORD = 2, GAS_ACCESS_DWORD = 3 };

/* FADT flags (5.2.9.1) and IA-PC boot architecture flags (5.2.9.3). */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_SLP_BUTTON (1u << 5)
#define FADT_TMR_VAL_EXT (1u << 8)
#define FADT_RESET_REG_SUP (1u << 10)
#define BOOT_LEGACY_DEVICES (1u << 0)
#define BOOT_VGA_NOT_PRESENT (1u << 2)

/* MADT (5.2.12; revision 4 is ACPI 6.0's, Table 5-44). */
#define MADT_PCAT_COMPAT 1u
#define MADT_ENABLED 1u
#define MPS_ACTIVE_HIGH 0x1
#define MPS_LEVEL 0xc
enum { MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_OVERRIDE = 2, MADT_LAPIC_NMI = 4 };

struct builder {
	uint8_t *buf;
	size_t size, pos;
	uint64_t phys;
	bool overflow;
	uint64_t listed[MAX_LISTED]; /* tables the RSDT and XSDT point at */
	unsigned nlisted;
};

/* Reserves 'len' zeroed bytes at the next 'align' boundary; its offset. */
static size_t reserve(struct builder *b, size_t len, size_t align)
{
	size_t at = (b->pos + align - 1) & ~(align - 1);

	if (b->overflow || at > b->size || b->size - at < len) {
		b->overflow = true;
		return 0;
	}
	memset(b->buf + b->pos, 0, at + len - b->pos);
	b->pos = at + len;
	return at;
}

static uint64_t phys_of(const struct builder *b, size_t off)
{
	return b->phys + off;
}

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)-sum;
}

/* The header (5.2.6): signature 0, length 4, revision 8, checksum 9,
 * OEM ID 10, OEM table ID 16, OEM revision 24, creator ID 28, creator
 * revision 32. */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t revision)
{
	memcpy(t, sig, 4);
	put_le32(t + 4, len);
	t[8] = revision;
	memcpy(t + 10, "HVEFI ", 6);
	memcpy(t + 16, "HVPC    ", 8);
	put_le32(t + 24, 1);
	memcpy(t + 28, "HVAB", 4);
	put_le32(t + 32, 1);
}

static void finish(uint8_t *t)
{
	t[9] = 0;
	t[9] = checksum(t, get_le32(t + 4));
}

static void list(struct builder *b, size_t off)
{
	b->listed[b->nlisted++] = phys_of(b, off);
}

/* GAS (5.2.3.2): space 0, bit width 1, bit offset 2, access size 3,
 * address 4. */
static void gas_io(uint8_t *g, uint8_t bits, uint8_t access, uint16_t port)
{
	g[0] = GAS_SYSTEM_IO;
	g[1] = bits;
	g[2] = 0;
	g[3] = access;
	put_le64(g + 4, port);
}

/* FACS (5.2.10): signature 0, length 4, hardware signature 8, waking
 * vectors 12 and 24, global lock 16, flags 20, version 32. No checksum. */
static size_t build_facs(struct builder *b)
{
	size_t off = reserve(b, FACS_LEN, 64);

	if (b->overflow)
		return 0;
	memcpy(b->buf + off, "FACS", 4);
	put_le32(b->buf + off + 4, FACS_LEN);
	b->buf[off + 32] = 2; /* version 2 since ACPI 4.0 */
	return off;
}

static size_t build_dsdt(struct builder *b, const struct acpi_platform *p)
{
	size_t off = reserve(b, HEADER_LEN, 8);

	if (b->overflow)
		return 0;
	size_t aml = acpi_dsdt_aml(b->buf + b->pos, b->size - b->pos, p);
	if (!aml) {
		b->overflow = true;
		return 0;
	}
	b->pos += aml;
	/* Revision 2: integers in the definition block are 64 bits. */
	header(b->buf + off, "DSDT", (uint32_t)(HEADER_LEN + aml), 2);
	finish(b->buf + off);
	return off;
}

static void fadt_fixed_hardware(uint8_t *t)
{
	const uint16_t evt = ACPI_PM_IO_BASE + VACPI_PM_EVT_OFFSET;
	const uint16_t cnt = ACPI_PM_IO_BASE + VACPI_PM_CNT_OFFSET;
	const uint16_t tmr = ACPI_PM_IO_BASE + VACPI_PM_TMR_OFFSET;

	put_le16(t + 46, ACPI_SCI_IRQ);   /* SCI_INT; SMI_CMD (48) stays 0 */
	put_le32(t + 56, evt);            /* PM1a_EVT_BLK */
	put_le32(t + 64, cnt);            /* PM1a_CNT_BLK */
	put_le32(t + 76, tmr);            /* PM_TMR_BLK */
	t[88] = 4;                        /* PM1_EVT_LEN */
	t[89] = 2;                        /* PM1_CNT_LEN */
	t[91] = 4;                        /* PM_TMR_LEN */
	put_le16(t + 96, 101);            /* P_LVL2_LAT > 100: no C2 */
	put_le16(t + 98, 1001);           /* P_LVL3_LAT > 1000: no C3 */
	t[108] = ACPI_CENTURY_CMOS;       /* CENTURY */
	gas_io(t + 148, 32, GAS_ACCESS_WORD, evt);  /* X_PM1a_EVT_BLK */
	gas_io(t + 172, 16, GAS_ACCESS_WORD, cnt);  /* X_PM1a_CNT_BLK */
	gas_io(t + 208, 32, GAS_ACCESS_DWORD, tmr); /* X_PM_TMR_BLK */
}

static size_t build_fadt(struct builder *b, size_t facs, size_t dsdt)
{
	size_t off = reserve(b, FADT_LEN, 8);

	if (b->overflow)
		return 0;
	uint8_t *t = b->buf + off;
	uint32_t flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_RESET_REG_SUP;

	if (vacpi_pm_timer_is_32bit())
		flags |= FADT_TMR_VAL_EXT;
	header(t, "FACP", FADT_LEN, 6);
	/* FIRMWARE_CTRL only: X_FIRMWARE_CTRL (132) must be 0 when it is set. */
	put_le32(t + 36, (uint32_t)phys_of(b, facs));
	put_le32(t + 40, (uint32_t)phys_of(b, dsdt));      /* DSDT */
	fadt_fixed_hardware(t);
	put_le16(t + 109, BOOT_LEGACY_DEVICES | BOOT_VGA_NOT_PRESENT); /* IAPC_BOOT_ARCH */
	put_le32(t + 112, flags);
	gas_io(t + 116, 8, GAS_ACCESS_BYTE, ACPI_RESET_PORT);  /* RESET_REG */
	t[128] = ACPI_RESET_VALUE;
	t[131] = 0;                                        /* FADT minor version: 6.0 */
	put_le64(t + 140, phys_of(b, dsdt));               /* X_DSDT */
	memcpy(t + 268, "HVEFI\0\0\0", 8);                 /* hypervisor vendor identity */
	finish(t);
	list(b, off);
	return off;
}

static void madt_entry(uint8_t *e, uint8_t type, uint8_t len)
{
	e[0] = type;
	e[1] = len;
}

static void madt_override(uint8_t *e, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	madt_entry(e, MADT_OVERRIDE, 10);
	e[2] = 0; /* bus: ISA */
	e[3] = irq;
	put_le32(e + 4, gsi);
	put_le16(e + 8, flags);
}

static void build_madt(struct builder *b, const struct acpi_platform *p)
{
	size_t len = 44 + 8 * p->cpu_count + 12 + 2 * 10 + 6;
	size_t off = reserve(b, len, 8);

	if (b->overflow)
		return;
	uint8_t *t = b->buf + off;
	header(t, "APIC", (uint32_t)len, 4);
	put_le32(t + 36, ACPI_LAPIC_BASE);
	put_le32(t + 40, MADT_PCAT_COMPAT);
	uint8_t *e = t + 44;
	for (unsigned cpu = 0; cpu < p->cpu_count; cpu++, e += 8) {
		madt_entry(e, MADT_LAPIC, 8);
		e[2] = (uint8_t)cpu; /* ACPI processor UID */
		e[3] = (uint8_t)cpu; /* APIC ID */
		put_le32(e + 4, MADT_ENABLED);
	}
	madt_entry(e, MADT_IOAPIC, 12);
	e[2] = p->ioapic_id;
	put_le32(e + 4, ACPI_IOAPIC_BASE);
	put_le32(e + 8, 0); /* GSI base */
	e += 12;
	madt_override(e, 0, 2, 0); /* the PIT on IOAPIC pin 2, conforming (edge, high) */
	madt_override(e + 10, ACPI_SCI_IRQ, ACPI_SCI_IRQ, MPS_LEVEL | MPS_ACTIVE_HIGH);
	e += 20;
	madt_entry(e, MADT_LAPIC_NMI, 6);
	e[2] = 0xff;        /* all processors */
	put_le16(e + 3, 0); /* flags: conforming */
	e[5] = 1;           /* LINT1 */
	finish(t);
	list(b, off);
}

/* MCFG: header, 8 reserved bytes, then allocations of 16 bytes: base 0,
 * segment 8, start bus 10, end bus 11, reserved 12. */
static void build_mcfg(struct builder *b, const struct acpi_platform *p)
{
	size_t off = reserve(b, HEADER_LEN + 8 + 16, 8);

	if (b->overflow)
		return;
	uint8_t *t = b->buf + off;
	header(t, "MCFG", HEADER_LEN + 8 + 16, 1);
	put_le64(t + 44, p->ecam_base);
	t[54] = p->ecam_bus_first;
	t[55] = p->ecam_bus_last;
	finish(t);
	list(b, off);
}

static void build_extra(struct builder *b, const struct acpi_extra_table *x)
{
	size_t off = reserve(b, HEADER_LEN + x->body_len, 8);

	if (b->overflow)
		return;
	header(b->buf + off, x->signature, (uint32_t)(HEADER_LEN + x->body_len), x->revision);
	memcpy(b->buf + off + HEADER_LEN, x->body, x->body_len);
	finish(b->buf + off);
	list(b, off);
}

/* RSDT (entry_size 4) or XSDT (8): the header, then the addresses. */
static size_t build_root(struct builder *b, const char *sig, unsigned entry_size)
{
	size_t len = HEADER_LEN + (size_t)entry_size * b->nlisted;
	size_t off = reserve(b, len, 8);

	if (b->overflow)
		return 0;
	header(b->buf + off, sig, (uint32_t)len, 1);
	for (unsigned i = 0; i < b->nlisted; i++) {
		uint8_t *e = b->buf + off + HEADER_LEN + entry_size * i;
		if (entry_size == 4)
			put_le32(e, (uint32_t)b->listed[i]);
		else
			put_le64(e, b->listed[i]);
	}
	finish(b->buf + off);
	return off;
}

/* RSDP (5.2.5.3): signature 0, checksum 8 (first 20 bytes), OEM ID 9,
 * revision 15, RSDT 16, length 20, XSDT 24, extended checksum 32. */
static void build_rsdp(struct builder *b, size_t off, size_t rsdt, size_t xsdt)
{
	uint8_t *r = b->buf + off;

	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "HVEFI ", 6);
	r[15] = 2;
	put_le32(r + 16, (uint32_t)phys_of(b, rsdt));
	put_le32(r + 20, RSDP_LEN);
	put_le64(r + 24, phys_of(b, xsdt));
	r[8] = checksum(r, RSDP_V1_LEN);
	r[32] = checksum(r, RSDP_LEN);
}

static bool platform_ok(const struct acpi_platform *p, uint64_t phys_addr)
{
	if (p->cpu_count < 1 || p->cpu_count > ACPI_MAX_CPUS || phys_addr % 64)
		return false;
	if (p->extra_count > ACPI_MAX_EXTRA_TABLES || (p->extra_count && !p->extra))
		return false;
	for (unsigned i = 0; i < p->extra_count; i++)
		if (p->extra[i].body_len > UINT32_MAX - HEADER_LEN ||
		    (p->extra[i].body_len && !p->extra[i].body))
			return false;
	if (p->mcfg && p->ecam_bus_first > p->ecam_bus_last)
		return false;
	return !p->pci_mmio_size || p->pci_mmio_base <= UINT32_MAX - (p->pci_mmio_size - 1);
}

unsigned acpi_pci_intx_gsi(unsigned slot, unsigned pin)
{
	return 16 + (slot + pin) % 8;
}

size_t acpi_tables_build(uint8_t *buf, size_t size, uint64_t phys_addr,
			 const struct acpi_platform *p, size_t *rsdp_offset)
{
	struct builder b = { .buf = buf, .size = size, .phys = phys_addr };

	if (!platform_ok(p, phys_addr))
		return 0;
	size_t rsdp = reserve(&b, RSDP_LEN, 16);
	size_t facs = build_facs(&b);
	size_t dsdt = build_dsdt(&b, p);
	build_fadt(&b, facs, dsdt);
	build_madt(&b, p);
	if (p->mcfg)
		build_mcfg(&b, p);
	for (unsigned i = 0; i < p->extra_count; i++)
		build_extra(&b, &p->extra[i]);
	size_t rsdt = build_root(&b, "RSDT", 4);
	size_t xsdt = build_root(&b, "XSDT", 8);
	if (b.overflow || phys_addr + b.pos > 0x100000000ull)
		return 0;
	build_rsdp(&b, rsdp, rsdt, xsdt);
	*rsdp_offset = rsdp;
	return b.pos;
}
