#include "guest_pt.h"

#include <string.h>

#include "hv/x86/cpu.h"
#include "hv/x86/msr.h"

#define ADDR 0x000ffffffffff000ull
#define TABLES_START 0x10000u

uint8_t guest_ram[GUEST_RAM_SIZE];
unsigned guest_entry_writes;
static uint64_t next_table;

void guest_reset(void)
{
	memset(guest_ram, 0, sizeof(guest_ram));
	guest_entry_writes = 0;
	next_table = TABLES_START;
}

uint64_t guest_get(uint64_t gpa, unsigned size)
{
	uint64_t v = 0;

	memcpy(&v, guest_ram + gpa, size);
	return v;
}

void guest_put(uint64_t gpa, uint64_t value, unsigned size)
{
	memcpy(guest_ram + gpa, &value, size);
}

bool guest_read_cb(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (gpa >= sizeof(guest_ram) || len > sizeof(guest_ram) - gpa)
		return false;
	memcpy(buf, guest_ram + gpa, len);
	return true;
}

bool guest_set_flags_cb(void *ctx, uint64_t gpa, uint64_t old, uint64_t bits, size_t size)
{
	uint64_t e = 0;

	(void)ctx;
	if (gpa >= sizeof(guest_ram) || size > sizeof(guest_ram) - gpa || size > sizeof(e))
		return false;
	memcpy(&e, guest_ram + gpa, size);
	if (e != old)
		return false; /* changed since the walk read it */
	e |= bits;
	memcpy(guest_ram + gpa, &e, size);
	guest_entry_writes++;
	return true;
}

static uint64_t index64(bool pae, uint64_t la, int level)
{
	return pae && level == 2 ? (la >> 30) & 3 : (la >> (12 + 9 * level)) & 511;
}

void map64(bool pae, uint64_t la, uint64_t pa, int level, uint64_t upper, uint64_t leaf)
{
	uint64_t table = GUEST_CR3;

	for (int l = pae ? 2 : 3; l > level; l--) {
		uint64_t at = table + index64(pae, la, l) * 8;
		uint64_t e = guest_get(at, 8);
		if (!(e & ADDR)) {
			e = next_table | (pae && l == 2 ? (upper & E_P) : upper);
			next_table += 4096;
			guest_put(at, e, 8);
		}
		table = e & ADDR;
	}
	guest_put(table + index64(pae, la, level) * 8, pa | leaf | (level ? E_PS : 0), 8);
}

uint64_t entry_gpa64(bool pae, uint64_t la, int level)
{
	uint64_t table = GUEST_CR3;

	for (int l = pae ? 2 : 3; l > level; l--)
		table = guest_get(table + index64(pae, la, l) * 8, 8) & ADDR;
	return table + index64(pae, la, level) * 8;
}

void map32(uint32_t la, uint64_t pa, bool big, uint32_t upper, uint32_t leaf)
{
	uint64_t pde_at = GUEST_CR3 + (la >> 22) * 4;

	if (big) {
		guest_put(pde_at, (uint32_t)pa | leaf | E_PS, 4);
		return;
	}
	uint32_t pde = (uint32_t)guest_get(pde_at, 4);
	if (!(pde & 0xfffff000u)) {
		pde = (uint32_t)next_table | upper;
		next_table += 4096;
		guest_put(pde_at, pde, 4);
	}
	guest_put((pde & 0xfffff000u) + ((la >> 12) & 1023) * 4, (uint32_t)pa | leaf, 4);
}

uint64_t entry_gpa32(uint32_t la, int level)
{
	uint64_t pde_at = GUEST_CR3 + (la >> 22) * 4;

	if (level == 1)
		return pde_at;
	return (guest_get(pde_at, 4) & 0xfffff000u) + ((la >> 12) & 1023) * 4;
}

static struct gwalk base_walker(void)
{
	return (struct gwalk){ .cr0 = CR0_PG | CR0_WP | CR0_PE, .cr3 = GUEST_CR3,
			       .maxphyaddr = 36, .read = guest_read_cb,
			       .set_flags = guest_set_flags_cb };
}

struct gwalk walker_long(void)
{
	struct gwalk w = base_walker();

	w.cr4 = CR4_PAE;
	w.efer = EFER_LME | EFER_LMA | EFER_NXE;
	return w;
}

struct gwalk walker_pae(void)
{
	struct gwalk w = base_walker();

	w.cr4 = CR4_PAE;
	w.efer = EFER_NXE;
	return w;
}

struct gwalk walker_32(void)
{
	struct gwalk w = base_walker();

	w.cr4 = CR4_PSE;
	return w;
}
