/* The vendor-neutral virtual CPU.
 *
 * Generic code (hv/) sees guests only through this header: a vCPU's
 * registers and architectural state, a decoded exit, and an ops table that
 * the SVM (hv/svm) or VMX (hv/vmx) backend fills. The backend is chosen at
 * boot from CPUID; generic code never tests the vendor. */
#ifndef HV_VCPU_H
#define HV_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/mm/pagetable.h"

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

#define SEG_ATTR_P 0x80u
#define SEG_ATTR_L 0x200u
#define SEG_ATTR_DB 0x400u
#define SEG_ATTR_G 0x800u
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_DF (1ull << 10)
#define RFLAGS_RESERVED1 (1ull << 1)

/* Why a vCPU stopped running, decoded from the vendor's exit information. */
enum exit_kind {
	EXIT_NONE,                /* handled inside the backend: just re-enter */
	EXIT_EXTERNAL_INTERRUPT,  /* a host interrupt: give the host a turn */
	EXIT_INTERRUPT_WINDOW,    /* the guest can now take an interrupt */
	EXIT_IO,
	EXIT_CPUID,
	EXIT_RDMSR,
	EXIT_WRMSR,
	EXIT_HLT,
	EXIT_HYPERCALL,           /* VMMCALL / VMCALL */
	EXIT_MEMORY,              /* nested page fault / EPT violation */
	EXIT_XSETBV,
	EXIT_DIRTY_LOG_FULL,      /* the CPU's page-modification log is full */
	EXIT_TRIPLE_FAULT,
	EXIT_MACHINE_CHECK,       /* a host #MC arrived while the guest ran */
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

/* One table per vendor (BitVisor/Jailhouse style), picked at boot. */
struct vcpu_ops {
	const char *name;
	const struct pt_format *slpt_format; /* NPT or EPT entry format */

	int (*hw_enable)(void);                  /* SVM/VMX on for this CPU */
	void (*hw_disable)(void);                /* off again, before a reset */
	void (*hw_reenable)(void);               /* on again when the reset failed */
	int (*vm_init)(struct vm *vm);           /* per-VM vendor state */
	void (*vm_destroy)(struct vm *vm);
	int (*vcpu_create)(struct vcpu *v);
	void (*vcpu_destroy)(struct vcpu *v);

	/* Enters the guest until the next exit, decoded into *exit. */
	void (*run)(struct vcpu *v, struct vm_exit *exit);

	void (*get_state)(struct vcpu *v, struct vcpu_state *s);
	void (*set_state)(struct vcpu *v, const struct vcpu_state *s);

	/* Queues an event for the next entry. Interrupts only when
	 * can_take_interrupt() says so. */
	void (*inject)(struct vcpu *v, const struct vcpu_event *e);
	bool (*can_take_interrupt)(struct vcpu *v);
	/* Asks for EXIT_INTERRUPT_WINDOW as soon as interrupts are accepted. */
	void (*request_interrupt_window)(struct vcpu *v, bool on);

	/* After second-level table changes: drop cached guest translations. */
	void (*flush_guest_tlb)(struct vm *vm);

	/* Dirty tracking help (hv/dirty): which of VCPU_DIRTY_* the CPU offers;
	 * dirty bits set by the CPU in second-level leaves on or off; the
	 * page-modification log on or off, and emptied into entries (at most
	 * VCPU_PML_ENTRIES GPAs, low 12 bits undefined), returning the count. */
	unsigned (*dirty_hw_modes)(void);
	int (*slpt_dirty_bits)(struct vm *vm, bool on);
	int (*pml_enable)(struct vm *vm, bool on);
	size_t (*pml_drain)(struct vm *vm, uint64_t *entries);

	const char *(*exit_name)(uint32_t code);
	/* Exit codes map to statistics slots below VCPU_EXIT_STATS. */
	unsigned (*exit_slot)(uint32_t code);
	uint32_t (*slot_code)(unsigned slot);
};

#define VCPU_EXIT_STATS 256
#define VCPU_DIRTY_BITS 1u
#define VCPU_DIRTY_PML 2u
#define VCPU_PML_ENTRIES 512

struct vcpu {
	struct vm *vm;
	struct vcpu_regs regs;
	void *vendor;                 /* the backend's per-vCPU state */
	uint8_t fpu[512] __attribute__((aligned(16))); /* FXSAVE image */
	bool halted;
	bool pending_exception;
	struct vcpu_event exception;  /* queued by emulation (#GP, #UD...) */
	uint64_t exits;
	uint64_t exits_by_code[VCPU_EXIT_STATS]; /* index: backend stat slot */
	uint64_t exits_by_kind[EXIT_KIND_COUNT];
	uint64_t run_tsc;             /* TSC ticks spent in the guest */
	uint64_t msr_mtrr_def, msr_mtrr[27], msr_tsc_aux; /* emulated MSRs */
	struct vm_exit last_exit;
};

/* The backend in use; NULL when guests cannot run on this CPU. */
extern const struct vcpu_ops *vcpu_ops;

void vcpu_select_backend(void);
/* Leaves SVM/VMX operation (INIT is blocked in VMX root): before resets. */
void vcpu_hw_disable(void);
void vcpu_hw_reenable(void);
const char *vcpu_backend_name(void);
/* Why guests cannot run, or NULL when a backend is available. */
const char *vcpu_unavailable_reason(void);

/* Queues an exception (e.g. #GP for an unknown MSR) for the next entry. */
void vcpu_queue_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);

#endif
