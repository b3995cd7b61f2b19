/* kvmclock: KVM's paravirtual clock MSRs (Documentation/virt/kvm/x86/msr.rst),
 * offered so a guest reads time from its TSC with the rate the hypervisor
 * measured instead of calibrating against emulated timers (whose reads
 * each cost an exit, which under emulation is too slow to calibrate by)
 * and keeps its clock exact across a migration. CPUID announces it at
 * leaf 0x40000100 ("KVMKVMKVM") with CLOCKSOURCE2, CLOCKSOURCE_STABLE_BIT and
 * NOP_IO_DELAY; the hypervisor's own leaves stay at 0x40000000.
 *
 * The VM layer's part: the two MSRs, the records in guest memory
 * (hv/vdev/pvclock.h), and keeping them right when the guest's TSC or the
 * host changes under it. Each vCPU has its own time record (its system
 * time MSR), written with its own TSC offset; the wall clock is the VM's. */
#ifndef HV_VM_KVMCLOCK_H
#define HV_VM_KVMCLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KVMCLOCK_ENABLE 1ull
#define KVMCLOCK_STATE_SIZE 16 /* the BSP's system time MSR, wall clock MSR */
#define KVMCLOCK_VCPUS 8       /* VM_MAX_VCPUS */

struct vm;
struct vcpu;

struct kvmclock {
	/* By vCPU: GPA of the time record | KVMCLOCK_ENABLE. */
	uint64_t system_time_msr[KVMCLOCK_VCPUS];
	uint64_t wall_clock_msr;  /* GPA of the wall clock record, as written */
	uint64_t updates;         /* time records written */
	uint64_t bad_addresses;   /* records outside guest RAM or on poisoned pages */
};

void kvmclock_init(struct kvmclock *kc);

/* False when 'index' is not a kvmclock MSR. Every value may be written
 * (as with KVM): a record address outside guest RAM writes nothing. */
bool kvmclock_msr_read(const struct vcpu *v, uint32_t index, uint64_t *value);
bool kvmclock_msr_write(struct vcpu *v, uint32_t index, uint64_t value);

/* Re-anchors the vCPU's time record after its TSC offset changed from
 * 'old_tsc_offset' (a TSC write): the clock goes on from the VM clock,
 * never below what the record gave just before. */
void kvmclock_tsc_changed(struct vcpu *v, uint64_t old_tsc_offset);

/* After a migration's restore, before the VM runs: the record the guest
 * has (it came with its memory) goes on from the value it reads now, with
 * this host's TSC and rate. */
void kvmclock_resume(struct vm *vm);

size_t kvmclock_save(const struct vm *vm, uint8_t *buf, size_t size);
int kvmclock_load(struct vm *vm, const uint8_t *buf, size_t len, char *err, size_t errlen);

#endif
