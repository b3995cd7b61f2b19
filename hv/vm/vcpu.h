/* The vendor-neutral virtual CPU.
 *
 * Generic code (hv/) sees guests only through this header: a vCPU's
 * registers and architectural state, a decoded exit, and an ops table that
 * the SVM (hv/svm) or VMX (hv/vmx) backend fills. The backend is chosen at
 * boot from CPUID; generic code never tests the vendor. */
#ifndef HV_VM_VCPU_H
#define HV_VM_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/dirty/dirty_track.h"
#include "hv/lib/hold_gate.h"
#include "hv/mm/pagetable.h"
#include "hv/vdev/vlapic.h"
#include "hv/x86/fpu.h"
#include "hv/x86/seg_attr.h"

struct vm;
struct vcpu;

/* General-purpose registers plus rip/rflags. The entry stubs load and save
 * the first sixteen in this order; backends keep rsp/rip/rflags in sync. */
struct vcpu_regs {
	uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
};

/* Register n in x86 encoding order (0 rax, 1 rcx, ... 15 r15). */
static inline uint64_t *vcpu_gpr(struct vcpu_regs *r, unsigned n)
{
	return &((uint64_t *)r)[n & 15];
}

/* A segment register with its hidden part. 'attr' uses the 12-bit packed
 * form: bits 0-7 type/S/DPL/P, bit 8 AVL, 9 L, 10 D/B, 11 G. */
struct vcpu_segment {
	uint16_t selector;
	uint16_t attr;
	uint32_t limit;
	uint64_t base;
};

struct vcpu_dtable {
	uint64_t base;
	uint32_t limit;
};

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_COUNT };

/* Everything a vCPU is, short of its local APIC and FPU: what migration
 * moves and `vm info` shows. */
struct vcpu_state {
	struct vcpu_regs regs;
	struct vcpu_segment seg[SEG_COUNT];
	struct vcpu_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, efer, dr6, dr7;
	uint64_t pat, star, lstar, cstar, sfmask, kernel_gs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t tsc_offset;
	uint32_t interrupt_shadow; /* STI/MOV SS blocking */
};

#define RFLAGS_IF (1ull << 9)
#define RFLAGS_DF (1ull << 10)
#define RFLAGS_VM (1ull << 17)
#define RFLAGS_AC (1ull << 18)
#define RFLAGS_RESERVED1 (1ull << 1)

/* Why a vCPU stopped running, decoded from the vendor's exit information.
 * Backends only name the event; what the guest gets for it is decided by
 * the generic handlers (hv/vm/vm_exit.c). */
enum exit_kind {
	EXIT_NONE,                /* handled inside the backend: just re-enter */
	EXIT_EXTERNAL_INTERRUPT,  /* a host interrupt: give the host a turn */
	EXIT_INTERRUPT_WINDOW,    /* the guest can now take an interrupt */
	EXIT_IO,
	EXIT_CPUID,
	EXIT_RDMSR,               /* every MSR that exits, EFER included */
	EXIT_WRMSR,
	EXIT_HLT,
	EXIT_HYPERCALL,           /* VMMCALL / VMCALL */
	EXIT_MEMORY,              /* nested page fault / EPT violation */
	EXIT_XSETBV,
	EXIT_INVD,
	EXIT_WBINVD,
	EXIT_INVLPG,
	EXIT_PAUSE,
	EXIT_MONITOR,
	EXIT_MWAIT,
	EXIT_VIRT_INSN,           /* an SVM or VMX instruction (VMRUN, VMREAD, ...) */
	EXIT_RSM,
	EXIT_GETSEC,
	EXIT_RDPMC,
	EXIT_DIRTY_LOG_FULL,      /* the CPU's own dirty log is full (Intel PML) */
	EXIT_TRIPLE_FAULT,
	EXIT_MACHINE_CHECK,       /* a host #MC arrived while the guest ran */
	EXIT_EXCEPTION,           /* an intercepted guest exception (#AC, #DB) */
	EXIT_INVALID_STATE,       /* VM entry refused the guest state */
	EXIT_UNHANDLED,           /* an exit this hypervisor does not support */
	EXIT_KIND_COUNT
};

