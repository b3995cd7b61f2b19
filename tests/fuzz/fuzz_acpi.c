/* libFuzzer target: the host firmware's ACPI tables as drivers/acpi/acpi.c
 * reads them at boot (RSDP, RSDT/XSDT, MADT, FADT, MCFG and any other).
 *
 * The parser reads physical memory directly (identity map), so the tables
 * are laid out in an arena below 2 GiB (the RSDT's entries are 32-bit) and
 * only the bytes of each table are addressable: the rest of the arena is
 * poisoned, and ASan reports any read past a table's end. Addresses are
 * the one thing the harness owns: the firmware's pointers lead to memory
 * that exists, what they lead to is the input's.
 *
 * Input: a flags byte, then chunks of [u16 length][bytes]: chunk 0 is the
 * RSDP, 1 the XSDT, 2 the RSDT, 3.. further tables. A chunk occupies
 * max(header, declared length) bytes (zero-filled past the input), the
 * length taken from its header. Non-zero address fields (the RSDP's RSDT
 * and XSDT, the roots' entries) become the address of a chunk the value
 * selects. Checksums are fixed up unless the flags say otherwise, so
 * mutations reach the table parsers behind them. */
#include <sanitizer/asan_interface.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "drivers/acpi/acpi.h"
#include "hv/lib/byteorder.h"

#define ARENA (4u << 20)
#define MAX_CHUNKS 16
#define CHUNK_CAP (16u * 1024)   /* bytes the harness gives one table at most */
#define PARSER_MAX_LEN (16u << 20) /* acpi.c refuses longer tables unread */
#define SDT_HEADER 36
#define RSDP_V1 20               /* ACPI 1.0 RSDP */
#define RSDP_V2 36               /* ACPI 2.0+ RSDP, with the XSDT */
#define GAP 64                   /* poisoned bytes between chunks */

#define FLAG_RAW_RSDP_SUM 1  /* keep the RSDP's checksums as given */
#define FLAG_RAW_TABLE_SUM 2 /* keep the tables' checksums as given */

struct chunk {
	uint8_t *mem;
	uint32_t size;
};

static uint8_t *arena;
static struct chunk chunks[MAX_CHUNKS];
static unsigned nchunks;

static void arena_init(void)
{
	arena = mmap(NULL, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
		     -1, 0);
	if (arena == MAP_FAILED)
		abort();
}

