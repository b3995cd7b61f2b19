/* libFuzzer target: the device state blobs a migration stream carries in
 * its DEVICE records (docs/device-state.md). The first byte picks the
 * device, the rest is the blob, loaded into a device fresh from init as a
 * destination's is. A refused blob must leave the device as it was; an
 * accepted one must save back to the very same bytes, so a state that
 * loads can always be migrated on again. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
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

#define BLOB_MAX VPCI_STATE_MAX_SIZE

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

/* One device behind a common shape: init, load, save. */
struct subject {
	size_t (*save)(const void *dev, uint8_t *buf, size_t size);
	int (*load)(void *dev, const uint8_t *buf, size_t len, char *err, size_t errlen);
	void (*init)(void *dev);
	size_t size;
};

#define SUBJECT(type, prefix, init_body)                                                        \
	static void prefix##_fresh(void *d)                                                     \
	{                                                                                        \
		type *dev = d;                                                                   \
		init_body;                                                                       \
	}                                                                                        \
	static size_t prefix##_out(const void *d, uint8_t *b, size_t n)                         \
	{                                                                                        \
		return prefix##_save(d, b, n);                                                   \
	}                                                                                        \
	static int prefix##_in(void *d, const uint8_t *b, size_t n, char *e, size_t el)        \
	{                                                                                        \
		return prefix##_load(d, b, n, e, el);                                            \
	}

SUBJECT(struct vpic, vpic, vpic_init(dev, NULL))
SUBJECT(struct vpit, vpit, vpit_init(dev, NULL, 0))
SUBJECT(struct vioapic, vioapic, vioapic_init(dev, accept_message, NULL))
SUBJECT(struct vrtc, vrtc, vrtc_init(dev, 1700000000, 0, NULL))
SUBJECT(struct vacpi_pm, vacpi_pm, vacpi_pm_init(dev, NULL, NULL, NULL, 0))
SUBJECT(struct vpci, vpci, vpci_init(dev))

static void vuart_fresh(void *d)
{
	vuart_init(d, ignore_tx, NULL);
}

static size_t vuart_out(const void *d, uint8_t *b, size_t n)
{
	return vuart_save_extra(d, b, n);
}

static int vuart_in(void *d, const uint8_t *b, size_t n, char *e, size_t el)
{
	return vuart_load_extra(d, b, n, e, el);
}

/* The extra blob is checked against the registers the LAPIC record
 * restored before it; these are a guest's with the timer in TSC-deadline
 * mode, so blobs with an armed deadline can load. */
static void vlapic_fresh(void *d)
{
	vlapic_init(d, 0, 1000000000ull);
	vlapic_write(d, 0xf0, 0x1ff, 0);
	vlapic_write(d, 0x320, 0x400ec, 0);
}

static size_t vlapic_out(const void *d, uint8_t *b, size_t n)
{
	return vlapic_save_extra(d, b, n);
}

static int vlapic_in(void *d, const uint8_t *b, size_t n, char *e, size_t el)
{
	return vlapic_load_extra(d, b, n, 40, e, el);
}

/* A disk of 1 GiB; no request runs during a load, so memory and backend
 * only have to exist. */
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

static void vblk_fresh(void *d)
{
	static const struct vblk_mem mem = { no_ram, NULL };
	static const struct vblk_backend backend = { no_io, no_io, no_flush, NULL };
	static const struct irq_line irq = { NULL, NULL, 0 };

	vblk_init(d, 2097152, false, "fuzz-disk", &mem, &backend, &irq);
}

static size_t vblk_out(const void *d, uint8_t *b, size_t n)
{
	return vblk_save(d, b, n);
}

static int vblk_in(void *d, const uint8_t *b, size_t n, char *e, size_t el)
{
	return vblk_load(d, b, n, e, el);
}

#define ENTRY(prefix, type) { prefix##_out, prefix##_in, prefix##_fresh, sizeof(type) }

static const struct subject subjects[] = {
	ENTRY(vpic, struct vpic),	  ENTRY(vpit, struct vpit),
	ENTRY(vioapic, struct vioapic),	  ENTRY(vrtc, struct vrtc),
	ENTRY(vacpi_pm, struct vacpi_pm), ENTRY(vpci, struct vpci),
	ENTRY(vlapic, struct vlapic),	  ENTRY(vuart, struct vuart),
	ENTRY(vblk, struct vblk),
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t first[BLOB_MAX], second[BLOB_MAX];
	char err[160];

	if (size < 1)
		return 0;
	const struct subject *s = &subjects[data[0] % (sizeof(subjects) / sizeof(subjects[0]))];
	void *dev = calloc(1, s->size), *before = calloc(1, s->size);
	if (!dev || !before)
		abort();
	s->init(dev);
	memcpy(before, dev, s->size);
	if (s->load(dev, data + 1, size - 1, err, sizeof(err))) {
		if (memcmp(dev, before, s->size))
			abort(); /* a refused blob changed the device */
	} else {
		size_t n = s->save(dev, first, sizeof(first));
		s->init(before);
		if (n != size - 1 || memcmp(first, data + 1, n))
			abort(); /* accepted bytes that do not save back */
		if (s->load(before, first, n, err, sizeof(err)) ||
		    s->save(before, second, sizeof(second)) != n || memcmp(first, second, n))
			abort();
	}
	free(dev);
	free(before);
	return 0;
}
