#include "hv/vm/kvmclock.h"

#include "boot/firmware.h"
#include "hv/core/time.h"
#include "hv/lib/byteorder.h"
#include "hv/lib/format.h"
#include "hv/vdev/pvclock.h"
#include "hv/vm/dirty_log.h"
#include "hv/vm/poison.h"
#include "hv/vm/platform.h"
#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"
#include "hv/x86/msr.h"

void kvmclock_init(struct kvmclock *kc)
{
	*kc = (struct kvmclock){ 0 };
}

static uint64_t tsc_offset_of(struct vcpu *v)
{
	struct vcpu_state s;

	vcpu_ops->get_state(v, &s);
	return s.tsc_offset;
}

/* A record the hypervisor may write: inside guest RAM, on pages that are
 * not poisoned (touching those would consume the poison here). */
static bool record_usable(const struct vm *vm, uint64_t gpa, uint64_t len)
{
	return gmem_contains(&vm->mem, gpa, len) && !vm_page_poisoned(vm, gpa) &&
	       !vm_page_poisoned(vm, gpa + len - 1);
}

/* The page is marked in the dirty log: a migration in progress must carry
 * the new record, which the guest itself never writes. */
static void write_record(struct vm *vm, uint64_t gpa, const uint8_t *rec, size_t len)
{
	if (!record_usable(vm, gpa, len) || !gmem_write(&vm->mem, gpa, rec, len)) {
		vm->kvmclock.bad_addresses++;
		return;
	}
	dirty_log_mark(vm, gpa, len);
}

static uint32_t next_version(const struct vm *vm, uint64_t gpa)
{
	uint8_t v[4];

	if (!record_usable(vm, gpa, sizeof(v)) || !gmem_read(&vm->mem, gpa, v, sizeof(v)))
		return 2;
	return (get_le32(v) | 1) + 1;
}

/* Anchors the time record at one host TSC reading 'now': the clock it
 * gives from then on is the VM clock (what the PIT, RTC and ACPI PM timer
 * count from), but never less than what the old record gave at the
 * guest's TSC value 'old_guest_tsc', so the guest never sees it go back
 * (CLOCKSOURCE_STABLE_BIT tells Linux it need not guard against that). */
static void anchor(struct vcpu *v, uint64_t now, uint64_t old_guest_tsc)
{
	struct vm *vm = v->vm;
	uint64_t gpa = vm->kvmclock.system_time_msr[v->index] & ~KVMCLOCK_ENABLE;
	uint8_t rec[PVCLOCK_TIME_INFO_SIZE];
	struct pvclock_time_info old;
	uint64_t system_time = platform_clock_at(vm, now);

	if (record_usable(vm, gpa, sizeof(rec)) && gmem_read(&vm->mem, gpa, rec, sizeof(rec)) &&
	    pvclock_decode_time(rec, &old)) {
		uint64_t was = pvclock_read(&old, old_guest_tsc);
		if (was > system_time)
			system_time = was;
	}
	uint32_t version = next_version(vm, gpa);
	struct pvclock_time_info t = {
		.version = version - 1,
		.tsc_timestamp = now + tsc_offset_of(v),
		.system_time = system_time,
		.scale = pvclock_scale_of(time_tsc_hz()),
		.flags = PVCLOCK_TSC_STABLE_BIT,
	};
	/* Other vCPUs may read this record while it changes (Linux reads
	 * vCPU 0's from every CPU when the clock is stable): an odd version
	 * first, then the body, then the even one, in that order (x86 keeps
	 * stores in order; the fences keep the compiler from merging them). */
	pvclock_encode_time(&t, rec);
	if (!record_usable(vm, gpa, sizeof(rec))) {
		vm->kvmclock.bad_addresses++;
		return;
	}
	write_record(vm, gpa, rec, 4);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	write_record(vm, gpa, rec, sizeof(rec));
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	put_le32(rec, version);
	write_record(vm, gpa, rec, 4);
	vm->kvmclock.updates++;
}

void kvmclock_tsc_changed(struct vcpu *v, uint64_t old_tsc_offset)
{
	if (v->vm->kvmclock.system_time_msr[v->index] & KVMCLOCK_ENABLE) {
		uint64_t now = rdtsc();
		anchor(v, now, now + old_tsc_offset);
	}
}

/* At GO the VM clock and the guest's TSC both go on from the pause, and
 * the record (which came with the guest's memory) from its own reading,
 * now with this host's rate. */
void kvmclock_resume(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (vm->kvmclock.system_time_msr[i] & KVMCLOCK_ENABLE) {
			uint64_t now = rdtsc();
			anchor(v, now, now + tsc_offset_of(v));
		}
	}
}

/* The wall clock record: the time of day at which the VM clock read 0
 * (whole seconds: the firmware clock's resolution). */
static void write_wall_clock(struct vm *vm, uint64_t gpa)
{
	uint8_t rec[PVCLOCK_WALL_CLOCK_SIZE];
	uint64_t now_ns = fw_time_unix() * NS_PER_SEC, vm_ns = platform_clock(vm);

	pvclock_encode_wall(next_version(vm, gpa), now_ns > vm_ns ? now_ns - vm_ns : 0, rec);
	write_record(vm, gpa, rec, sizeof(rec));
}

bool kvmclock_msr_read(const struct vcpu *v, uint32_t index, uint64_t *value)
{
	const struct kvmclock *kc = &v->vm->kvmclock;

	switch (index) {
	case MSR_KVM_WALL_CLOCK_NEW: *value = kc->wall_clock_msr; return true;
	case MSR_KVM_SYSTEM_TIME_NEW: *value = kc->system_time_msr[v->index]; return true;
	default: return false;
	}
}

bool kvmclock_msr_write(struct vcpu *v, uint32_t index, uint64_t value)
{
	struct vm *vm = v->vm;

	switch (index) {
	case MSR_KVM_WALL_CLOCK_NEW:
		vm->kvmclock.wall_clock_msr = value;
		write_wall_clock(vm, value);
		break;
	case MSR_KVM_SYSTEM_TIME_NEW:
		vm->kvmclock.system_time_msr[v->index] = value;
		kvmclock_tsc_changed(v, tsc_offset_of(v));
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
	put_le64(buf, vm->kvmclock.system_time_msr[0]);
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
	vm->kvmclock.system_time_msr[0] = get_le64(buf);
	vm->kvmclock.wall_clock_msr = get_le64(buf + 8);
	return 0;
}
