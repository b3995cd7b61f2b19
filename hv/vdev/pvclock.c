#include "hv/vdev/pvclock.h"

#include "hv/lib/byteorder.h"
#include "hv/lib/muldiv.h"

#define NS_PER_S 1000000000ull

typedef unsigned __int128 u128;

/* hz * 2^shift compared with one second of nanoseconds. */
static bool ticks_exceed_second(uint64_t hz, int shift)
{
	u128 lhs = shift >= 0 ? (u128)hz << shift : hz;
	u128 rhs = shift >= 0 ? (u128)NS_PER_S : (u128)NS_PER_S << -shift;
	return lhs > rhs;
}

/* ns/hz = mul * 2^(shift - 32), with ns/(hz * 2^shift) in [1/2, 1) so that
 * mul keeps 31 or 32 significant bits. */
struct pvclock_scale pvclock_scale_of(uint64_t tsc_hz)
{
	int shift = 0;

	while (!ticks_exceed_second(tsc_hz, shift))
		shift++;
	while (ticks_exceed_second(tsc_hz, shift - 1))
		shift--;
	uint64_t mul = mul_div_u64(NS_PER_S, 1ull << (32 - shift), tsc_hz);
	return (struct pvclock_scale){ (uint32_t)mul, (int8_t)shift };
}

uint64_t pvclock_scale_ticks(uint64_t ticks, struct pvclock_scale s)
{
	ticks = s.shift >= 0 ? ticks << s.shift : ticks >> -s.shift;
	return (uint64_t)(((u128)ticks * s.mul) >> 32);
}

uint64_t pvclock_read(const struct pvclock_time_info *t, uint64_t tsc)
{
	if (tsc < t->tsc_timestamp)
		return t->system_time;
	return t->system_time + pvclock_scale_ticks(tsc - t->tsc_timestamp, t->scale);
}

uint64_t pvclock_tsc_khz(struct pvclock_scale s)
{
	uint64_t khz = (1000000ull << 32) / s.mul;

	return s.shift < 0 ? khz << -s.shift : khz >> s.shift;
}

void pvclock_encode_time(const struct pvclock_time_info *t, uint8_t out[PVCLOCK_TIME_INFO_SIZE])
{
	put_le32(out, t->version);
	put_le32(out + 4, 0);
	put_le64(out + 8, t->tsc_timestamp);
	put_le64(out + 16, t->system_time);
	put_le32(out + 24, t->scale.mul);
	out[28] = (uint8_t)t->scale.shift;
	out[29] = t->flags;
	out[30] = out[31] = 0;
}

bool pvclock_decode_time(const uint8_t in[PVCLOCK_TIME_INFO_SIZE], struct pvclock_time_info *t)
{
	t->version = get_le32(in);
	t->tsc_timestamp = get_le64(in + 8);
	t->system_time = get_le64(in + 16);
	t->scale = (struct pvclock_scale){ get_le32(in + 24), (int8_t)in[28] };
	t->flags = in[29];
	return !(t->version & 1) && t->scale.mul && t->scale.shift > -32 && t->scale.shift < 32;
}

void pvclock_encode_wall(uint32_t version, uint64_t unix_ns, uint8_t out[PVCLOCK_WALL_CLOCK_SIZE])
{
	put_le32(out, version);
	put_le32(out + 4, (uint32_t)(unix_ns / NS_PER_S));
	put_le32(out + 8, (uint32_t)(unix_ns % NS_PER_S));
}
