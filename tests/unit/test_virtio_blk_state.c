/* The virtio-blk state blob (docs/device-state.md): the exact layout, a
 * round trip in the middle of a driver's life (the destination carries on
 * with the same queue), every refusal rule, and refusals changing
 * nothing. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hv/lib/byteorder.h"
#include "hv/vdev/virtio_blk.h"
#include "state_test.h"
#include "test_virtio_blk_harness.h"

enum {
	VERSION = 0, STATUS = 1, ISR = 2, GENERATION = 3, DEV_FSEL = 4, DRV_FSEL = 8,
	DRV_FEATURES = 12, QSEL = 20, QSIZE = 22, QENABLE = 24, RO = 25, MSIX = 26, QMSIX = 28,
	LAST_AVAIL = 30, USED_IDX = 32, RESERVED1 = 34, QDESC = 36, QDRIVER = 44, QDEVICE = 52,
	CAPACITY = 60, SERIAL = 68, RESERVED2 = 88,
};

TestSuite(vblk_state, .fini = vbt_teardown);

static void busy(void)
{
	uint32_t len;

	vbt_setup(false, false);
	vbt_probe();
	vbt_start(16);
	for (unsigned i = 0; i < 5; i++)
		cr_assert_eq(vbt_request(4, 0, 0, &len), 0);
	vbt_common_write(0x00, 4, 1);
}

Test(vblk_state, layout)
{
	uint8_t blob[VBLK_STATE_SIZE + 4];

	busy();
	cr_assert_eq(vblk_save(&vbt->dev, blob, VBLK_STATE_SIZE - 1), 0u, "too small");
	cr_assert_eq(vblk_save(&vbt->dev, blob, sizeof(blob)), (size_t)VBLK_STATE_SIZE);
	cr_assert_eq(blob[VERSION], 1);
	cr_assert_eq(blob[STATUS], 0x0f);
	cr_assert_eq(blob[ISR], VBLK_ISR_QUEUE);
	cr_assert_eq(blob[GENERATION], 0);
	cr_assert_eq(get_le32(blob + DEV_FSEL), 1);
	cr_assert_eq(get_le32(blob + DRV_FSEL), 1);
	cr_assert_eq(get_le64(blob + DRV_FEATURES), VBLK_F_VERSION_1 | VBLK_F_FLUSH);
	cr_assert_eq(get_le16(blob + QSEL), 0);
	cr_assert_eq(get_le16(blob + QSIZE), 16);
	cr_assert_eq(blob[QENABLE], 1);
	cr_assert_eq(blob[RO], 0);
	cr_assert_eq(get_le16(blob + MSIX), 0xffff);
	cr_assert_eq(get_le16(blob + QMSIX), 0xffff);
	cr_assert_eq(get_le16(blob + LAST_AVAIL), 5);
	cr_assert_eq(get_le16(blob + USED_IDX), 5);
	cr_assert_eq(get_le16(blob + RESERVED1), 0);
	cr_assert_eq(get_le64(blob + QDESC), VBT_DESC);
	cr_assert_eq(get_le64(blob + QDRIVER), VBT_AVAIL);
	cr_assert_eq(get_le64(blob + QDEVICE), VBT_USED);
	cr_assert_eq(get_le64(blob + CAPACITY), VBT_DISK_SECTORS);
	cr_assert_eq(memcmp(blob + SERIAL, "vbt-serial-0001\0\0\0\0\0", 20), 0);
	cr_assert_eq(get_le64(blob + RESERVED2), 0);
}

/* Migrated mid-life: the destination (a fresh device on the same disk and
 * the same guest memory) takes the next request where the source left. */
