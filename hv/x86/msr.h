/* Model-specific register numbers, all in one place (Intel SDM vol. 4,
 * AMD APM vol. 2 appendix A), and the bits of the ones whose fields are
 * used by more than one file. */
#ifndef HV_X86_MSR_H
#define HV_X86_MSR_H

/* Architectural and common to both vendors */
#define MSR_TSC 0x10u
#define MSR_PLATFORM_ID 0x17u
#define MSR_APIC_BASE 0x1bu
#define MSR_FEATURE_CONTROL 0x3au
#define MSR_BIOS_SIGN_ID 0x8bu
#define MSR_MTRR_CAP 0xfeu
#define MSR_SYSENTER_CS 0x174u
#define MSR_SYSENTER_ESP 0x175u
#define MSR_SYSENTER_EIP 0x176u
#define MSR_MCG_CAP 0x179u
#define MSR_PRED_CMD 0x49u       /* bit 0: IBPB */
#define MSR_ARCH_CAPABILITIES 0x10au
#define MSR_MCG_STATUS 0x17au
#define MSR_MCG_CTL 0x17bu
#define MSR_MISC_ENABLE 0x1a0u
#define MSR_MTRR_PHYS_FIRST 0x200u /* base/mask pairs up to 0x20f */
#define MSR_MTRR_PHYS_LAST 0x20fu
#define MSR_MTRR_FIX64K_00000 0x250u
#define MSR_MTRR_FIX16K_80000 0x258u
#define MSR_MTRR_FIX16K_A0000 0x259u
#define MSR_MTRR_FIX4K_FIRST 0x268u /* C0000 .. F8000 up to 0x26f */
#define MSR_MTRR_FIX4K_LAST 0x26fu
#define MSR_PAT 0x277u
#define MSR_MTRR_DEF_TYPE 0x2ffu
#define MSR_TSC_DEADLINE 0x6e0u
#define MSR_MC_CTL(bank) (0x400u + 4 * (bank))
#define MSR_MC_STATUS(bank) (0x401u + 4 * (bank))
#define MSR_MC_ADDR(bank) (0x402u + 4 * (bank))
#define MSR_MC_MISC(bank) (0x403u + 4 * (bank))
#define MSR_X2APIC_FIRST 0x800u /* xAPIC register offset >> 4 added */

/* Intel VMX capability reporting */
#define MSR_VMX_BASIC 0x480u
#define MSR_VMX_PINBASED_CTLS 0x481u
#define MSR_VMX_PROCBASED_CTLS 0x482u
#define MSR_VMX_EXIT_CTLS 0x483u
#define MSR_VMX_ENTRY_CTLS 0x484u
#define MSR_VMX_CR0_FIXED0 0x486u
#define MSR_VMX_CR0_FIXED1 0x487u
#define MSR_VMX_CR4_FIXED0 0x488u
#define MSR_VMX_CR4_FIXED1 0x489u
#define MSR_VMX_PROCBASED_CTLS2 0x48bu
#define MSR_VMX_EPT_VPID_CAP 0x48cu
#define MSR_VMX_TRUE_PINBASED_CTLS 0x48du
#define MSR_VMX_TRUE_PROCBASED_CTLS 0x48eu
#define MSR_VMX_TRUE_EXIT_CTLS 0x48fu
#define MSR_VMX_TRUE_ENTRY_CTLS 0x490u

/* AMD64 architectural (both vendors implement them in long mode) */
#define MSR_EFER 0xc0000080u
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_CSTAR 0xc0000083u
#define MSR_SFMASK 0xc0000084u
#define MSR_FS_BASE 0xc0000100u
#define MSR_GS_BASE 0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_TSC_AUX 0xc0000103u
/* KVM paravirtual clock (Documentation/virt/kvm/x86/msr.rst) */
#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00u
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u

/* AMD family 0Fh and later */
#define MSR_AMD_PERF_EVTSEL0 0xc0010000u /* legacy counters: 4 selects, then 4 counters */
#define MSR_AMD_PERF_CTR0 0xc0010004u
/* PerfEvtSel's reserved bits (APM vol. 2 13.2.1: 63:42, 39:36, 21, 19),
 * and the counters' width. */
#define AMD_PERF_SEL_RESERVED (0xfffffc0000000000ull | 0xf000000000ull | 1ull << 21 | 1ull << 19)
#define AMD_PERF_CTR_MASK ((1ull << 48) - 1)
#define MSR_AMD_SYSCFG 0xc0010010u
#define MSR_AMD_HWCR 0xc0010015u
#define MSR_AMD_INT_PENDING_MSG 0xc0010055u

/* AMD SVM */
#define MSR_VM_CR 0xc0010114u
#define MSR_VM_HSAVE_PA 0xc0010117u

#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define EFER_SVME (1ull << 12)

#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_X2APIC (1ull << 10)
#define APIC_BASE_ENABLE (1ull << 11)

#define FEATURE_CONTROL_LOCK (1ull << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ull << 2)

#define VM_CR_SVMDIS (1ull << 4)

#endif
