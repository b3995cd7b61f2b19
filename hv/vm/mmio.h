/* Emulation of guest instructions that touch emulated devices: MMIO
 * accesses to the local APIC page (mmio.c) and string port I/O, INS/OUTS
 * (string_io.c). */
#ifndef HV_VM_MMIO_H
#define HV_VM_MMIO_H

#include "hv/vm/vcpu.h"
#include "hv/vm/vm_exit.h"

enum exit_action emulate_mmio(struct vcpu *v, const struct vm_exit *e);
/* A read or write where the VM has neither RAM nor a device: as a PC's
 * master abort (reads all ones, writes dropped), counted, the first access
 * to each page logged; or the VM stops if it was created strict
 * (unbacked_stops). */
enum exit_action emulate_unbacked(struct vcpu *v, const struct vm_exit *e);
enum exit_action emulate_string_io(struct vcpu *v, const struct vm_exit *e);

#endif
