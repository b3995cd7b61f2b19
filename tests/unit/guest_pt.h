/* Simulated guest RAM with builders for the guest's own page tables
 * (4-level, PAE and 32-bit paging), for tests of the guest page walker
 * and of what uses it. Tables come from a bump allocator above 0x10000;
 * the top-level table is at GUEST_CR3. */
#ifndef TESTS_UNIT_GUEST_PT_H
#define TESTS_UNIT_GUEST_PT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/emul/gwalk.h"

#define GUEST_RAM_SIZE (8u << 20)
#define GUEST_CR3 0x1000u

#define E_P 0x1ull
#define E_RW 0x2ull
#define E_US 0x4ull
#define E_A 0x20ull
#define E_D 0x40ull
#define E_PS 0x80ull
#define E_XD (1ull << 63)
#define E_ALL (E_P | E_RW | E_US) /* what upper levels usually allow */

extern uint8_t guest_ram[GUEST_RAM_SIZE];
extern unsigned guest_entry_writes; /* calls of guest_set_flags_cb */

/* Zeroes the RAM, the allocator and the count. */
void guest_reset(void);

uint64_t guest_get(uint64_t gpa, unsigned size);
void guest_put(uint64_t gpa, uint64_t value, unsigned size);

/* The walker's callbacks (ctx unused); outside the RAM they fail. */
bool guest_read_cb(void *ctx, uint64_t gpa, void *buf, size_t len);
bool guest_set_flags_cb(void *ctx, uint64_t gpa, uint64_t old, uint64_t bits, size_t size);

/* Maps la to pa with a leaf at 'level' (0: 4 KiB, 1: 2 MiB, 2: 1 GiB)
 * holding 'leaf' (PS added for large pages); table entries created on
 * the way get 'upper', existing ones stay as they are. Under PAE a new
 * PDPTE gets only the P bit of 'upper'. */
void map64(bool pae, uint64_t la, uint64_t pa, int level, uint64_t upper, uint64_t leaf);
/* 32-bit paging: a 4 KiB page (a new page table's PDE gets 'upper'), or
 * with big a 4 MiB page ('leaf' may carry PSE-36 address bits). */
void map32(uint32_t la, uint64_t pa, bool big, uint32_t upper, uint32_t leaf);

/* The guest physical address of the entry at 'level' on la's walk (the
 * tables must exist down to it). */
uint64_t entry_gpa64(bool pae, uint64_t la, int level);
uint64_t entry_gpa32(uint32_t la, int level);

/* Walkers at CPL 0 with paging on (CR0.WP set): 4-level with NXE, PAE
 * with NXE, 32-bit with PSE; MAXPHYADDR 36, no 1 GiB pages; A/D writes on. */
struct gwalk walker_long(void);
struct gwalk walker_pae(void);
struct gwalk walker_32(void);

#endif
