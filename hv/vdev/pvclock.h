/* The paravirtual clock ABI KVM defined and Linux (and other guests) use:
 * a 32-byte record in guest memory, pvclock_vcpu_time_info, from which the
 * guest computes nanoseconds out of its own TSC without an exit:
 *
 *     ns = system_time + (((tsc - tsc_timestamp) <<>> tsc_shift) * mul) >> 32
 *
 * (a left shift for tsc_shift >= 0, right otherwise), and a 12-byte wall
 * clock record, pvclock_wall_clock (the time at which that clock read 0).
 * A record is consistent when its version is even and unchanged across the
 * guest's read. Layouts and rules: Linux's arch/x86/include/asm/pvclock-abi.h
 * and Documentation/virt/kvm/x86/msr.rst. Pure code, host-tested. */
#ifndef HV_VDEV_PVCLOCK_H
#define HV_VDEV_PVCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define PVCLOCK_TIME_INFO_SIZE 32
#define PVCLOCK_WALL_CLOCK_SIZE 12
#define PVCLOCK_TSC_STABLE_BIT 0x01 /* one TSC for all vCPUs: no monotonic guard needed */

struct pvclock_scale {
	uint32_t mul;  /* in [2^31, 2^32): the guest's 32.32 fraction */
	int8_t shift;
};

struct pvclock_time_info {
	uint32_t version;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	struct pvclock_scale scale;
	uint8_t flags;
};

/* The scale that turns ticks of a 'tsc_hz' counter into nanoseconds.
 * @pre tsc_hz is between 1 kHz and 1 THz. */
struct pvclock_scale pvclock_scale_of(uint64_t tsc_hz);

/* Nanoseconds for 'ticks' as the guest computes them. */
uint64_t pvclock_scale_ticks(uint64_t ticks, struct pvclock_scale s);

/* The guest's clock at its TSC value 'tsc' (system_time if tsc is before
 * the record's timestamp: the clock never reads earlier than its anchor). */
uint64_t pvclock_read(const struct pvclock_time_info *t, uint64_t tsc);

/* The TSC frequency a guest derives from the scale, in kHz, as Linux's
 * pvclock_tsc_khz() does. */
uint64_t pvclock_tsc_khz(struct pvclock_scale s);

void pvclock_encode_time(const struct pvclock_time_info *t, uint8_t out[PVCLOCK_TIME_INFO_SIZE]);
/* False when the record is not one a host wrote (odd version, or a zero
 * multiplier, as in memory the guest merely registered). */
bool pvclock_decode_time(const uint8_t in[PVCLOCK_TIME_INFO_SIZE], struct pvclock_time_info *t);

void pvclock_encode_wall(uint32_t version, uint64_t unix_ns, uint8_t out[PVCLOCK_WALL_CLOCK_SIZE]);

#endif