Test(vblk_state, round_trip_carries_on)
{
	uint8_t blob[VBLK_STATE_SIZE], again[VBLK_STATE_SIZE];
	char err[160];
	uint32_t len;

	busy();
	cr_assert(vbt->line);
	cr_assert_eq(vblk_save(&vbt->dev, blob, sizeof(blob)), (size_t)VBLK_STATE_SIZE);
	struct vblk_mem mem = vbt->dev.mem;
	struct vblk_backend be = vbt->dev.backend;
	struct irq_line irq = vbt->dev.irq;
	uint8_t config[VPCI_CONFIG_SIZE];
	memcpy(config, vbt->dev.pci.bytes, sizeof(config));
	vblk_init(&vbt->dev, VBT_DISK_SECTORS, false, "vbt-serial-0001", &mem, &be, &irq);
	memcpy(vbt->dev.pci.bytes, config, sizeof(config)); /* what vpci_load restores */
	vbt->line = false;
	unsigned changes = vbt->line_changes;
	cr_assert_eq(vblk_load(&vbt->dev, blob, sizeof(blob), err, sizeof(err)), 0, "%s", err);
	cr_assert(vbt->line, "the line re-driven from the ISR");
	cr_assert_eq(vbt->line_changes, changes + 1);
	cr_assert_eq(vblk_save(&vbt->dev, again, sizeof(again)), (size_t)VBLK_STATE_SIZE);
	cr_assert_eq(memcmp(blob, again, sizeof(blob)), 0);
	cr_assert_eq(vbt_read(vbt->isr, 1), VBLK_ISR_QUEUE);
	cr_assert_eq(vbt_request(1, 3, 512, &len), 0, "the queue goes on");
	cr_assert_eq(vbt->dev.used_idx, 6);
	cr_assert_eq(vbt_used_idx(), 6);
}

/* A fresh device's blob loads into a fresh device. */
Test(vblk_state, fresh)
{
	uint8_t blob[VBLK_STATE_SIZE];
	char err[160];

	vbt_setup(true, false);
	cr_assert_eq(vblk_save(&vbt->dev, blob, sizeof(blob)), (size_t)VBLK_STATE_SIZE);
	cr_assert_eq(blob[RO], 1);
	cr_assert_eq(get_le16(blob + QSIZE), VBLK_QUEUE_MAX);
	cr_assert_eq(vblk_load(&vbt->dev, blob, sizeof(blob), err, sizeof(err)), 0, "%s", err);
	cr_assert_not(vbt->line);
}

static const struct st_case cases[] = {
	{ { { VERSION, 1, 2 } }, "version 2, expected 1" },
	{ { { RESERVED1, 2, 1 } }, "reserved bytes not 0" },
	{ { { RESERVED2 + 7, 1, 0x80 } }, "reserved bytes not 0" },
	{ { { CAPACITY, 8, 4096 } }, "another disk: capacity 4096 ro 0, here 2048 ro 0" },
	{ { { RO, 1, 1 } }, "another disk: capacity 2048 ro 1" },
	{ { { RO, 1, 2 } }, "read_only: 2 is not 0 or 1" },
	{ { { SERIAL + 3, 1, 'X' } }, "the serial differs" },
	{ { { GENERATION, 1, 1 } }, "config_generation 1, the device has 0" },
	{ { { STATUS, 1, 0x1f } }, "status 0x1f: unknown bits" },
	{ { { STATUS, 1, 0x2f } }, "status 0x2f: unknown bits" },
	{ { { DRV_FEATURES, 8, VBLK_F_FLUSH } }, "FEATURES_OK with driver features 0x200" },
	{ { { DRV_FEATURES, 8, VBLK_F_VERSION_1 | VBLK_F_RO } }, "FEATURES_OK with driver" },
	{ { { DRV_FEATURES, 8, VBLK_F_VERSION_1 | 1ull << 28 } }, "FEATURES_OK with driver" },
	{ { { ISR, 1, 4 } }, "isr 0x04: only bits 0 and 1" },
	{ { { MSIX, 2, 0 } }, "MSI-X vectors 0x0000/0xffff without MSI-X" },
	{ { { QMSIX, 2, 1 } }, "MSI-X vectors 0xffff/0x0001" },
	{ { { QSIZE, 2, 0 } }, "queue_size 0: not a power of two up to 256" },
	{ { { QSIZE, 2, 24 } }, "queue_size 24" },
	{ { { QSIZE, 2, 512 } }, "queue_size 512" },
	{ { { QENABLE, 1, 3 } }, "queue_enable: 3 is not 0 or 1" },
	{ { { QDESC, 8, 0x1008 } }, "enabled queue misaligned: desc 0x1008" },
	{ { { QDRIVER, 8, 0x2001 } }, "enabled queue misaligned" },
	{ { { QDEVICE, 8, 0x3002 } }, "enabled queue misaligned" },
	{ { { LAST_AVAIL, 2, 6 } }, "last_avail 6 differs from used_idx 5" },
	{ { { QENABLE, 1, 0 } }, "used_idx 5 on a queue never enabled" },
};

