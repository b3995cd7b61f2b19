/* Small helpers of the datastore: names, status strings, UUID text, memory. */
#include "hv/store/store_internal.h"

#include "hv/lib/byteorder.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"

const char *store_status_name(int status)
{
	switch (status) {
	case STORE_OK:
		return "ok";
	case STORE_EIO:
		return "I/O error";
	case STORE_ENOSPC:
		return "datastore full";
	case STORE_EINVAL:
		return "invalid argument";
	case STORE_EROFS:
		return "read-only";
	case STORE_ENOENT:
		return "no such disk";
	case STORE_EEXIST:
		return "name taken";
	case STORE_EBUSY:
		return "in use";
	case STORE_ECORRUPT:
		return "metadata damaged";
	default:
		return "unknown error";
	}
}

void store_uuid_format(const struct store_uuid *u, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	unsigned o = 0;

	for (unsigned i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf[o++] = '-';
		buf[o++] = hex[u->b[i] >> 4];
		buf[o++] = hex[u->b[i] & 15];
	}
	buf[o] = '\0';
}

/* '@' only in names the store makes itself (snapshots: "<name>@<n>"). */
bool store_name_valid_ext(const char *name, bool allow_at)
{
	size_t len = strnlen(name, STORE_NAME_MAX);

	if (len == 0 || len >= STORE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
			  (allow_at && c == '@');
		if (!ok)
			return false;
	}
	return true;
}

bool store_name_valid(const char *name)
{
	return store_name_valid_ext(name, false);
}

void *store_alloc(const struct store *s, size_t bytes)
{
	return s->env->alloc(bytes);
}

void store_free(const struct store *s, void *p, size_t bytes)
{
	if (p)
		s->env->free(p, bytes);
}

void store_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	fmt_vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

uint64_t store_tag_of(const struct store_uuid *u)
{
	return get_le64(u->b);
}

bool store_uuid_is_zero(const struct store_uuid *u)
{
	for (unsigned i = 0; i < 16; i++)
		if (u->b[i])
			return false;
	return true;
}
