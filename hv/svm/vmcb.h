/* AMD VMCB layout (AMD64 APM vol. 2, appendix B). Offsets are checked at
 * compile time below. */
#ifndef HV_SVM_VMCB_H
#define HV_SVM_VMCB_H

#include <stddef.h>
#include <stdint.h>

struct vmcb_control {
	uint32_t intercept_cr;          /* 0x000: reads 15:0, writes 31:16 */
	uint32_t intercept_dr;          /* 0x004 */
	uint32_t intercept_exceptions;  /* 0x008 */
	uint32_t intercept_misc1;       /* 0x00c */
	uint32_t intercept_misc2;       /* 0x010 */
	uint32_t intercept_misc3;       /* 0x014 */
	uint8_t reserved_018[0x03c - 0x018];
	uint16_t pause_filter_threshold;/* 0x03c */
	uint16_t pause_filter_count;    /* 0x03e */
	uint64_t iopm_base_pa;          /* 0x040 */
	uint64_t msrpm_base_pa;         /* 0x048 */
	uint64_t tsc_offset;            /* 0x050 */
	uint32_t guest_asid;            /* 0x058 */
	uint8_t tlb_control;            /* 0x05c */
	uint8_t reserved_05d[3];
	uint64_t int_ctl;               /* 0x060 */
	uint64_t int_state;             /* 0x068: bit 0 interrupt shadow */
	uint64_t exit_code;             /* 0x070 */
	uint64_t exit_info1;            /* 0x078 */
	uint64_t exit_info2;            /* 0x080 */
	uint64_t exit_int_info;         /* 0x088 */
	uint64_t np_control;            /* 0x090: bit 0 NP_ENABLE */
	uint64_t avic_apic_bar;         /* 0x098 */
	uint64_t ghcb_pa;               /* 0x0a0 */
	uint64_t event_inj;             /* 0x0a8 */
	uint64_t n_cr3;                 /* 0x0b0 */
	uint64_t lbr_virt;              /* 0x0b8 */
	uint32_t clean_bits;            /* 0x0c0 */
	uint32_t reserved_0c4;
	uint64_t next_rip;              /* 0x0c8 */
	uint8_t insn_len;               /* 0x0d0 */
	uint8_t insn_bytes[15];         /* 0x0d1 */
	uint8_t reserved_0e0[0x400 - 0x0e0];
};

struct vmcb_seg {
	uint16_t selector;
	uint16_t attrib;
	uint32_t limit;
	uint64_t base;
};

struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x000-0x09f */
	uint8_t reserved_0a0[0x0cb - 0x0a0];
	uint8_t cpl;                    /* 0x0cb */
	uint32_t reserved_0cc;
	uint64_t efer;                  /* 0x0d0 */
	uint8_t reserved_0d8[0x148 - 0x0d8];
	uint64_t cr4;                   /* 0x148 */
	uint64_t cr3;                   /* 0x150 */
	uint64_t cr0;                   /* 0x158 */
	uint64_t dr7;                   /* 0x160 */
	uint64_t dr6;                   /* 0x168 */
	uint64_t rflags;                /* 0x170 */
	uint64_t rip;                   /* 0x178 */
	uint8_t reserved_180[0x1d8 - 0x180];
	uint64_t rsp;                   /* 0x1d8 */
	uint64_t s_cet, ssp, isst_addr; /* 0x1e0 */
	uint64_t rax;                   /* 0x1f8 */
	uint64_t star;                  /* 0x200 */
	uint64_t lstar;                 /* 0x208 */
	uint64_t cstar;                 /* 0x210 */
	uint64_t sfmask;                /* 0x218 */
	uint64_t kernel_gs_base;        /* 0x220 */
	uint64_t sysenter_cs;           /* 0x228 */
	uint64_t sysenter_esp;          /* 0x230 */
	uint64_t sysenter_eip;          /* 0x238 */
	uint64_t cr2;                   /* 0x240 */
	uint8_t reserved_248[0x268 - 0x248];
	uint64_t g_pat;                 /* 0x268 */
	uint64_t dbgctl;                /* 0x270 */
};

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
} __attribute__((aligned(4096)));