Test(vblk_state, refusals_change_nothing)
{
	uint8_t good[VBLK_STATE_SIZE], blob[VBLK_STATE_SIZE + 1];
	char err[160];

	busy();
	cr_assert_eq(vblk_save(&vbt->dev, good, sizeof(good)), (size_t)VBLK_STATE_SIZE);
	struct vblk *before = malloc(sizeof(struct vblk));
	cr_assert(before);
	memcpy(before, &vbt->dev, sizeof(*before));
	bool line = vbt->line;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(blob, good, sizeof(good));
		st_apply_case(blob, &cases[i]);
		st_assert_error(vblk_load(&vbt->dev, blob, VBLK_STATE_SIZE, err, sizeof(err)), err,
				cases[i].want);
		cr_assert_eq(memcmp(before, &vbt->dev, sizeof(*before)), 0, "case %zu changed it",
			     i);
		cr_assert_eq(vbt->line, line);
	}
	memcpy(blob, good, sizeof(good));
	st_assert_error(vblk_load(&vbt->dev, blob, VBLK_STATE_SIZE - 1, err, sizeof(err)), err,
			"vblk: state is 95 bytes, expected 96");
	st_assert_error(vblk_load(&vbt->dev, blob, VBLK_STATE_SIZE + 1, err, sizeof(err)), err,
			"state is 97 bytes");
	cr_assert_eq(memcmp(before, &vbt->dev, sizeof(*before)), 0);
	free(before);
}

/* What a guest can reach loads: a queue not yet enabled with any
 * addresses, a legacy driver's features without FEATURES_OK, selectors of
 * any value, NEEDS_RESET. */
Test(vblk_state, reachable_states_load)
{
	uint8_t blob[VBLK_STATE_SIZE];
	char err[160];

	vbt_setup(false, false);
	vblk_save(&vbt->dev, blob, sizeof(blob));
	st_apply(blob, &(struct st_patch){ QDESC, 8, 0x1235 });
	st_apply(blob, &(struct st_patch){ DRV_FEATURES, 8, ~0ull });
	st_apply(blob, &(struct st_patch){ STATUS, 1, 0xc7 });
	st_apply(blob, &(struct st_patch){ QSEL, 2, 0xffff });
	st_apply(blob, &(struct st_patch){ DEV_FSEL, 4, 0x12345678 });
	st_apply(blob, &(struct st_patch){ QSIZE, 2, 1 });
	st_apply(blob, &(struct st_patch){ ISR, 1, 3 });
	cr_assert_eq(vblk_load(&vbt->dev, blob, sizeof(blob), err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(vbt->dev.queue_desc, 0x1235);
	cr_assert_eq(vbt->dev.status, 0xc7);
	cr_assert(vbt->line);
	uint8_t again[VBLK_STATE_SIZE];
	vblk_save(&vbt->dev, again, sizeof(again));
	cr_assert_eq(memcmp(blob, again, sizeof(blob)), 0);
}
