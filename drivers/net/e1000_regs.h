/* Intel 8254x (e1000) and 82574 (e1000e) registers and legacy descriptors
 * used by the driver (Intel 8254x SDM, 82574 datasheet). */
#ifndef DRIVERS_NET_E1000_REGS_H
#define DRIVERS_NET_E1000_REGS_H

#include <stdint.h>

#define E1000_CTRL 0x0000
#define E1000_STATUS 0x0008
#define E1000_EERD 0x0014
#define E1000_ICR 0x00c0
#define E1000_IMC 0x00d8
#define E1000_RCTL 0x0100
#define E1000_TCTL 0x0400
#define E1000_TIPG 0x0410
#define E1000_RDBAL 0x2800
#define E1000_RDBAH 0x2804
#define E1000_RDLEN 0x2808
#define E1000_RDH 0x2810
#define E1000_RDT 0x2818
#define E1000_TDBAL 0x3800
#define E1000_TDBAH 0x3804
#define E1000_TDLEN 0x3808
#define E1000_TDH 0x3810
#define E1000_TDT 0x3818
#define E1000_RXCSUM 0x5000
#define E1000_MTA 0x5200
#define E1000_MTA_ENTRIES 128
#define E1000_RAL0 0x5400
#define E1000_RAH0 0x5404

#define E1000_CTRL_ASDE (1u << 5)
#define E1000_CTRL_SLU (1u << 6)
#define E1000_CTRL_RST (1u << 26)
#define E1000_STATUS_LU (1u << 1)
#define E1000_RAH_AV (1u << 31)

#define E1000_RCTL_EN (1u << 1)
#define E1000_RCTL_BAM (1u << 15)
#define E1000_RCTL_BSIZE_2048 (0u << 16)
#define E1000_RCTL_SECRC (1u << 26)

#define E1000_TCTL_EN (1u << 1)
#define E1000_TCTL_PSP (1u << 3)
#define E1000_TCTL_CT(x) ((uint32_t)(x) << 4)
#define E1000_TCTL_COLD(x) ((uint32_t)(x) << 12)
#define E1000_TIPG_DEFAULT (10u | 8u << 10 | 6u << 20)

/* EEPROM read register: the done bit and address shift differ. */
#define E1000_EERD_START 1u
#define E1000_EERD_DONE_8254X (1u << 4)
#define E1000_EERD_ADDR_SHIFT_8254X 8
#define E1000_EERD_DONE_82574 (1u << 1)
#define E1000_EERD_ADDR_SHIFT_82574 2

struct e1000_rx_desc {
	uint64_t addr;
	uint16_t length;
	uint16_t checksum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
};

struct e1000_tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;
	uint8_t status;
	uint8_t css;
	uint16_t special;
};

/* Transmit context descriptor (DEXT set, DTYP 0): where the device puts the
 * TCP/UDP checksum of the data descriptors that follow and ask for it. */
struct e1000_tx_ctx_desc {
	uint8_t ipcss, ipcso;
	uint16_t ipcse;
	uint8_t tucss, tucso;
	uint16_t tucse;     /* 0: to the end of the frame */
	uint32_t cmd_len;   /* PAYLEN 19:0, DTYP 23:20, TUCMD 31:24 */
	uint8_t status;
	uint8_t hdr_len;
	uint16_t mss;
};

#define E1000_TXD_DTYP_DATA (1u << 20) /* in the data/context dword */
#define E1000_TUCMD_TCP (1u << 24)
#define E1000_TUCMD_IP (1u << 25)
#define E1000_TUCMD_RS (1u << 27)
#define E1000_TXD_DEXT (1u << 29)
/* Data descriptor (DEXT set, DTYP 1): struct e1000_tx_desc with cso holding
 * DTYP, cmd DCMD and css the packet options (POPTS). */
#define E1000_TXD_DATA_CSO (E1000_TXD_DTYP_DATA >> 16)
#define E1000_TXD_CMD_DEXT 0x20
#define E1000_TXD_POPTS_TXSM 0x02

#define E1000_RXCSUM_IPOFLD (1u << 8)
#define E1000_RXCSUM_TUOFLD (1u << 9)

#define E1000_RXD_STAT_DD 0x01
#define E1000_RXD_STAT_EOP 0x02
#define E1000_RXD_STAT_IXSM 0x04  /* ignore the checksum indications */
#define E1000_RXD_STAT_TCPCS 0x20 /* TCP/UDP checksum checked (errors.TCPE: bad) */
#define E1000_TXD_CMD_EOP 0x01
#define E1000_TXD_CMD_IFCS 0x02
#define E1000_TXD_CMD_RS 0x08
#define E1000_TXD_STAT_DD 0x01

#endif