_Static_assert(offsetof(struct vmcb_control, iopm_base_pa) == 0x40, "vmcb");
_Static_assert(offsetof(struct vmcb_control, guest_asid) == 0x58, "vmcb");
_Static_assert(offsetof(struct vmcb_control, int_ctl) == 0x60, "vmcb");
_Static_assert(offsetof(struct vmcb_control, exit_code) == 0x70, "vmcb");
_Static_assert(offsetof(struct vmcb_control, np_control) == 0x90, "vmcb");
_Static_assert(offsetof(struct vmcb_control, event_inj) == 0xa8, "vmcb");
_Static_assert(offsetof(struct vmcb_control, n_cr3) == 0xb0, "vmcb");
_Static_assert(offsetof(struct vmcb_control, next_rip) == 0xc8, "vmcb");
_Static_assert(sizeof(struct vmcb_control) == 0x400, "vmcb");
_Static_assert(offsetof(struct vmcb_save, cpl) == 0xcb, "vmcb");
_Static_assert(offsetof(struct vmcb_save, efer) == 0xd0, "vmcb");
_Static_assert(offsetof(struct vmcb_save, cr4) == 0x148, "vmcb");
_Static_assert(offsetof(struct vmcb_save, rip) == 0x178, "vmcb");
_Static_assert(offsetof(struct vmcb_save, rsp) == 0x1d8, "vmcb");
_Static_assert(offsetof(struct vmcb_save, rax) == 0x1f8, "vmcb");
_Static_assert(offsetof(struct vmcb_save, kernel_gs_base) == 0x220, "vmcb");
_Static_assert(offsetof(struct vmcb_save, cr2) == 0x240, "vmcb");
_Static_assert(offsetof(struct vmcb_save, g_pat) == 0x268, "vmcb");

/* intercept_misc1 */
#define SVM_INTERCEPT_INTR (1u << 0)
#define SVM_INTERCEPT_NMI (1u << 1)
#define SVM_INTERCEPT_SMI (1u << 2)
#define SVM_INTERCEPT_INIT (1u << 3)
#define SVM_INTERCEPT_VINTR (1u << 4)
#define SVM_INTERCEPT_RDPMC (1u << 15)
#define SVM_INTERCEPT_CPUID (1u << 18)
#define SVM_INTERCEPT_INVD (1u << 22)
#define SVM_INTERCEPT_PAUSE (1u << 23)
#define SVM_INTERCEPT_HLT (1u << 24)
#define SVM_INTERCEPT_INVLPGA (1u << 26)
#define SVM_INTERCEPT_IOIO (1u << 27)
#define SVM_INTERCEPT_MSR (1u << 28)
#define SVM_INTERCEPT_SHUTDOWN (1u << 31)
/* intercept_misc2 */
#define SVM_INTERCEPT_VMRUN (1u << 0)
#define SVM_INTERCEPT_VMMCALL (1u << 1)
#define SVM_INTERCEPT_VMLOAD (1u << 2)
#define SVM_INTERCEPT_VMSAVE (1u << 3)
#define SVM_INTERCEPT_STGI (1u << 4)
#define SVM_INTERCEPT_CLGI (1u << 5)
#define SVM_INTERCEPT_SKINIT (1u << 6)
#define SVM_INTERCEPT_WBINVD (1u << 9)
#define SVM_INTERCEPT_MONITOR (1u << 10)
#define SVM_INTERCEPT_MWAIT (1u << 11)
#define SVM_INTERCEPT_MWAIT_COND (1u << 12)
#define SVM_INTERCEPT_XSETBV (1u << 13)

/* int_ctl */
#define SVM_V_IRQ (1ull << 8)
#define SVM_V_INTR_PRIO_SHIFT 16
#define SVM_V_IGN_TPR (1ull << 20)
#define SVM_V_INTR_MASKING (1ull << 24)

#define SVM_TLB_NONE 0
#define SVM_TLB_FLUSH_ALL 1
#define SVM_TLB_FLUSH_ASID 3

/* event_inj / exit_int_info */
#define SVM_EVENT_VALID (1ull << 31)
#define SVM_EVENT_ERROR_VALID (1ull << 11)
#define SVM_EVENT_TYPE_SHIFT 8


#endif
