/* Guest FPU/SSE state in FXSAVE areas. The hypervisor itself never uses the
 * FPU (it is built without SSE), so the registers hold the area of the vCPU
 * that ran last; it is saved only when another one, or the firmware, needs
 * the registers. */
#ifndef HV_X86_FPU_H
#define HV_X86_FPU_H

#include <stdbool.h>
#include <stdint.h>

#define FPU_AREA_SIZE 512 /* the FXSAVE image; 16-byte aligned */

#define XCR0_X87 1ull
#define XCR0_SSE 2ull

/* The host's own XCR0, set once at boot when the CPU has XSAVE: x87 and
 * SSE only, so no AVX (or later) register state exists beyond what
 * FXSAVE areas switch; guests, which are not offered XSAVE, run with it
 * too and never see another VM's upper register state. Returns the XCR0
 * in force (0 without XSAVE). */
uint64_t fpu_init_host(bool has_xsave);

/* The power-on state: FNINIT's control word, every SSE exception masked. */
void fpu_init_area(uint8_t *area);
/* Makes the registers hold 'area' before its owner runs. */
void fpu_switch_to(uint8_t *area);
/* Saves the live state into its area, e.g. before UEFI runtime calls. */
void fpu_save_live(void);
/* The area goes away: drop it as the owner without saving. */
void fpu_forget(const uint8_t *area);

#endif
