/* NVMe constants, from the NVM Express Base Specification 1.4 (section
 * and figure numbers of that revision). */
#ifndef DRIVERS_BLOCK_NVME_REGS_H
#define DRIVERS_BLOCK_NVME_REGS_H

/* PCI class code 01h (mass storage), subclass 08h (non-volatile memory),
 * programming interface 02h (NVM Express), section 2.1.5. */
#define NVME_PCI_CLASS 0x01
#define NVME_PCI_SUBCLASS 0x08
#define NVME_PCI_PROG_IF 0x02

/* Controller registers in BAR0 (section 3.1, figure 78). */
#define NVME_REG_CAP 0x00  /* 64 bits */
#define NVME_REG_VS 0x08
#define NVME_REG_INTMS 0x0c
#define NVME_REG_CC 0x14
#define NVME_REG_CSTS 0x1c
#define NVME_REG_AQA 0x24
#define NVME_REG_ASQ 0x28  /* 64 bits */
#define NVME_REG_ACQ 0x30  /* 64 bits */
#define NVME_REG_DOORBELLS 0x1000

/* CAP (3.1.1). */
#define NVME_CAP_MQES(c) ((uint32_t)((c) & 0xffff))        /* max entries, 0-based */
#define NVME_CAP_TO(c) ((uint32_t)(((c) >> 24) & 0xff))    /* 500 ms units */
#define NVME_CAP_DSTRD(c) ((uint32_t)(((c) >> 32) & 0xf))  /* stride 2^(2+DSTRD) */
#define NVME_CAP_CSS_NVM(c) (((c) >> 37) & 1)
#define NVME_CAP_MPSMIN(c) ((uint32_t)(((c) >> 48) & 0xf)) /* 2^(12+MPSMIN) */

/* CC (3.1.5): EN, CSS = NVM (0), MPS = 4 KiB (0), AMS round robin (0),
 * IOSQES = 2^6 = 64 bytes, IOCQES = 2^4 = 16 bytes. */
#define NVME_CC_EN (1u << 0)
#define NVME_CC_SHN_MASK (3u << 14)
#define NVME_CC_IOSQES(n) ((uint32_t)(n) << 16)
#define NVME_CC_IOCQES(n) ((uint32_t)(n) << 20)

/* CSTS (3.1.6). */
#define NVME_CSTS_RDY (1u << 0)
#define NVME_CSTS_CFS (1u << 1) /* controller fatal status */

/* AQA (3.1.8): admin SQ size bits 11:0, CQ size bits 27:16, both 0-based. */
#define NVME_AQA(sq, cq) ((uint32_t)((sq) - 1) | (uint32_t)((cq) - 1) << 16)

/* Admin command opcodes (figure 139). */
#define NVME_ADMIN_CREATE_SQ 0x01
#define NVME_ADMIN_CREATE_CQ 0x05
#define NVME_ADMIN_IDENTIFY 0x06

/* Identify CNS values (figure 244). */
#define NVME_CNS_NAMESPACE 0x00
#define NVME_CNS_CONTROLLER 0x01

/* Create I/O queue dwords (figures 150, 154): CDW10 QSIZE (0-based) in
 * 31:16, QID in 15:0; CDW11 of a CQ: IEN bit 1, PC bit 0; of an SQ: CQID
 * 31:16, PC bit 0. */
#define NVME_QUEUE_CDW10(qid, size) ((uint32_t)((size) - 1) << 16 | (qid))
#define NVME_CQ_PC 1u
#define NVME_SQ_CDW11(cqid) ((uint32_t)(cqid) << 16 | 1u)

/* Identify Controller fields (figure 247). */
#define NVME_IDC_MN 24    /* model number, 40 ASCII bytes, space padded */
#define NVME_IDC_MN_LEN 40
#define NVME_IDC_MDTS 77  /* max transfer: 2^MDTS minimum pages, 0 = no limit */
#define NVME_IDC_NN 516   /* number of namespaces, 32 bits */
#define NVME_IDC_VWC 525  /* bit 0: a volatile write cache is present */

/* Identify Namespace fields (figure 249, 250). */
#define NVME_IDNS_NSZE 0  /* size in logical blocks, 64 bits */
#define NVME_IDNS_NLBAF 25 /* number of LBA formats, 0-based */
#define NVME_IDNS_FLBAS 26 /* bits 3:0: the format in use */
#define NVME_IDNS_NSATTR 99 /* bit 0: write protected */
#define NVME_IDNS_LBAF0 128 /* 4 bytes each: LBADS in bits 23:16 */

/* NVM command set opcodes (NVM Command Set, figure 346 of 1.4). */
#define NVME_CMD_FLUSH 0x00
#define NVME_CMD_WRITE 0x01
#define NVME_CMD_READ 0x02
/* Read/Write CDW12 (6.9, 6.15): NLB 0-based in 15:0, FUA bit 30. */
#define NVME_RW_FUA (1u << 30)

#endif
