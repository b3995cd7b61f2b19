/* For the device state blobs (<dev>_state.c, docs/device-state.md): a
 * reader that keeps the first problem found, so a loader decodes every
 * field into a scratch copy, checks all of it, and changes the device only
 * when nothing was found. Not a public API of any device. */
#ifndef HV_VDEV_VDEV_STATE_H
#define HV_VDEV_VDEV_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/lib/wire.h"

struct vdev_state_reader {
	struct wire_cursor c;
	const char *dev; /* prefix of every message: "vpit" */
	char *err;
	size_t errlen;
	bool failed;
};

/* A reader over exactly 'expected' bytes: false, with "<dev>: state is N
 * bytes, expected M" in err, when len differs. */
bool vdev_state_begin(struct vdev_state_reader *r, const char *dev, const uint8_t *buf,
		      size_t len, size_t expected, char *err, size_t errlen);

/* Records "<dev>: <message>" unless a problem was recorded already. */
void vdev_state_fail(struct vdev_state_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Records the message when 'ok' is false; returns ok. */
bool vdev_state_check(struct vdev_state_reader *r, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A boolean byte: 0 or 1, anything else is recorded as
 * "<field>: N is not 0 or 1". */
bool vdev_state_bool(struct vdev_state_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* 0 when nothing was recorded and the decoder read the blob exactly, else
 * -1 (a decoder that did not is recorded as a layout mismatch). */
int vdev_state_end(struct vdev_state_reader *r);

#endif
