/* Bodies of the state records (VM_CONFIG, VCPU, LAPIC, UART, PLATFORM) in
 * a form independent of the hypervisor's structures and of the host's
 * clock: times travel as nanoseconds relative to the pause, never as raw
 * TSC values. Pure code (host-testable); migrate/vm_state.c converts to
 * and from a live VM. Decoders demand the exact length of their version. */
#ifndef MIGRATE_STATE_CODEC_H
#define MIGRATE_STATE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/vm/vcpu.h"

#define MIG_VM_NAME 32
#define MIG_IMAGE_NAME 32
#define MIG_CMDLINE 256
#define MIG_MTRRS 27
#define MIG_UART_FIFO 256
#define MIG_UART_LINE 200
#define MIG_MXCSR_MASK 0xffbfu /* bits FXRSTOR accepts on every x86-64 CPU (no DAZ) */

#define MIG_VCPUS_MAX 8

struct mig_vm_config {
	char name[MIG_VM_NAME];
	char image[MIG_IMAGE_NAME];   /* informational: memory travels as pages */
	char cmdline[MIG_CMDLINE];
	uint64_t mem_bytes;
	/* vCPUs, 1 to MIG_VCPUS_MAX: on the wire only when more than one
	 * (332 bytes instead of 328), so one-vCPU streams stay as they were. */
	uint32_t vcpus;
	/* MIG_VM_*: on the wire only when not 0, after the vCPU count (336
	 * bytes), so a receiver that does not know them refuses the VM by the
	 * length rather than run it without them. */
	uint32_t flags;
};
/* An access with nothing behind it stops the VM (vm create unbacked=stop). */
#define MIG_VM_UNBACKED_STOP 1u
#define MIG_VM_FLAGS_KNOWN MIG_VM_UNBACKED_STOP

struct mig_vcpu {
	struct vcpu_state s;          /* tsc_offset unused: see guest_tsc */
	uint64_t guest_tsc;           /* the guest's TSC at the pause */
	uint64_t guest_tsc_hz;
	uint8_t fpu[512];             /* FXSAVE image */
	bool halted;
	bool pending_exception;
	struct vcpu_event exception;
	uint64_t msr_mtrr_def, msr_mtrr[MIG_MTRRS], msr_tsc_aux;
};

struct mig_lapic {
	uint32_t id, tpr, svr, ldr, dfr, esr, icr_lo, icr_hi;
	uint32_t lvt_timer, lvt_thermal, lvt_perf, lvt_lint0, lvt_lint1, lvt_error, lvt_cmci;
	uint32_t timer_init, timer_div;
	uint32_t irr[8], isr[8];
	uint64_t timer_period_ns;     /* 0: stopped */
	uint64_t timer_remaining_ns;  /* from the pause to the next expiry */
};

/* An application processor (vCPU 1 and up): its vCPU, its local APIC with
 * the fields beyond the LAPIC record, whether it waits for a start-up IPI,
 * and its kvmclock time record's MSR. The BSP travels as VCPU, LAPIC and
 * DEVICE records. */
struct mig_ap {
	uint32_t index;
	struct mig_vcpu vcpu;
	struct mig_lapic lapic;
	uint8_t lapic_extra[VLAPIC_EXTRA_STATE_SIZE];
	bool wait_for_sipi;
	uint64_t kvmclock_msr;
};

struct mig_uart {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	uint32_t rx_len;
	uint8_t rx[MIG_UART_FIFO];    /* the receive FIFO, oldest first */
	uint32_t line_len;            /* output line not yet shown on the console */
	uint8_t line[MIG_UART_LINE];
};

enum mig_run_state { MIG_RUN_CREATED, MIG_RUN_RUNNING, MIG_RUN_PAUSED };

struct mig_platform {
	uint8_t run_state;            /* enum mig_run_state, as on the source */
	uint64_t vm_clock_ns;         /* the VM clock at the pause: the devices count from it */
	uint64_t resets;              /* guest resets so far (the VM restarted) */
};

/* The images a VM was created with besides its own ("IMAGE args"), so it
 * can restart from them on the destination after a guest reset. */
#define MIG_MODULES_MAX 8
#define MIG_MODULE_SPEC 128
struct mig_modules {
	uint32_t count;
	char spec[MIG_MODULES_MAX][MIG_MODULE_SPEC];
};

/* Which CPU ran each vCPU on the source (optional PLACEMENT record): the
 * destination keeps it where it has that CPU. */
struct mig_placement {
	uint32_t count; /* the VM's vCPUs */
	uint32_t cpu[MIG_VCPUS_MAX];
};

/* Emulated MSRs of one vCPU that the VCPU record does not hold (VCPU_MSRS):
 * today AMD's legacy performance counters, sent only when one is not at
 * its power-on 0, so a VM that never touched them sends none. */
