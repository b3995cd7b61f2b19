/* The host's MADT as drivers/acpi/acpi.c reads it: which CPUs hv/smp starts. */
#include <criterion/criterion.h>
#include <string.h>

#include "drivers/acpi/acpi.h"
#include "hv/lib/byteorder.h"

static uint8_t rsdp[36] __attribute__((aligned(16)));
static uint8_t xsdt[36 + 8];
static uint8_t madt[44 + 16 * (ACPI_CPU_IDS_MAX + 8)];

static void checksum(uint8_t *p, size_t n, size_t at)
{
	uint8_t s = 0;

	p[at] = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	p[at] = (uint8_t)-s;
}

static void header(uint8_t *t, const char *sig, uint32_t len)
{
	memcpy(t, sig, 4);
	put_le32(t + 4, len);
	t[8] = 1;
	memcpy(t + 10, "HVTEST", 6);
}

static size_t madt_len = 44;

static void entry(const uint8_t *e, size_t len)
{
	memcpy(madt + madt_len, e, len);
	madt_len += len;
}

static void local_apic(uint8_t apic_id, bool enabled)
{
	uint8_t e[8] = { 0, 8, apic_id, apic_id, enabled, 0, 0, 0 };
	entry(e, sizeof(e));
}

static void local_x2apic(uint32_t apic_id, bool enabled)
{
	uint8_t e[16] = { 9, 16 };
	put_le32(e + 4, apic_id);
	put_le32(e + 8, enabled);
	entry(e, sizeof(e));
}

static bool parse(void)
{
	header(madt, "APIC", (uint32_t)madt_len);
	put_le32(madt + 36, 0xfee00000u);
	checksum(madt, madt_len, 9);
	header(xsdt, "XSDT", sizeof(xsdt));
	put_le64(xsdt + 36, (uint64_t)(uintptr_t)madt);
	checksum(xsdt, sizeof(xsdt), 9);
	memcpy(rsdp, "RSD PTR ", 8);
	rsdp[15] = 2;
	put_le32(rsdp + 20, sizeof(rsdp));
	put_le64(rsdp + 24, (uint64_t)(uintptr_t)xsdt);
	checksum(rsdp, 20, 8);
	checksum(rsdp, 36, 32);
	return acpi_init((uint64_t)(uintptr_t)rsdp);
}

Test(acpi_madt, lists_the_enabled_cpus_once_each_in_order)
{
	madt_len = 44;
	local_apic(0, true);
	local_apic(1, false); /* disabled: not started */
	local_apic(4, true);
	local_x2apic(4, true); /* the same CPU again, as x2APIC */
	local_x2apic(300, true);
	local_x2apic(301, false);
	cr_assert(parse());
	const struct acpi_facts *f = acpi_facts();
	cr_assert_eq(f->cpu_count, 3);
	cr_assert_eq(f->apic_id_count, 3);
	cr_assert_eq(f->apic_ids[0], 0);
	cr_assert_eq(f->apic_ids[1], 4);
	cr_assert_eq(f->apic_ids[2], 300);
}

Test(acpi_madt, more_cpus_than_it_keeps_are_counted)
{
	madt_len = 44;
	for (uint32_t i = 0; i < ACPI_CPU_IDS_MAX + 4 && madt_len + 16 <= sizeof(madt); i++)
		local_x2apic(i, true);
	cr_assert(parse());
	uint32_t listed = (uint32_t)(madt_len - 44) / 16;
	cr_assert_eq((uint32_t)acpi_facts()->cpu_count, listed);
	cr_assert_eq(acpi_facts()->apic_id_count,
		     listed < ACPI_CPU_IDS_MAX ? (int)listed : ACPI_CPU_IDS_MAX);
}

Test(acpi_madt, a_truncated_entry_ends_the_list)
{
	madt_len = 44;
	local_apic(2, true);
	uint8_t short_entry[4] = { 0, 8, 7, 7 }; /* claims 8 bytes, the table ends */
	entry(short_entry, sizeof(short_entry));
	cr_assert(parse());
	cr_assert_eq(acpi_facts()->apic_id_count, 1);
	cr_assert_eq(acpi_facts()->apic_ids[0], 2);
}