static uint8_t sum(const uint8_t *p, uint32_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* Bytes a chunk occupies: what its own header says it needs. */
static uint32_t chunk_size(unsigned index, const uint8_t *src, size_t len)
{
	uint8_t head[SDT_HEADER] = { 0 };

	memcpy(head, src, len < sizeof(head) ? len : sizeof(head));
	if (index == 0)
		return head[15] >= 2 ? RSDP_V2 : RSDP_V1; /* by its revision */
	uint32_t declared = get_le32(head + 4);
	if (declared < SDT_HEADER || declared > PARSER_MAX_LEN)
		return SDT_HEADER; /* refused after reading the header only */
	return declared < CHUNK_CAP ? declared : CHUNK_CAP;
}

/* Places the chunks; returns the flags byte. */
static uint8_t lay_out(const uint8_t *data, size_t size)
{
	uint8_t flags = size ? data[0] : 0;
	size_t at = 0, i = 1;

	ASAN_POISON_MEMORY_REGION(arena, ARENA);
	nchunks = 0;
	while (i + 2 <= size && nchunks < MAX_CHUNKS) {
		size_t len = get_le16(data + i);
		i += 2;
		if (len > size - i)
			len = size - i;
		uint32_t n = chunk_size(nchunks, data + i, len);
		/* Tables need not be aligned (the RSDP is, to 16 bytes). */
		at = (at + 15) & ~(size_t)15;
		if (nchunks)
			at += (flags >> 4) & 7;
		struct chunk *c = &chunks[nchunks++];
		c->mem = arena + at;
		c->size = n;
		ASAN_UNPOISON_MEMORY_REGION(c->mem, n);
		memset(c->mem, 0, n);
		memcpy(c->mem, data + i, len < n ? len : n);
		/* A table longer than the harness gives one is cut to that. */
		uint32_t declared = get_le32(c->mem + 4);
		if (nchunks > 1 && declared > n && declared <= PARSER_MAX_LEN)
			put_le32(c->mem + 4, n);
		at += n + GAP;
		i += len;
	}
	return flags;
}

/* The address a non-zero pointer field of the input stands for. */
static uint64_t target(uint64_t v, unsigned first)
{
	if (!v || first >= nchunks)
		return 0;
	return (uint64_t)(uintptr_t)chunks[first + v % (nchunks - first)].mem;
}

/* The RSDP's pointers and the roots' entries lead to chunks (the roots
 * may list each other: the parser must cope). */
static void link_tables(void)
{
	struct chunk *rsdp = &chunks[0];

	put_le32(rsdp->mem + 16, nchunks > 2 && get_le32(rsdp->mem + 16) ?
					 (uint32_t)(uintptr_t)chunks[2].mem : 0);
	if (rsdp->size >= RSDP_V2)
		put_le64(rsdp->mem + 24, get_le64(rsdp->mem + 24) && nchunks > 1 ?
						 (uint64_t)(uintptr_t)chunks[1].mem : 0);
	for (unsigned r = 1; r <= 2 && r < nchunks; r++) {
		unsigned entry = r == 1 ? 8 : 4;
		for (uint32_t off = SDT_HEADER; off + entry <= chunks[r].size; off += entry) {
			uint8_t *p = chunks[r].mem + off;
			if (entry == 8)
				put_le64(p, target(get_le64(p), 1));
			else
				put_le32(p, (uint32_t)target(get_le32(p), 1));
		}
	}
}

static void fix_sums(uint8_t flags)
{
	struct chunk *rsdp = &chunks[0];

	if (!(flags & FLAG_RAW_RSDP_SUM)) {
		rsdp->mem[8] = 0;
		rsdp->mem[8] = (uint8_t)-sum(rsdp->mem, RSDP_V1);
		if (rsdp->size >= RSDP_V2) {
			rsdp->mem[32] = 0;
			rsdp->mem[32] = (uint8_t)-sum(rsdp->mem, RSDP_V2);
		}
	}
	for (unsigned i = 1; i < nchunks && !(flags & FLAG_RAW_TABLE_SUM); i++) {
		struct chunk *c = &chunks[i];
		uint32_t len = get_le32(c->mem + 4);
		if (len < SDT_HEADER || len > c->size)
			continue;
		c->mem[9] = 0;
		c->mem[9] = (uint8_t)-sum(c->mem, len);
	}
}

static bool in_chunk(const void *p, uint32_t len)
{
	for (unsigned i = 0; i < nchunks; i++)
		if ((const uint8_t *)p >= chunks[i].mem &&
		    (const uint8_t *)p + len <= chunks[i].mem + chunks[i].size)
			return true;
	return false;
}

/* What the parser accepted must hold up: the MADTs it lists lie in memory
 * and sum to zero, the counts stay within what the input could describe. */
static void check_result(void)
{
	const struct acpi_facts *f = acpi_facts();

	if (f->table_count < 0 || f->table_count > 64 || f->cpu_count < 0)
		abort();
	for (int i = 0; i < f->table_count; i++) {
		const struct acpi_sdt_header *h = acpi_find_table("APIC", i);
		if (h && (!in_chunk(h, h->length) || sum((const uint8_t *)h, h->length)))
			abort();
	}
	if (acpi_find_table("APIC", f->table_count))
		abort(); /* more tables found than counted */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!arena)
		arena_init();
	uint8_t flags = lay_out(data, size);
	if (nchunks == 0) {
		acpi_init(0);
		return 0;
	}
	link_tables();
	fix_sums(flags);
	if (acpi_init((uint64_t)(uintptr_t)chunks[0].mem))
		check_result();
	return 0;
}
