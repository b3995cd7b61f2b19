/* Intel VMX backend, behind struct vcpu_ops. */
#ifndef HV_VMX_VMX_H
#define HV_VMX_VMX_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/vm/vcpu.h"
#include "hv/vmx/vmx_bits.h"

/* What VMXON found, negotiated once at boot (vmx_caps.c). */
struct vmx_caps {
	uint32_t revision;
	uint32_t pin, proc, proc2, exit, entry; /* control values every VMCS starts with */
	struct vmx_cr_rules cr0, cr4;           /* cr0 with PE/PG released if unrestricted */
	bool unrestricted, vpid, inout_info, ept_ad, invept_single, invvpid_single;
};

/* Syscall MSRs have no VMCS fields: they are switched lazily (vmx_msr.c). */
enum { VMX_MSR_STAR, VMX_MSR_LSTAR, VMX_MSR_CSTAR, VMX_MSR_SFMASK, VMX_MSR_KGS_BASE,
	VMX_SWITCHED_MSRS };

struct vmx_vcpu {
	uint64_t vmcs_pa;
	bool launched;       /* VMLAUNCH done since the last VMCLEAR */
	uint16_t vpid;       /* 0: VPID not in use */
	uint64_t cr2;        /* VMX does not switch CR2: vmx_run does */
	uint64_t msrs[VMX_SWITCHED_MSRS];
	uint64_t pml_pa;     /* page-modification log, 0 when off */
};

struct vmx_vm {
	uint64_t eptp;
};

/* What probing found (vmx_probe.c), read once at boot. */
struct vmx_features {
	bool present, locked_off;
	bool ept, vpid, unrestricted_guest, ept_ad, pml, ept_2m, ept_1g, ept_wb, ept_4level;
	uint64_t basic, ept_vpid_cap;
};

extern struct vmx_features vmx_features;
extern struct vmx_caps vmx_caps;

enum vcpu_probe vmx_probe(const char **reason);
void vmx_describe(vcpu_print_fn print, void *ctx);

/* vmx_on.c: VMXON on this CPU. */
int vmx_hw_enable(void);
const char *vmx_hw_enable_cpu(void);
void vmx_hw_disable(void);
void vmx_hw_reenable(void);

/* vmx_caps.c: reads the capability MSRs; NULL or the reason VMX is unusable. */
const char *vmx_caps_init(void);

/* vmx.c: makes v's VMCS the current one (VMPTRLD when it is not). */
void vmx_load_vmcs(struct vcpu *v);
/* VMCLEARs every vCPU's VMCS (contents to memory, next entry launches). */
void vmx_clear_all_vmcs(void);

/* vmx_state.c */
void vmx_get_state(struct vcpu *v, struct vcpu_state *s);
void vmx_set_state(struct vcpu *v, const struct vcpu_state *s);

/* vmx_host.c: the host half of a VMCS (this CPU's tables and registers). */
void vmx_write_host_state(void);
/* The calling CPU gives up the vCPU's syscall MSRs (into the vCPU). */
void vmx_msr_put(struct vcpu *v);

/* vmx_msr.c */
int vmx_msr_init(void);
uint64_t vmx_msr_bitmap_pa(void);
/* Puts v's syscall MSRs in the CPU before it runs. */
void vmx_msr_switch_to(struct vcpu *v);
/* The CPU's values back into whoever owns them (before reading state). */
void vmx_msr_sync(struct vcpu *v);
void vmx_msr_forget(struct vcpu *v);

/* vmx_cr.c: MOV to CR0/CR4, LMSW, CLTS that touched host-owned bits. */
void vmx_handle_cr_access(struct vcpu *v, struct vm_exit *e, uint64_t qualification);
/* Loads PAE PDPTEs from guest memory when the guest uses PAE paging. */
void vmx_load_pdptes(struct vcpu *v);

/* vmx_exit.c */
void vmx_decode_exit(struct vcpu *v, struct vm_exit *e);
const char *vmx_exit_name(uint32_t code);
unsigned vmx_exit_slot(uint32_t code);
uint32_t vmx_slot_code(unsigned slot);
#define VMX_EXIT_VMFAIL 0xfffeu /* VMLAUNCH/VMRESUME refused: not an exit */

/* vmx_entry.S: 0 after a VM exit, 1 when the entry instruction failed. */
int vmx_enter(struct vcpu_regs *regs, int launched);

/* vmx_dirty.c: EPT A/D bits and PML behind the dirty-log operations. */
unsigned vmx_dirty_modes(void);
int vmx_dirty_start(struct vm *vm, enum dirty_mode mode);
void vmx_dirty_stop(struct vm *vm, enum dirty_mode mode);
void vmx_dirty_collect(struct vcpu *v, struct dirty_track *track);

/* INVEPT/INVVPID wrappers (vmx_tlb.c). */
void vmx_invept(uint64_t eptp);
void vmx_invvpid(uint16_t vpid);

#endif
