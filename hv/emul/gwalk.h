/* Guest virtual to guest physical translation by walking the guest's own
 * page tables (for fetching the instruction that caused an exit and for
 * string I/O): no paging, 32-bit, PAE and 4-level long mode. */
#ifndef HV_EMUL_GWALK_H
#define HV_EMUL_GWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gwalk {
	uint64_t cr0, cr3, cr4, efer;
	bool (*read)(void *ctx, uint64_t gpa, void *buf, size_t len); /* guest RAM */
	void *ctx;
};

enum gwalk_result { GWALK_OK, GWALK_NOT_PRESENT, GWALK_BAD_TABLE };

/* On GWALK_OK *gpa holds the translation of linear address 'la'. */
enum gwalk_result gwalk_translate(const struct gwalk *w, uint64_t la, uint64_t *gpa);

/* Reads len bytes at linear address la (may cross pages). */
bool gwalk_read(const struct gwalk *w, uint64_t la, void *buf, size_t len);

#endif
