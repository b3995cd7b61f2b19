/* A live VM's vCPU and device state to and from the stream's neutral form
 * (migrate/state_codec.h). Times are taken relative to 'now' (host TSC)
 * on capture and re-based on the destination's clock on restore, so the
 * guest sees no time pass while it is in transit.
 * @pre the VM is not running (paused, or not started yet) */
#ifndef MIGRATE_VM_STATE_H
#define MIGRATE_VM_STATE_H

#include <stdint.h>

#include "migrate/state_codec.h"
#include "migrate/vm_devices.h"

struct vm;

struct mig_vm_state {
	struct mig_vcpu vcpu;         /* the BSP */
	struct mig_lapic lapic;
	uint32_t nvcpus;              /* the BSP and ap[0 .. nvcpus - 2] */
	struct mig_ap ap[MIG_VCPUS_MAX - 1];
	struct mig_uart uart;
	struct mig_platform platform;
	struct mig_modules modules;
	struct mig_placement placement; /* count 0: the stream had none (all on the main loop's CPU) */
	struct mig_vcpu_msrs msrs[MIG_VCPUS_MAX]; /* count 0: at power-on values, none sent */
	struct mig_device dev[MIG_DEVICES_MAX];
	size_t ndev;
};

void mig_vm_capture(struct vm *vm, struct mig_vm_state *st, uint64_t now);
/* Before READY: the UART, the modules, every platform device and the
 * APs' local APICs go into the (not yet running) VM; 0, or -1 with the
 * reason when a device refuses its state.
 * @pre st->nvcpus == vm->nvcpus */
int mig_vm_apply(struct vm *vm, const struct mig_vm_state *st, char *err, size_t errlen);
/* At GO: the vCPUs, the local APICs' timers and the VM clock go on from
 * where they stood at the pause. */
void mig_vm_restore(struct vm *vm, const struct mig_vm_state *st, uint64_t now);
void mig_vm_config_of(const struct vm *vm, const char *name, struct mig_vm_config *c);

#endif
