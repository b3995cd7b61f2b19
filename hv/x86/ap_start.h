/* Starting another CPU: INIT-SIPI-SIPI through a trampoline page below
 * 1 MiB (ap_trampoline.S), into a C function on its own stack. */
#ifndef HV_X86_AP_START_H
#define HV_X86_AP_START_H

#include <stdbool.h>
#include <stdint.h>

/* Pages the trampoline needs, contiguous, the first below 1 MiB: the code
 * and its parameters, then the PML4, PDPT and PD of its first 2 MiB. */
#define AP_TRAMPOLINE_PAGES 4

typedef void (*ap_entry_fn)(void *arg);

/* Copies the trampoline to tramp_pa and builds its page tables.
 * @pre tramp_pa is page aligned, below 1 MiB, AP_TRAMPOLINE_PAGES long,
 *      and identity mapped with execute permission. */
void ap_trampoline_install(uint64_t tramp_pa);

/* Starts the CPU with this local APIC ID at entry(arg) on the stack that
 * ends at stack_top, with the caller's CR0, CR4 (less PCIDE, VMXE, MCE),
 * EFER and CR3. Returns once it has left the trampoline, or false after
 * timeout_ms; a CPU that did not arrive is sent INIT again so that it
 * cannot run the trampoline later with another CPU's parameters.
 * @pre ap_trampoline_install(tramp_pa) was called; one start at a time. */
bool ap_start(uint64_t tramp_pa, uint32_t apic_id, ap_entry_fn entry, void *arg,
	      uint64_t stack_top, uint64_t tsc_hz, uint32_t timeout_ms);

/* For firmware that lists no CPUs: wakes every CPU but the caller with a
 * broadcast INIT-SIPI-SIPI into a census that notes its initial APIC ID and
 * halts. Returns how many answered (their IDs in ids, at most max); start
 * them with ap_start, which begins with an INIT of its own.
 * @pre tramp_pa as for ap_trampoline_install; no other CPU is running ours. */
int ap_census(uint64_t tramp_pa, uint32_t *ids, int max, uint64_t tsc_hz);

#endif
