#include "hv/vm/kvmclock.h"

#include "boot/firmware.h"
#include "hv/core/time.h"
#include "hv/lib/byteorder.h"
#include "hv/lib/format.h"
#include "hv/vdev/pvclock.h"
#include "hv/vm/platform.h"
#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"
#include "hv/x86/msr.h"

void kvmclock_init(struct kvmclock *kc)
{
	*kc = (struct kvmclock){ 0 };
}

static uint64_t guest_tsc(const struct vm *vm, uint64_t host_tsc)
{
	struct vcpu_state s;

	vcpu_ops->get_state((struct vcpu *)&vm->vcpu, &s);
	return host_tsc + s.tsc_offset;
}

/* The guest reads the record while it runs; its vCPU is in an exit while
 * this writes, so one write with the next even version is a whole update. */
static void write_time(struct vm *vm, uint64_t tsc_timestamp, uint64_t system_time)
{
	uint64_t gpa = vm->kvmclock.system_time_msr & ~KVMCLOCK_ENABLE;
	uint8_t rec[PVCLOCK_TIME_INFO_SIZE];
	uint32_t version = 0;

	if (gmem_read(&vm->mem, gpa, rec, 4))
		version = get_le32(rec);
	struct pvclock_time_info t = {
		.version = (version | 1) + 1,
		.tsc_timestamp = tsc_timestamp,
		.system_time = system_time,
		.scale = pvclock_scale_of(time_tsc_hz()),
		.flags = PVCLOCK_TSC_STABLE_BIT,
	};
	pvclock_encode_time(&t, rec);
	if (gmem_write(&vm->mem, gpa, rec, sizeof(rec)))
		vm->kvmclock.updates++;
	else
		vm->kvmclock.bad_addresses++;
}

/* The clock the record gives is the VM clock (what the PIT, RTC and ACPI
 * PM timer count from), anchored at one host TSC reading. */
static void anchor_to_vm_clock(struct vm *vm)
{
	uint64_t now = rdtsc();

	write_time(vm, guest_tsc(vm, now), platform_clock(vm));
}

void kvmclock_tsc_changed(struct vm *vm)
{
	if (vm->kvmclock.system_time_msr & KVMCLOCK_ENABLE)
		anchor_to_vm_clock(vm);
}

void kvmclock_resume(struct vm *vm)
{
	uint64_t gpa = vm->kvmclock.system_time_msr & ~KVMCLOCK_ENABLE;
	uint8_t rec[PVCLOCK_TIME_INFO_SIZE];
	struct pvclock_time_info old;

	if (!(vm->kvmclock.system_time_msr & KVMCLOCK_ENABLE))
		return;
	/* Anchoring to the VM clock again could step the guest's clock back by
	 * the few nanoseconds between two readings on the source; going on
	 * from the value its own record gives cannot. */
	uint64_t g = guest_tsc(vm, rdtsc());
	if (gmem_read(&vm->mem, gpa, rec, sizeof(rec)) && pvclock_decode_time(rec, &old))
		write_time(vm, g, pvclock_read(&old, g));
	else
		anchor_to_vm_clock(vm);
}

/* The wall clock record: the time of day at which the VM clock read 0. */
static void write_wall_clock(struct vm *vm, uint64_t gpa)
{
	uint8_t rec[PVCLOCK_WALL_CLOCK_SIZE];
	uint64_t now_ns = fw_time_unix() * NS_PER_SEC, vm_ns = platform_clock(vm);
	uint32_t version = 0;

	if (gmem_read(&vm->mem, gpa, rec, 4))
		version = get_le32(rec);
	pvclock_encode_wall((version | 1) + 1, now_ns > vm_ns ? now_ns - vm_ns : 0, rec);
	if (!gmem_write(&vm->mem, gpa, rec, sizeof(rec)))
		vm->kvmclock.bad_addresses++;
}

bool kvmclock_msr_read(const struct vm *vm, uint32_t index, uint64_t *value)
{
	switch (index) {
	case MSR_KVM_WALL_CLOCK_NEW: *value = vm->kvmclock.wall_clock_msr; return true;
	case MSR_KVM_SYSTEM_TIME_NEW: *value = vm->kvmclock.system_time_msr; return true;
	default: return false;
	}
}

bool kvmclock_msr_write(struct vm *vm, uint32_t index, uint64_t value)
{
	switch (index) {
	case MSR_KVM_WALL_CLOCK_NEW:
		vm->kvmclock.wall_clock_msr = value;
		write_wall_clock(vm, value);
		break;
	case MSR_KVM_SYSTEM_TIME_NEW:
		vm->kvmclock.system_time_msr = value;
		kvmclock_tsc_changed(vm);
		break;
	default:
		return false;
	}
	return true;
}

size_t kvmclock_save(const struct vm *vm, uint8_t *buf, size_t size)
{
	if (size < KVMCLOCK_STATE_SIZE)
		return 0;
	put_le64(buf, vm->kvmclock.system_time_msr);
	put_le64(buf + 8, vm->kvmclock.wall_clock_msr);
	return KVMCLOCK_STATE_SIZE;
}

/* Any MSR value is one the guest could have written (an address outside
 * its RAM only means no record is written), so only the size is checked. */
int kvmclock_load(struct vm *vm, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	if (len != KVMCLOCK_STATE_SIZE) {
		fmt_snprintf(err, errlen, "kvmclock: %zu bytes, want %u", len, KVMCLOCK_STATE_SIZE);
		return -1;
	}
	vm->kvmclock.system_time_msr = get_le64(buf);
	vm->kvmclock.wall_clock_msr = get_le64(buf + 8);
	return 0;
}
