/* Host stand-ins the fuzz targets link instead of the hypervisor's own log,
 * panic, clock and memory (which need the console, the TSC and the page
 * allocator). Drivers built for the host see identity-mapped "physical"
 * memory, as in hv.efi: an address is a host pointer (hv/mm/mm.h). */
#ifndef TESTS_FUZZ_FUZZ_ENV_H
#define TESTS_FUZZ_FUZZ_ENV_H

#include <stddef.h>
#include <stdint.h>

/* Called on every time_ns(): a simulated device acts while its driver
 * waits for it (a reset bit clears, a status reads back). */
extern void (*fuzz_time_hook)(void);

/* Every log line, formatted, when set: a target checks what the code
 * would put on the console. */
extern void (*fuzz_log_hook)(const char *line);

/* Frees everything kzalloc/kmalloc/pages_alloc handed out and was not
 * given back: drivers keep their boot-time allocations for ever, a fuzz
 * case must not. */
void fuzz_mm_release_all(void);
/* Blocks kzalloc/kmalloc/pages_alloc handed out and not given back. */
size_t fuzz_mm_live(void);
/* Zeroed memory outside the tracking, recycled by size as pages_alloc's
 * big blocks are (kept poisoned while free), for a target's own
 * stand-ins: a datastore's buffers. */
void *fuzz_kept_alloc(size_t size, size_t align);
void fuzz_kept_free(void *p, size_t size);
/* Called on every pages_alloc, before it allocates: a simulated device
 * reads the registers the driver has written so far (fuzz_nic_vnet.c). */
extern void (*fuzz_pages_hook)(void);

/* Empty the NIC registry (fuzz_nic_registry.c) and the block device
 * registry (fuzz_blk_registry.c). */
void fuzz_nic_forget_all(void);
void fuzz_blk_forget_all(void);

#endif