struct vm_exit {
	enum exit_kind kind;
	uint32_t code;        /* vendor exit code, for reports and statistics */
	uint8_t insn_len;     /* length of the exiting instruction, 0 if unknown */
	uint64_t info1, info2;/* vendor exit information, for reports */
	union {
		struct {
			uint16_t port;
			uint8_t size;    /* 1, 2 or 4 */
			bool in, string, rep;
			uint8_t addr_size; /* string I/O: 2, 4 or 8 */
			uint8_t segment;   /* string OUTS: source segment (SEG_*) */
		} io;
		struct {
			uint64_t gpa;
			bool write, fetch;
			bool present;    /* the translation existed (a protection fault) */
			bool walk;       /* during the guest's own page-table walk */
		} mem;
		struct {
			uint8_t vector;
			bool has_error;
			uint32_t error;
		} exc;
	};
};

/* Events that can be injected into a guest. */
enum vcpu_event_type { EVENT_INTERRUPT, EVENT_NMI, EVENT_EXCEPTION, EVENT_SOFT_INT };

struct vcpu_event {
	enum vcpu_event_type type;
	uint8_t vector;
	bool has_error;
	uint32_t error;
};

/* What a backend's probe found on this CPU. */
enum vcpu_probe {
	VCPU_PROBE_ABSENT,   /* the CPU lacks this vendor's extension */
	VCPU_PROBE_UNUSABLE, /* present, but guests cannot run: the reason says why */
	VCPU_PROBE_USABLE,
};

