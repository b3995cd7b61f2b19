/* The checking reader of the device state blobs; see vdev_state.h. */
#include "hv/vdev/vdev_state.h"

#include <stdarg.h>

#include "hv/lib/format.h"

bool vdev_state_begin(struct vdev_state_reader *r, const char *dev, const uint8_t *buf,
		      size_t len, size_t expected, char *err, size_t errlen)
{
	*r = (struct vdev_state_reader){ .c = wire_reader(buf, len), .dev = dev, .err = err,
					 .errlen = errlen };
	if (len == expected)
		return true;
	vdev_state_fail(r, "state is %zu bytes, expected %zu", len, expected);
	return false;
}

static void record(struct vdev_state_reader *r, const char *fmt, va_list ap)
{
	if (r->failed)
		return;
	r->failed = true;
	if (!r->err || !r->errlen)
		return;
	int n = fmt_snprintf(r->err, r->errlen, "%s: ", r->dev);
	if (n >= 0 && (size_t)n < r->errlen)
		fmt_vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
}

void vdev_state_fail(struct vdev_state_reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record(r, fmt, ap);
	va_end(ap);
}

bool vdev_state_check(struct vdev_state_reader *r, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return true;
	va_start(ap, fmt);
	record(r, fmt, ap);
	va_end(ap);
	return false;
}

bool vdev_state_bool(struct vdev_state_reader *r, const char *fmt, ...)
{
	uint8_t v = wget8(&r->c);
	char field[48];
	va_list ap;

	if (v <= 1)
		return v;
	va_start(ap, fmt);
	fmt_vsnprintf(field, sizeof(field), fmt, ap);
	va_end(ap);
	vdev_state_fail(r, "%s: %u is not 0 or 1", field, v);
	return false;
}

int vdev_state_end(struct vdev_state_reader *r)
{
	if (!wire_read_exactly(&r->c))
		vdev_state_fail(r, "layout mismatch: %zu of %zu bytes decoded", r->c.pos, r->c.len);
	return r->failed ? -1 : 0;
}