#define MIG_VCPU_MSRS_MAX 16
struct mig_vcpu_msrs {
	uint32_t index; /* the vCPU, 0 .. MIG_VCPUS_MAX - 1 */
	uint32_t count; /* 1 .. MIG_VCPU_MSRS_MAX */
	uint32_t msr[MIG_VCPU_MSRS_MAX];
	uint64_t value[MIG_VCPU_MSRS_MAX];
};

/* A platform device's guest-visible state: a blob the device itself
 * produces and checks (hv/vdev/<device>_state.c, docs/device-state.md).
 * The codec checks only the identifier and the length bound. */
enum mig_device_id {
	MIG_DEV_PIC = 1, MIG_DEV_PIT, MIG_DEV_IOAPIC, MIG_DEV_RTC, MIG_DEV_ACPI_PM, MIG_DEV_PCI,
	MIG_DEV_LAPIC_EXTRA, MIG_DEV_UART_EXTRA, MIG_DEV_KVMCLOCK,
	MIG_DEV_COUNT /* ids 1 .. MIG_DEV_COUNT - 1: every VM has these */
};
/* A virtio-blk disk's device (version 3): id MIG_DEV_VIRTIO_BLK + the
 * disk's stream index, one per disk the VM has. */
#define MIG_DEV_VIRTIO_BLK 10
#define MIG_DEV_DISKS 4
#define MIG_DEV_ID_LAST (MIG_DEV_VIRTIO_BLK + MIG_DEV_DISKS - 1)
#define MIG_DEVICE_MAX 6144
struct mig_device {
	uint32_t id;
	uint32_t len;
	uint8_t blob[MIG_DEVICE_MAX];
};

/* Encoders return the body length; 'body' must hold MIG_STATE_MAX bytes. */
#define MIG_STATE_MAX (MIG_DEVICE_MAX + 8)
uint32_t mig_vm_config_encode(const struct mig_vm_config *c, uint8_t *body);
uint32_t mig_vcpu_encode(const struct mig_vcpu *v, uint8_t *body);
uint32_t mig_lapic_encode(const struct mig_lapic *l, uint8_t *body);
uint32_t mig_ap_encode(const struct mig_ap *a, uint8_t *body);
uint32_t mig_uart_encode(const struct mig_uart *u, uint8_t *body);
uint32_t mig_platform_encode(const struct mig_platform *p, uint8_t *body);
uint32_t mig_modules_encode(const struct mig_modules *m, uint8_t *body);
uint32_t mig_device_encode(const struct mig_device *d, uint8_t *body);
uint32_t mig_placement_encode(const struct mig_placement *p, uint8_t *body);
uint32_t mig_vcpu_msrs_encode(const struct mig_vcpu_msrs *m, uint8_t *body);

/* Decoders: 0, or -1 with the reason in err (wrong length, out-of-range
 * values, names not NUL-terminated, an MXCSR the CPU would fault on). */
int mig_vm_config_decode(const uint8_t *body, size_t len, struct mig_vm_config *c, char *err,
			 size_t errlen);
int mig_vcpu_decode(const uint8_t *body, size_t len, struct mig_vcpu *v, char *err,
		    size_t errlen);
int mig_lapic_decode(const uint8_t *body, size_t len, struct mig_lapic *l, char *err,
		     size_t errlen);
/* Checks the vCPU as mig_vcpu_decode does and the index (1 to
 * MIG_VCPUS_MAX - 1); whether the VM has that vCPU is the receiver's
 * check, and the APIC blob is the APIC's own (vlapic_load_extra). */
int mig_ap_decode(const uint8_t *body, size_t len, struct mig_ap *a, char *err, size_t errlen);
int mig_uart_decode(const uint8_t *body, size_t len, struct mig_uart *u, char *err,
		    size_t errlen);
int mig_platform_decode(const uint8_t *body, size_t len, struct mig_platform *p, char *err,
			size_t errlen);
int mig_modules_decode(const uint8_t *body, size_t len, struct mig_modules *m, char *err,
		       size_t errlen);
int mig_placement_decode(const uint8_t *body, size_t len, struct mig_placement *p, char *err,
			 size_t errlen);
int mig_device_decode(const uint8_t *body, size_t len, struct mig_device *d, char *err,
		      size_t errlen);
/* Checks each MSR as mig_vcpu_msr_check does, and that none comes twice;
 * whether the VM has that vCPU is the receiver's check. */
int mig_vcpu_msrs_decode(const uint8_t *body, size_t len, struct mig_vcpu_msrs *m, char *err,
			 size_t errlen);
/* An MSR of a VCPU_MSRS record as the guest's own WRMSR would be judged:
 * 0, or -1 for an MSR this version does not migrate or a value it would
 * #GP on (vcpu_check.c). */
int mig_vcpu_msr_check(uint32_t msr, uint64_t value, char *err, size_t errlen);
/* The registers as the CPU would judge them (vcpu_check.c); mig_vcpu_decode
 * applies it. 0, or -1 with the register and value in err. */
int mig_vcpu_check(const struct mig_vcpu *v, char *err, size_t errlen);

#endif
