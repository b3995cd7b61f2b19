/* Writes seed inputs for fuzz_device_state: for each device the blob of a
 * device fresh from init and of one a guest has programmed, each prefixed
 * with the byte that picks the device in the fuzz target.
 *
 *     gen_device_seeds OUTDIR */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "hv/vdev/vacpi_pm.h"
#include "hv/vdev/vioapic.h"
#include "hv/vdev/vlapic.h"
#include "hv/vdev/vpci.h"
#include "hv/vdev/vpic.h"
#include "hv/vdev/vpit.h"
#include "hv/vdev/virtio_blk.h"
#include "hv/vdev/vrtc.h"
#include "hv/vdev/vuart.h"

static const char *outdir;
static uint8_t blob[VPCI_STATE_MAX_SIZE + 1];

static int put(const char *name, unsigned selector, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	FILE *f = fopen(path, "wb");
	if (!f || len == 0) {
		fprintf(stderr, "gen_device_seeds: cannot write %s\n", path);
		return 1;
	}
	fputc((int)selector, f);
	fwrite(blob + 1, 1, len, f);
	return fclose(f) != 0;
}

static bool accept_message(void *ctx, const struct apic_msg *m)
{
	(void)ctx;
	(void)m;
	return true;
}

static void ignore_tx(void *ctx, uint8_t byte)
{
	(void)ctx;
	(void)byte;
}

static int pic_seeds(void)
{
	struct vpic pic;
	vpic_init(&pic, NULL);
	int bad = put("pic-reset", 0, vpic_save(&pic, blob + 1, sizeof(blob) - 1));
	/* ICW1-4 as Linux writes them, then a mask and a raised line. */
	const uint8_t master[] = { 0x11, 0x30, 0x04, 0x01 }, slave[] = { 0x11, 0x38, 0x02, 0x01 };
	vpic_write(&pic, 0x20, 1, master[0]);
	for (int i = 1; i < 4; i++)
		vpic_write(&pic, 0x21, 1, master[i]);
	vpic_write(&pic, 0xa0, 1, slave[0]);
	for (int i = 1; i < 4; i++)
		vpic_write(&pic, 0xa1, 1, slave[i]);
	vpic_write(&pic, 0x21, 1, 0xfa);
	vpic_set_irq(&pic, 0, true);
	return bad | put("pic-programmed", 0, vpic_save(&pic, blob + 1, sizeof(blob) - 1));
}

static int pit_seeds(void)
{
	struct vpit pit;
	vpit_init(&pit, NULL, 0);
	int bad = put("pit-reset", 1, vpit_save(&pit, blob + 1, sizeof(blob) - 1));
	vpit_write(&pit, 0x43, 1, 0x34, 1000); /* counter 0, lo/hi, mode 2 */
	vpit_write(&pit, 0x40, 1, 0x9c, 2000);
	vpit_write(&pit, 0x40, 1, 0x2e, 3000);
	vpit_write(&pit, 0x61, 1, 0x01, 4000); /* gate counter 2 */
	vpit_write(&pit, 0x43, 1, 0xb0, 5000); /* counter 2, lo/hi, mode 0 */
	vpit_write(&pit, 0x42, 1, 0xff, 6000);
	vpit_advance(&pit, 50000000);
	return bad | put("pit-programmed", 1, vpit_save(&pit, blob + 1, sizeof(blob) - 1));
}

static int ioapic_seeds(void)
{
	struct vioapic io;
	vioapic_init(&io, accept_message, NULL);
	int bad = put("ioapic-reset", 2, vioapic_save(&io, blob + 1, sizeof(blob) - 1));
	vioapic_write(&io, 0x00, 4, 0x14); /* redirection entry 2, low half */
	vioapic_write(&io, 0x10, 4, 0x30);
	vioapic_write(&io, 0x00, 4, 0x22); /* entry 9: level, active low */
	vioapic_write(&io, 0x10, 4, 0xa039);
	vioapic_set_irq(&io, 9, true);
	return bad | put("ioapic-programmed", 2, vioapic_save(&io, blob + 1, sizeof(blob) - 1));
}

static int rtc_seeds(void)
{
	struct vrtc rtc;
	vrtc_init(&rtc, 1700000000, 0, NULL);
	int bad = put("rtc-reset", 3, vrtc_save(&rtc, blob + 1, sizeof(blob) - 1));
	vrtc_write(&rtc, 0, 0x0b, 0);
	vrtc_write(&rtc, 1, 0x52, 0); /* periodic and update interrupts, 24 h */
	vrtc_advance(&rtc, 1500000000);
	return bad | put("rtc-programmed", 3, vrtc_save(&rtc, blob + 1, sizeof(blob) - 1));
}

