/* Virtual machines: vCPUs (each with its local APIC), guest memory,
 * second-level page tables and the guest platform devices. States:
 *
 *   created --start--> running <--pause/resume--> paused
 *   running/paused --stop, debug-exit, reset--> stopped
 *   running --fault, triple fault, bad exit--> crashed (reason kept)
 *
 * A crashed or stopped VM keeps its memory for inspection until destroyed. */
#ifndef HV_VM_VM_H
#define HV_VM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/mm/pagetable.h"
#include "hv/vdev/apic_bus.h"
#include "hv/vdev/vuart.h"
#include "hv/vm/cpuid_policy.h"
#include "hv/vm/dirty_log.h"
#include "hv/vm/guest_mem.h"
#include "hv/vm/image.h"
#include "hv/vm/kvmclock.h"
#include "hv/vm/platform.h"
#include "hv/vm/ports.h"
#include "hv/vm/vcpu.h"
#include "hv/vm/vm_disk.h"
#include "hv/x86/spinlock.h"

#define VM_NAME_MAX 32
#define VM_MAX 32
#define VM_CMDLINE_MAX 256
#define VM_REASON_MAX 200
#define VM_OUTPUT_RING 8192
#define VM_LINE_MAX 200
#define VM_DEFAULT_MEM (64ull << 20)
#define VM_MIN_MEM (2ull << 20)
#define VM_MAX_MEM (3ull << 30) /* RAM stays below the local APIC page */
#define VM_MAX_MODULES 8
#define VM_MODULE_SPEC_MAX 128
#define VM_MAX_VCPUS 8

enum vm_state { VM_CREATED, VM_RUNNING, VM_PAUSED, VM_STOPPED, VM_CRASHED };

struct vm_output {
	char ring[VM_OUTPUT_RING];  /* recent guest output, for `vm output` */
	uint64_t written;
	char line[VM_LINE_MAX];     /* the line being assembled for the console */
	size_t line_len;
	bool attached;              /* `vm console` shows raw output */
};

struct vm {
	char name[VM_NAME_MAX];
	unsigned id;
	enum vm_state state;
	char reason[VM_REASON_MAX]; /* why it stopped or crashed */
	bool has_exit_code;
	uint32_t exit_code;         /* value written to the debug-exit port */

	char image_name[IMAGE_NAME_MAX]; /* what it was created from */
	char cmdline[VM_CMDLINE_MAX];
	char modules[VM_MAX_MODULES][VM_MODULE_SPEC_MAX]; /* "IMAGE args", to reload on reset */
	size_t nmodules;
	bool reset_pending;         /* the guest asked for a reset; done outside the exit */
	char reset_reason[64];
	uint64_t resets;            /* guest-requested resets (the VM restarted) */
	uint64_t entry;

	struct guest_mem mem;
	struct pagetable slpt;      /* NPT or EPT */
	struct dirty_log dirty;     /* written pages, while tracking */
	/* vcpus[0] is the bootstrap processor; the others start waiting for
	 * INIT and start-up IPIs, as a PC's application processors do. Their
	 * APIC IDs are their indexes. */
	unsigned nvcpus;
	struct vcpu vcpus[VM_MAX_VCPUS];
	struct vlapic *apics[VM_MAX_VCPUS]; /* the bus's view of vcpus[i].lapic */
	struct apic_bus apic_bus;
	unsigned next_vcpu;         /* where vm_run's round robin goes on */
	struct vuart uart;
	struct kvmclock kvmclock;   /* paravirtual clock MSRs (kvmclock.h) */
	struct platform plat;       /* the PC around the vCPU (hv/vm/platform.h) */
	struct vm_disk disks[VM_MAX_DISKS]; /* virtio-blk over datastore disks (vm_disk.h) */
	unsigned ndisks;
	struct vm_output out;

	uint64_t created_ns, started_ns;
	uint64_t ports_unhandled;   /* accesses to ports no device claims */
	uint64_t port_accesses[PORT_DEVICES_MAX]; /* by device, see ports.h */
	uint64_t mmio_emulated;
	/* Where the guest reached past its RAM with no device there: a PC's
	 * master abort (reads all ones, writes dropped), or, with
	 * unbacked_stops (`vm create ... unbacked=stop`), the VM stops. The
	 * first access to each of a few pages is logged. */
	bool unbacked_stops;
	uint64_t unbacked_logged[8]; /* page numbers + 1 */
	uint64_t exceptions_reflected; /* intercepted #AC/#DB given back to the guest */
	uint64_t uid;               /* identity that migrations keep */
	bool migrating;             /* a migration owns its state: no resume/destroy */
	bool incoming;              /* ... and is filling it in from a stream (destination) */
	bool paused_for_migration;  /* paused by the migration, not by the operator */
	unsigned throttle_pct;      /* share of each 100 ms the vCPU sits out */
	uint64_t *poisoned;         /* guest pages lost to memory errors (hv/mce) */
	uint64_t poisoned_pages;
	struct cpuid_host cpuid;    /* where the guest's CPUID answers come from */
	void *vendor;               /* backend per-VM state */
	bool backend_ready;         /* vm_init succeeded: vm_destroy is due */
	/* What its vCPUs share when they run on different CPUs (vm_place.h):
	 * the devices, the APIC bus, the dirty log, the counters here. Each
	 * CPU holds it while it prepares an entry or handles an exit, never
	 * while the guest runs. */
	struct spinlock lock;
};

