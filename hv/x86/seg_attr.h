/* Segment attributes in the 12-bit packed form that the VMCB uses and
 * struct vcpu_segment keeps (descriptor bits 40-47 and 52-55): shared by
 * the vCPU state and the instruction emulator's segment checks. */
#ifndef HV_X86_SEG_ATTR_H
#define HV_X86_SEG_ATTR_H

#define SEG_ATTR_TYPE 0x0fu    /* the descriptor type (below: for S=1) */
#define SEG_ATTR_TYPE_CODE 0x08u
#define SEG_ATTR_TYPE_DOWN 0x04u /* data: expand-down (code: conforming) */
#define SEG_ATTR_TYPE_RW 0x02u   /* data: writable (code: readable) */
#define SEG_ATTR_S 0x10u       /* code or data, not a system segment */
#define SEG_ATTR_DPL_SHIFT 5
#define SEG_ATTR_P 0x80u       /* present; clear for an unusable (null) segment */
#define SEG_ATTR_L 0x200u
#define SEG_ATTR_DB 0x400u
#define SEG_ATTR_G 0x800u

#endif