static int pm_seeds(void)
{
	struct vacpi_pm pm;
	vacpi_pm_init(&pm, NULL, NULL, NULL, 0);
	int bad = put("pm-reset", 4, vacpi_pm_save(&pm, blob + 1, sizeof(blob) - 1));
	vacpi_pm_write(&pm, 2, 2, 0x0121, 0); /* PM1_EN: timer, power button, RTC */
	vacpi_pm_write(&pm, 4, 2, 0x0001, 0); /* PM1_CNT: SCI_EN */
	vacpi_pm_advance(&pm, 5000000000ull);
	return bad | put("pm-programmed", 4, vacpi_pm_save(&pm, blob + 1, sizeof(blob) - 1));
}

static int pci_seeds(void)
{
	struct vpci pci;
	vpci_init(&pci);
	return put("pci-reset", 5, vpci_save(&pci, blob + 1, sizeof(blob) - 1));
}

static int lapic_seeds(void)
{
	struct vlapic l;
	vlapic_init(&l, 0, 1000000000ull);
	int bad = put("lapic-reset", 6, vlapic_save_extra(&l, blob + 1, sizeof(blob) - 1));
	vlapic_write(&l, 0xf0, 0x1ff, 0);     /* software enable */
	vlapic_write(&l, 0x320, 0x400ec, 0);  /* LVT timer: TSC-deadline, vector 0xec */
	vlapic_write_tsc_deadline(&l, 5000000, 0);
	vlapic_raise_level(&l, 0x39, true);
	return bad | put("lapic-programmed", 6, vlapic_save_extra(&l, blob + 1, sizeof(blob) - 1));
}

static int uart_seeds(void)
{
	struct vuart u;
	vuart_init(&u, ignore_tx, NULL);
	int bad = put("uart-reset", 7, vuart_save_extra(&u, blob + 1, sizeof(blob) - 1));
	vuart_write(&u, 4, 0x08); /* MCR: OUT2 */
	vuart_write(&u, 1, 0x03); /* IER: receive and transmit interrupts */
	return bad | put("uart-programmed", 7, vuart_save_extra(&u, blob + 1, sizeof(blob) - 1));
}

static size_t no_ram(void *ctx, uint64_t gpa, size_t len, bool write, void **host)
{
	(void)ctx, (void)gpa, (void)len, (void)write, (void)host;
	return 0;
}

static int no_io(void *ctx, uint64_t sector, const struct vblk_iov *iov, unsigned n)
{
	(void)ctx, (void)sector, (void)iov, (void)n;
	return -1;
}

static int no_flush(void *ctx)
{
	(void)ctx;
	return -1;
}

/* The same disk as the fuzz target's (1 GiB, "fuzz-disk"). */
static int blk_seeds(void)
{
	static struct vblk b;
	const struct vblk_mem mem = { no_ram, NULL };
	const struct vblk_backend backend = { no_io, no_io, no_flush, NULL };
	const struct irq_line irq = { NULL, NULL, 0 };
	vblk_init(&b, 2097152, false, "fuzz-disk", &mem, &backend, &irq);
	int bad = put("blk-reset", 8, vblk_save(&b, blob + 1, sizeof(blob) - 1));
	/* A driver's setup (virtio 3.1.1): status, features, queue 0 of 64. */
	vblk_bar_write(&b, 0x14, 1, 0x03);
	vblk_bar_write(&b, 0x08, 4, 0);
	vblk_bar_write(&b, 0x0c, 4, 0x200);   /* FLUSH */
	vblk_bar_write(&b, 0x08, 4, 1);
	vblk_bar_write(&b, 0x0c, 4, 1);       /* VERSION_1 */
	vblk_bar_write(&b, 0x14, 1, 0x0b);
	vblk_bar_write(&b, 0x18, 2, 64);
	vblk_bar_write(&b, 0x20, 8, 0x10000);
	vblk_bar_write(&b, 0x28, 8, 0x10400);
	vblk_bar_write(&b, 0x30, 8, 0x11000);
	vblk_bar_write(&b, 0x1c, 2, 1);
	vblk_bar_write(&b, 0x14, 1, 0x0f);
	return bad | put("blk-programmed", 8, vblk_save(&b, blob + 1, sizeof(blob) - 1));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_device_seeds OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	return pic_seeds() | pit_seeds() | ioapic_seeds() | rtc_seeds() | pm_seeds() |
	       pci_seeds() | lapic_seeds() | uart_seeds() | blk_seeds();
}