struct vm_create_args {
	const char *name;
	const char *image;
	uint64_t mem;               /* bytes; 0: default */
	unsigned cpus;              /* vCPUs; 0: one */
	const char *cmdline;        /* for the guest; NULL: "" */
	const char *modules[VM_MAX_MODULES]; /* "IMAGE" or "IMAGE args" */
	size_t nmodules;
	const char *disks[VM_MAX_DISKS]; /* "DISK" or "DISK,ro" (datastore disks) */
	size_t ndisks;
	bool unbacked_stops;        /* stop at an access past RAM (unbacked=stop) */
};

/* Creates a VM ready to start. On failure returns NULL with the reason in
 * err and leaves no memory allocated. */
struct vm *vm_create(const struct vm_create_args *args, char *err, size_t errlen);
/* A VM with zeroed memory and no image loaded, for an incoming migration:
 * state 'created' and 'migrating' set; the migration fills it in. */
struct vm *vm_create_incoming(const char *name, uint64_t mem, unsigned cpus, const char *image,
			      const char *cmdline, char *err, size_t errlen);
/* The bootstrap processor, which `vm info` and single-vCPU code mean. */
static inline struct vcpu *vm_bsp(struct vm *vm)
{
	return &vm->vcpus[0];
}
int vm_start(struct vm *vm, char *err, size_t errlen);
int vm_pause(struct vm *vm, char *err, size_t errlen);
int vm_resume(struct vm *vm, char *err, size_t errlen);
void vm_stop(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vm_crash(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A guest's reset request (keyboard controller, 0xcf9, port A): the VM
 * restarts from its image, like a PC after a reset, once the current exit
 * is done (vm_run calls vm_reset). */
void vm_request_reset(struct vm *vm, const char *why);
/* Restarts the VM: memory cleared, devices at power-on, the image and its
 * modules loaded again. A VM whose image is no longer here is stopped. */
void vm_reset(struct vm *vm);
/* Frees everything the VM holds. */
void vm_destroy(struct vm *vm);
/* The guest memory a destroyed VM leaves to its caller: a migration's
 * source keeps it as a seed for the VM's return (migrate/seed.h). */
struct vm_kept_memory {
	struct guest_mem mem;
	uint64_t *poisoned;       /* bit per page lost to a memory error, or NULL */
};
/* Like vm_destroy, but the memory (when keep is not NULL) goes to *keep. */
void vm_destroy_keeping_memory(struct vm *vm, struct vm_kept_memory *keep);

struct vm *vm_find(const char *name);
struct vm *vm_find_id(uint32_t id);
/* For a started CPU's scheduler: the VMs placed on `cpu`, by slot, each
 * marked as running there (running_on) unless the main loop holds it; a held VM
 * whose vCPU is loaded there is put down instead. NULL slots elsewhere.
 * Returns how many were claimed. */
unsigned vm_claim_placed(uint32_t cpu, struct vm **claimed);
/* Ends the claims; a VM held meanwhile is put down first. */
void vm_unclaim_placed(uint32_t cpu, struct vm **claimed);
/* Iteration over existing VMs: index 0..VM_MAX-1, NULL slots skipped. */
struct vm *vm_slot(unsigned i);
const char *vm_state_name(enum vm_state s);

/* A migration's hold on the VM (vm_migration.c); see the diagram there.
 * @pre the VM is the one the caller's migration began with */
#define VM_THROTTLE_MAX 90
int vm_migration_begin(struct vm *vm, char *err, size_t errlen);
/* Auto-converge: the vCPU sits out pct % of every 100 ms. */
void vm_migration_throttle(struct vm *vm, unsigned pct);
/* Stop-and-copy: a running VM is paused (remembered as the migration's). */
void vm_migration_pause(struct vm *vm);
/* Failure before the destination may run it: back as it was. */
void vm_migration_abort(struct vm *vm);
/* Failure after GO: the VM stays paused here, with the reason. */
void vm_migration_outcome_unknown(struct vm *vm, const char *why);
/* The destination runs it: the source's copy goes. */
void vm_migration_handed_over(struct vm *vm, struct vm_kept_memory *keep);
/* Destination: the complete VM takes the run state it had on the source,
 * and its vCPUs the CPUs they ran on there where this instance has them
 * (cpu_of_vcpu[nvcpus]; NULL: all stay on the main loop's CPU). */
void vm_migration_arrived(struct vm *vm, enum vm_state run_state, const uint32_t *cpu_of_vcpu);
/* Destination: a partial copy is dropped. */
void vm_migration_discard(struct vm *vm);

/* Host pages a VM holds (guest memory, tables, bookkeeping). */
size_t vm_host_pages(const struct vm *vm);

/* Guest output (UART, debug console port). */
void vm_output_byte(struct vm *vm, uint8_t byte);
void vm_output_flush(struct vm *vm);

#endif
