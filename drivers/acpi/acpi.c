#include "drivers/acpi/acpi.h"

#include "hv/core/log.h"
#include "hv/lib/byteorder.h"
#include "hv/lib/string.h"

/* Multi-byte fields are read with get_le*: they need not be aligned (XSDT
 * entries start at offset 36, MADT entries have any length), and a load
 * through a cast pointer to a misaligned field is undefined behaviour
 * (found by tests/fuzz/fuzz_acpi.c). */

struct rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t ext_checksum;
	uint8_t reserved[3];
} __attribute__((packed));

#define MAX_TABLES 64
#define TABLE_MAX_LEN (16u << 20)

static const struct acpi_sdt_header *tables[MAX_TABLES];
static int ntables;
static struct acpi_facts facts;

static uint8_t sum_bytes(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	for (uint32_t i = 0; i < len; i++)
		s += b[i];
	return s;
}

static const struct acpi_sdt_header *valid_table(uint64_t addr)
{
	const struct acpi_sdt_header *h = (const void *)(uintptr_t)addr;

	if (!addr || h->length < sizeof(*h) || h->length > TABLE_MAX_LEN)
		return NULL;
	if (sum_bytes(h, h->length) != 0) {
		log_warn("acpi: table %.4s at 0x%lx has a bad checksum, ignored", h->signature,
			 (unsigned long)addr);
		return NULL;
	}
	return h;
}

const struct acpi_sdt_header *acpi_find_table(const char *sig, int n)
{
	for (int i = 0; i < ntables; i++)
		if (memcmp(tables[i]->signature, sig, 4) == 0 && n-- == 0)
			return tables[i];
	return NULL;
}

#define MADT_ENTRIES 44 /* header, local APIC address, flags */

/* A CPU listed twice (an x2APIC entry repeating a local APIC one) counts once. */
static void add_cpu(uint32_t apic_id)
{
	for (int i = 0; i < facts.apic_id_count; i++)
		if (facts.apic_ids[i] == apic_id)
			return;
	facts.cpu_count++;
	if (facts.apic_id_count < ACPI_CPU_IDS_MAX)
		facts.apic_ids[facts.apic_id_count++] = apic_id;
}

static void parse_madt(const struct acpi_sdt_header *madt)
{
	const uint8_t *m = (const uint8_t *)madt;
	uint32_t end = madt->length, off = MADT_ENTRIES;

	/* A MADT shorter than its fixed part (local APIC address, flags) is
	 * ignored: one of 36..39 bytes passed valid_table and had its local
	 * APIC address read past its end. */
	if (end < MADT_ENTRIES)
		return;
	facts.lapic_base = get_le32(m + 36);
	while (off + 2 <= end && m[off + 1] >= 2 && m[off + 1] <= end - off) {
		const uint8_t *p = m + off;
		uint8_t type = p[0], len = p[1];
		if (type == 0 && len >= 8 && (get_le32(p + 4) & 1))
			add_cpu(p[3]); /* processor local APIC, enabled */
		else if (type == 9 && len >= 16 && (get_le32(p + 8) & 1))
			add_cpu(get_le32(p + 4)); /* processor local x2APIC, enabled */
		else if (type == 5 && len >= 12)
			facts.lapic_base = get_le64(p + 4);
		off += len;
	}
}

static void parse_fadt(const struct acpi_sdt_header *fadt)
{
	const uint8_t *f = (const uint8_t *)fadt;

	if (fadt->length >= 80)
		facts.pm_timer_port = (uint16_t)get_le32(f + 76);
	/* X_PM_TMR_BLK: a GAS; use it when it names I/O space (id 1). */
	if (fadt->length >= 220 && f[208] == 1 && get_le64(f + 212))
		facts.pm_timer_port = (uint16_t)get_le64(f + 212);
	if (fadt->length >= 116)
		facts.pm_timer_32bit = (get_le32(f + 112) >> 8) & 1;
}

static void parse_mcfg(const struct acpi_sdt_header *mcfg)
{
	/* The first allocation entry for segment 0 is all we use. */
	if (mcfg->length < 44 + 16)
		return;
	const uint8_t *e = (const uint8_t *)mcfg + 44;
	if (get_le16(e + 8) != 0)
		return;
	facts.ecam_base = get_le64(e);
	facts.ecam_bus_first = e[10];
	facts.ecam_bus_last = e[11];
}

bool acpi_init(uint64_t rsdp_addr)
{
	const struct rsdp *rsdp = (const void *)(uintptr_t)rsdp_addr;

	/* Nothing from an earlier call survives (the fuzz target calls this
	 * once per input; the hypervisor once per boot). */
	ntables = 0;
	facts = (struct acpi_facts){ 0 };
	if (!rsdp_addr || memcmp(rsdp->signature, "RSD PTR ", 8) != 0 || sum_bytes(rsdp, 20)) {
		log_warn("acpi: no valid RSDP");
		return false;
	}
	facts.revision = rsdp->revision;
	memcpy(facts.oem_id, rsdp->oem_id, 6);

	const struct acpi_sdt_header *root = NULL;
	int entry_size = 4;
	/* The extended checksum covers the 36 bytes of the ACPI 2.0 RSDP, as
	 * ACPICA checks it: the length field is the firmware's word, and a
	 * bad one had us sum up to 4 GiB past the structure. */
	if (rsdp->revision >= 2 && rsdp->xsdt && sum_bytes(rsdp, sizeof(*rsdp)) == 0) {
		root = valid_table(rsdp->xsdt);
		entry_size = 8;
	}
	if (!root) {
		root = valid_table(rsdp->rsdt);
		entry_size = 4;
	}
	if (!root) {
		log_warn("acpi: no valid RSDT/XSDT");
		return false;
	}

	uint32_t n = (root->length - sizeof(*root)) / (uint32_t)entry_size;
	const uint8_t *entries = (const uint8_t *)(root + 1);
	for (uint32_t i = 0; i < n && ntables < MAX_TABLES; i++) {
		uint64_t addr = entry_size == 8 ? get_le64(entries + i * 8) :
						  get_le32(entries + i * 4);
		const struct acpi_sdt_header *t = valid_table(addr);
		if (t)
			tables[ntables++] = t;
	}
	facts.table_count = ntables;

	const struct acpi_sdt_header *t;
	if ((t = acpi_find_table("APIC", 0)))
		parse_madt(t);
	if ((t = acpi_find_table("FACP", 0)))
		parse_fadt(t);
	if ((t = acpi_find_table("MCFG", 0)))
		parse_mcfg(t);
	facts.present = true;
	log_info("acpi: rev %u oem '%s', %d tables, %d cpus, pm timer 0x%x, ecam 0x%lx",
		 facts.revision, facts.oem_id, ntables, facts.cpu_count, facts.pm_timer_port,
		 (unsigned long)facts.ecam_base);
	return true;
}

const struct acpi_facts *acpi_facts(void)
{
	return &facts;
}