/* Where describe() writes its "key: value" lines (the `cpu` command). */
typedef void (*vcpu_print_fn)(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One table per vendor (BitVisor/Jailhouse style). Each backend puts its
 * table in the registry (VCPU_BACKEND); at boot the first one whose probe
 * says usable is enabled. */
struct vcpu_ops {
	const char *name;                    /* "svm", "vmx" */
	const char *title;                   /* "AMD SVM", for messages */
	const struct pt_format *slpt_format; /* NPT or EPT entry format */

	/* Reads what the CPU offers (CPUID, capability MSRs); never changes
	 * the CPU. *reason is set for VCPU_PROBE_UNUSABLE. */
	enum vcpu_probe (*probe)(const char **reason);
	/* Prints the extension's presence and features, whether or not the
	 * backend was chosen. */
	void (*describe)(vcpu_print_fn print, void *ctx);

	int (*hw_enable)(void);                  /* SVM/VMX on, on the boot CPU */
	/* The same on each other CPU as it starts: NULL or why not. */
	const char *(*hw_enable_cpu)(void);
	void (*hw_disable)(void);                /* off again, before a reset */
	void (*hw_reenable)(void);               /* on again when the reset failed */
	int (*vm_init)(struct vm *vm);           /* per-VM vendor state */
	void (*vm_destroy)(struct vm *vm);
	int (*vcpu_create)(struct vcpu *v);
	void (*vcpu_destroy)(struct vcpu *v);
	/* The vCPU comes to the calling CPU: host state and cached guest
	 * translations there are made right, and PAUSE exits as
	 * pause_ends_turn now says. @pre no other CPU has it loaded */
	void (*load)(struct vcpu *v);
	/* The calling CPU is done with it for now (VMCLEAR), so that another
	 * may load it. */
	void (*put)(struct vcpu *v);

	/* Enters the guest until the next exit, decoded into *exit. Backends
	 * decode only: what the guest may do is decided in hv/vm. */
	void (*run)(struct vcpu *v, struct vm_exit *exit);

	void (*get_state)(struct vcpu *v, struct vcpu_state *s);
	void (*set_state)(struct vcpu *v, const struct vcpu_state *s);

	/* Queues an event for the next entry. Interrupts only when
	 * can_take_interrupt() says so. */
	void (*inject)(struct vcpu *v, const struct vcpu_event *e);
	bool (*can_take_interrupt)(struct vcpu *v);
	/* Asks for EXIT_INTERRUPT_WINDOW as soon as interrupts are accepted. */
	void (*request_interrupt_window)(struct vcpu *v, bool on);
	/* Forgets every event waiting for the next entry (one an exit cut
	 * short, an injection, an interrupt-window request): a reset. */
	void (*drop_events)(struct vcpu *v);

	/* After second-level table changes: drop cached guest translations. */
	void (*flush_guest_tlb)(struct vm *vm);

	/* The hardware's part of dirty logging (hv/vm/dirty_log.c): which
	 * modes beyond write protection the CPU can do (bits 1 << DIRTY_MODE_*);
	 * switching the hardware's part of a mode on and off (dirty bits in
	 * the second-level leaves, a CPU-written log such as Intel PML); and
	 * moving what a CPU-written log holds into the tracker (NULL when no
	 * mode has one), one vCPU's at a time: the exiting vCPU's at
	 * EXIT_DIRTY_LOG_FULL, every vCPU's under a hold. */
	unsigned (*dirty_modes)(void);
	int (*dirty_start)(struct vm *vm, enum dirty_mode mode);
	void (*dirty_stop)(struct vm *vm, enum dirty_mode mode);
	void (*dirty_collect)(struct vcpu *v, struct dirty_track *track);

	const char *(*exit_name)(uint32_t code);
	/* Exit codes map to statistics slots below VCPU_EXIT_STATS. */
	unsigned (*exit_slot)(uint32_t code);
	uint32_t (*slot_code)(unsigned slot);
};

#define VCPU_EXIT_STATS 256

/* Puts a backend's table in the registry that selection walks. */
#define VCPU_BACKEND(ops)                                                        \
	static const struct vcpu_ops *const ops##_registered                       \
		__attribute__((used, section("vcpu_backends"), aligned(8))) = &(ops)

struct vcpu {
	struct vm *vm;
	unsigned index;               /* in the VM; also its initial APIC ID */
	struct vcpu_regs regs;
	void *vendor;                 /* the backend's per-vCPU state */
	uint8_t fpu[FPU_AREA_SIZE] __attribute__((aligned(16)));
	bool halted;
	/* After INIT, an application processor waits for a start-up IPI
	 * (SDM 8.4.3); the vCPU does not run meanwhile. */
	bool wait_for_sipi;
	bool yield;                   /* it sent an IPI: another vCPU should run */
	/* PAUSE exits and ends its turn: other vCPUs of its VM share its CPU,
	 * so a vCPU spinning for a lock may wait for one that is not running.
	 * Set when it is loaded on a CPU (vm_run.c). */
	bool pause_ends_turn;
	uint64_t pause_yields;        /* turns ended by PAUSE */
	bool pending_exception;
	struct vcpu_event exception;  /* queued by emulation (#GP, #UD...) */
	uint64_t exits;
	uint64_t exits_by_code[VCPU_EXIT_STATS]; /* index: backend stat slot */
	uint64_t exits_by_kind[EXIT_KIND_COUNT];
	uint64_t run_tsc;             /* TSC ticks spent in the guest */
	uint64_t msr_mtrr_def, msr_mtrr[27], msr_tsc_aux; /* emulated MSRs */
	/* AMD's legacy performance counters: kept as written, never counting
	 * (not migrated yet). */
	uint64_t msr_perf_sel[4], msr_perf_ctr[4];
	struct vm_exit last_exit;
	struct vlapic lapic;
	/* Where it runs (vm_place.h): the CPU it is placed on, and the
	 * hand-over with the main loop (hv/lib/hold_gate.h: holds, which CPU runs it
	 * now or has it loaded). */
	uint32_t cpu;
	struct hold_gate gate;
};

/* Runnable: neither halted nor waiting for a start-up IPI. */
static inline bool vcpu_runnable(const struct vcpu *v)
{
	return !v->halted && !v->wait_for_sipi;
}

/* The backend in use; NULL when guests cannot run on this CPU. */
extern const struct vcpu_ops *vcpu_ops;

/* Probes every registered backend and enables the first usable one; it
 * also leaves SVM/VMX operation around firmware resets (INIT is blocked in
 * VMX root operation). */
void vcpu_select_backend(void);
const char *vcpu_backend_name(void);
/* Every registered backend describes its extension (the `cpu` command). */
void vcpu_describe_backends(vcpu_print_fn print, void *ctx);
/* Why guests cannot run, or NULL when a backend is available. */
const char *vcpu_unavailable_reason(void);

/* Queues an exception (e.g. #GP for an unknown MSR) for the next entry. */
void vcpu_queue_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
/* Queues a #PF for the next entry with CR2 = address, as the CPU loads it
 * when it raises the fault (error: the PF_ERR_* bits of hv/x86/trap.h). */
void vcpu_queue_page_fault(struct vcpu *v, uint64_t address, uint32_t error);

#endif
