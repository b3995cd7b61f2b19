/* One virtio-blk request (virtio 1.2, 5.2.6): header, data, status byte.
 *
 * With VERSION_1 the device assumes no particular arrangement of
 * descriptors (2.6.4, message framing): the chain is read as a stream of
 * device-readable bytes followed by a stream of device-writable bytes. The
 * header is the first 16 readable bytes, the status the last writable
 * byte, the data what lies between: readable for a write, writable for a
 * read. Data is handed to the backend as host pieces; each piece must be
 * whole sectors (the backend's contract; guests align their buffers to
 * 512 bytes, Linux by its DMA alignment), anything else is refused. */
#include "hv/lib/byteorder.h"
#include "hv/lib/string.h"
#include "hv/vdev/virtio_blk_priv.h"

#define SECTOR 512u
#define HEADER_SIZE 16
#define ID_BYTES 20  /* VIRTIO_BLK_ID_BYTES */

enum { T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8 };
enum { S_OK = 0, S_IOERR = 1, S_UNSUPP = 2 };

/* The chain as two streams: chain[0..first_write) readable, the rest
 * writable (copy_chain checked the order). */
struct request {
	unsigned n, first_write;
	uint64_t readable, writable;
	uint64_t status_gpa;
	bool has_status;
};

static void describe(const struct vblk *b, unsigned n, struct request *r)
{
	*r = (struct request){ .n = n, .first_write = n };
	for (unsigned i = n; i-- > 0;) {
		const struct vblk_desc *d = &b->chain[i];
		if (d->write) {
			r->first_write = i;
			r->writable += d->len;
			if (!r->has_status && d->len) { /* the last writable byte */
				r->status_gpa = d->addr + d->len - 1;
				r->has_status = true;
			}
		} else {
			r->readable += d->len;
		}
	}
}

/* Calls 'fn' on the guest ranges holding bytes [from, from + len) of one
 * stream. False when fn fails or the stream is shorter. */
typedef bool (*range_fn)(struct vblk *b, uint64_t gpa, uint64_t len, void *ctx);

static bool for_each_range(struct vblk *b, const struct request *r, bool writable, uint64_t from,
			   uint64_t len, range_fn fn, void *ctx)
{
	unsigned end = writable ? r->n : r->first_write;

	for (unsigned i = writable ? r->first_write : 0; i < end && len; i++) {
		const struct vblk_desc *d = &b->chain[i];
		if (from >= d->len) {
			from -= d->len;
			continue;
		}
		uint64_t take = d->len - from < len ? d->len - from : len;
		if (d->addr + from + take < d->addr || !fn(b, d->addr + from, take, ctx))
			return false;
		from = 0;
		len -= take;
	}
	return len == 0;
}

static bool copy_in(struct vblk *b, uint64_t gpa, uint64_t len, void *ctx)
{
	uint8_t **dst = ctx;

	if (!vblk_guest_read(b, gpa, *dst, len))
		return false;
	*dst += len;
	return true;
}

static bool copy_out(struct vblk *b, uint64_t gpa, uint64_t len, void *ctx)
{
	const uint8_t **src = ctx;

	if (!vblk_guest_write(b, gpa, *src, len))
		return false;
	*src += len;
	return true;
}

/* ---- Data transfers in batches of host pieces. */

struct transfer {
	bool to_disk;        /* a write: the guest's buffers are read */
	bool check_only;     /* the first pass: every piece is RAM and whole sectors */
	uint64_t sector;
	unsigned n;          /* pieces in b->iov */
	int rc;
};

static bool submit(struct vblk *b, struct transfer *t)
{
	uint64_t bytes = 0;

	if (t->n == 0)
		return true;
	for (unsigned i = 0; i < t->n; i++)
		bytes += b->iov[i].len;
	int rc = t->to_disk ? b->backend.write(b->backend.ctx, t->sector, b->iov, t->n)
			    : b->backend.read(b->backend.ctx, t->sector, b->iov, t->n);
	t->sector += bytes / SECTOR;
	t->n = 0;
	if (rc != 0)
		t->rc = -1;
	return rc == 0;
}

