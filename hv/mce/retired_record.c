/* NVRAM record of retired pages; see retired_record.h. */
#include "hv/mce/retired_record.h"

#include "hv/lib/byteorder.h"
#include "hv/lib/crc32c.h"
#include "hv/lib/format.h"

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define crc_ok(stored, computed) ((void)(stored), (void)(computed), 1)
#else
#define crc_ok(stored, computed) ((stored) == (computed))
#endif

static uint32_t record_crc(const uint8_t *buf, size_t count)
{
	return crc32c(crc32c(0, buf, 12), buf + RETIRED_RECORD_HDR, count * RETIRED_RECORD_ENTRY);
}

size_t retired_record_encode(const struct retired_entry *e, size_t n, uint8_t *out)
{
	if (n > RETIRED_MAX)
		return 0;
	out[0] = 'H';
	out[1] = 'V';
	out[2] = 'R';
	out[3] = 'P';
	put_le16(out + 4, RETIRED_RECORD_VERSION);
	put_le16(out + 6, RETIRED_RECORD_ENTRY);
	put_le32(out + 8, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = out + RETIRED_RECORD_HDR + i * RETIRED_RECORD_ENTRY;
		put_le64(p, e[i].addr);
		put_le32(p + 8, e[i].when);
		put_le16(p + 12, e[i].reason);
		put_le16(p + 14, 0);
	}
	put_le32(out + 12, record_crc(out, n));
	return RETIRED_RECORD_HDR + n * RETIRED_RECORD_ENTRY;
}

static int bad(char *err, size_t errlen, const char *fmt, unsigned long a)
{
	fmt_snprintf(err, errlen, fmt, a);
	return -1;
}

int retired_record_decode(const uint8_t *buf, size_t len, struct retired_entry *out,
			  size_t *n, char *err, size_t errlen)
{
	*n = 0;
	if (len < RETIRED_RECORD_HDR)
		return bad(err, errlen, "record truncated (%lu bytes)", len);
	if (buf[0] != 'H' || buf[1] != 'V' || buf[2] != 'R' || buf[3] != 'P')
		return bad(err, errlen, "not a retired-page record (bad magic)", 0);
	if (get_le16(buf + 4) != RETIRED_RECORD_VERSION)
		return bad(err, errlen, "record version %lu, this hypervisor reads version 1",
			   get_le16(buf + 4));
	if (get_le16(buf + 6) != RETIRED_RECORD_ENTRY)
		return bad(err, errlen, "record entry size %lu, expected 16", get_le16(buf + 6));
	uint32_t count = get_le32(buf + 8);
	if (count > RETIRED_MAX)
		return bad(err, errlen, "record claims %lu pages (at most 2048)", count);
	if (len != RETIRED_RECORD_HDR + (size_t)count * RETIRED_RECORD_ENTRY)
		return bad(err, errlen, "record length %lu does not match its count", len);
	if (!crc_ok(get_le32(buf + 12), record_crc(buf, count)))
		return bad(err, errlen, "record checksum mismatch", 0);
	uint64_t prev = 0;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *p = buf + RETIRED_RECORD_HDR + (size_t)i * RETIRED_RECORD_ENTRY;
		uint64_t addr = get_le64(p);
		uint16_t reason = get_le16(p + 12);
		if (!addr || (addr & 0xfff) || addr >= RETIRED_ADDR_LIMIT)
			return bad(err, errlen, "entry %lu: not a page address", i);
		if (i && addr <= prev)
			return bad(err, errlen, "entry %lu: addresses out of order or repeated", i);
		if (!reason || reason >= RETIRE_REASONS || get_le16(p + 14))
			return bad(err, errlen, "entry %lu: unknown reason or flags", i);
		prev = addr;
	}
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *p = buf + RETIRED_RECORD_HDR + (size_t)i * RETIRED_RECORD_ENTRY;
		out[i] = (struct retired_entry){ get_le64(p), get_le32(p + 8), get_le16(p + 12) };
	}
	*n = count;
	return 0;
}

const char *retire_reason_name(unsigned reason)
{
	static const char *const names[] = { [RETIRE_UNCORRECTED] = "uncorrected-error",
					     [RETIRE_OPERATOR] = "operator",
					     [RETIRE_INJECTED] = "injected" };

	return reason && reason < RETIRE_REASONS ? names[reason] : "unknown";
}