static bool add_range(struct vblk *b, uint64_t gpa, uint64_t len, void *ctx)
{
	struct transfer *t = ctx;

	while (len) {
		void *host;
		size_t n = b->mem.map(b->mem.ctx, gpa, len, !t->to_disk, &host);
		if (n == 0 || n > len || n % SECTOR)
			return false;
		if (!t->check_only) {
			if (t->n == VBLK_IOV_BATCH && !submit(b, t))
				return false;
			b->iov[t->n++] = (struct vblk_iov){ host, n };
		}
		gpa += n;
		len -= n;
	}
	return true;
}

static bool in_disk(const struct vblk *b, uint64_t sector, uint64_t count)
{
	return sector <= b->capacity && count <= b->capacity - sector;
}

/* VIRTIO_BLK_T_IN and _OUT. A read-only disk refuses writes with IOERR and
 * writes nothing (5.2.6.2). */
static uint8_t read_write(struct vblk *b, const struct request *r, uint64_t sector, bool out,
			  uint32_t *written)
{
	uint64_t data = out ? r->readable - HEADER_SIZE : r->writable - 1;
	uint64_t wrong_way = out ? r->writable - 1 : r->readable - HEADER_SIZE;
	struct transfer t = { .to_disk = out, .check_only = true, .sector = sector };
	uint64_t from = out ? HEADER_SIZE : 0;

	/* More than seg_max * size_max (also keeps the 32-bit used length
	 * safe when many descriptors name the same RAM) is refused. */
	if (wrong_way || data % SECTOR || data > VBLK_REQUEST_MAX ||
	    !in_disk(b, sector, data / SECTOR) || (out && b->read_only) ||
	    !for_each_range(b, r, !out, from, data, add_range, &t)) {
		b->stats.bad_requests++;
		return S_IOERR;
	}
	t.check_only = false;
	if (!for_each_range(b, r, !out, from, data, add_range, &t) || !submit(b, &t) || t.rc) {
		b->stats.io_errors++;
		return S_IOERR;
	}
	if (out) {
		b->stats.writes++;
		b->stats.write_bytes += data;
	} else {
		b->stats.reads++;
		b->stats.read_bytes += data;
		*written = (uint32_t)data;
	}
	return S_OK;
}

/* The serial, NUL-padded, as much as the buffer holds (at most 20). */
static uint8_t get_id(struct vblk *b, const struct request *r, uint32_t *written)
{
	uint64_t room = r->writable - 1;
	uint32_t len = room < ID_BYTES ? (uint32_t)room : ID_BYTES;
	const uint8_t *src = (const uint8_t *)b->serial;

	b->stats.get_ids++;
	if (!for_each_range(b, r, true, 0, len, copy_out, &src)) {
		b->stats.bad_requests++;
		return S_IOERR;
	}
	*written = len;
	return S_OK;
}

static uint8_t flush(struct vblk *b)
{
	b->stats.flushes++;
	if (b->backend.flush(b->backend.ctx) != 0) {
		b->stats.io_errors++;
		return S_IOERR;
	}
	return S_OK;
}

static uint8_t run(struct vblk *b, const struct request *r, uint32_t *written)
{
	uint8_t header[HEADER_SIZE], *dst = header;

	if (r->readable < HEADER_SIZE ||
	    !for_each_range(b, r, false, 0, HEADER_SIZE, copy_in, &dst)) {
		b->stats.bad_requests++;
		return S_IOERR;
	}
	uint64_t sector = get_le64(header + 8); /* header + 4 is 'reserved' (was ioprio) */
	switch (get_le32(header)) {
	case T_IN: return read_write(b, r, sector, false, written);
	case T_OUT: return read_write(b, r, sector, true, written);
	case T_FLUSH: return flush(b); /* sector and data unused */
	case T_GET_ID: return get_id(b, r, written);
	default:
		b->stats.bad_requests++;
		return S_UNSUPP;
	}
}

uint32_t vblk_execute(struct vblk *b, unsigned n)
{
	struct request r;
	uint8_t probe;

	describe(b, n, &r);
	/* Without a writable status byte in RAM the driver cannot be told
	 * anything: nothing is done and the used length is 0. */
	if (!r.has_status || !vblk_guest_read(b, r.status_gpa, &probe, 1)) {
		b->stats.bad_requests++;
		return 0;
	}
	uint32_t written = 0;
	uint8_t status = run(b, &r, &written);
	vblk_guest_write(b, r.status_gpa, &status, 1);
	return written + 1;
}
