/* The disks of an outgoing live migration; see send_disks.h. */
#include "migrate/send_disks.h"

#include "hv/core/log.h"
#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/store/datastore.h"
#include "hv/vm/vm.h"

/* Resume checks read the disk: this much per main-loop turn. */
#define VERIFY_BYTES_PER_TURN (4u << 20)

int send_disks_prepare(struct send_disks *sd, struct vm *vm, bool shared, char *err,
		       size_t errlen)
{
	memset(sd, 0, sizeof(*sd));
	sd->shared = shared;
	for (unsigned i = 0; i < vm->ndisks && i < MIG_DISK_MAX; i++) {
		str_copy(sd->names[i], vm->disks[i].name, sizeof(sd->names[i]));
		sd->read_only[i] = vm->disks[i].read_only;
		sd->n = i + 1;
		/* Committed now, so any write from here on gives the disk a new
		 * content ID: the one offered stands for this content alone. */
		struct store_disk *h = vm->disks[i].disk;
		int rc = store_disk_writable(h) ? store_disk_flush(h) : STORE_OK;
		if (rc) {
			send_disks_release(sd, vm);
			fmt_snprintf(err, errlen, "disk '%s': flush failed: %s", vm->disks[i].name,
				     store_status_name(rc));
			return -1;
		}
		if (disk_tx_init(&sd->tx[i], vm->disks[i].disk, i) ||
		    (!shared && vm_disk_log_start(&vm->disks[i]))) {
			send_disks_release(sd, vm);
			fmt_snprintf(err, errlen, "out of memory for disk '%s''s transfer",
				     vm->disks[i].name);
			return -1;
		}
	}
	return 0;
}

void send_disks_release(struct send_disks *sd, struct vm *vm)
{
	for (unsigned i = 0; i < sd->n; i++) {
		disk_tx_free(&sd->tx[i]);
		if (vm && i < vm->ndisks) {
			vm_disk_log_stop(&vm->disks[i]);
			vm->disks[i].mirror = NULL;
		}
	}
	sd->mirroring = false;
	sd->n = 0;
}

bool send_disks_stage_offer(struct send_disks *sd, struct mig_conn *c)
{
	struct mig_disk_offer o;
	unsigned i = sd->offered;

	if (i == sd->n)
		return false;
	struct store_disk_info info;
	store_disk_handle_info(sd->tx[i].disk, &info);
	uint32_t flags = (sd->shared ? MIG_DISK_SHARED : 0) |
			 (sd->read_only[i] ? MIG_DISK_READ_ONLY : 0) | (info.base ? MIG_DISK_BASE : 0);
	disk_tx_offer(&sd->tx[i], datastore(), NULL, flags, &o);
	mig_conn_stage(c, MIG_REC_DISK_OFFER, mig_disk_offer_encode(&o, mig_conn_body(c)));
	sd->offered++;
	return true;
}

bool send_disks_answered(const struct send_disks *sd)
{
	return sd->shared || sd->naccepted == sd->n;
}

int send_disks_accept(struct send_disks *sd, const uint8_t *body, size_t len, char *err,
		      size_t errlen)
{
	struct mig_disk_accept a;

	if (mig_disk_accept_decode(body, len, &a, err, errlen))
		return -1;
	if (sd->shared || a.index >= sd->offered || sd->accepted[a.index]) {
		fmt_snprintf(err, errlen, "DISK_ACCEPT for disk %u, which awaits none", a.index);
		return -1;
	}
	const struct disk_tx *t = &sd->tx[a.index];
	if (a.offset > t->size || (a.base != MIG_DISK_NO_BASE && a.base >= t->nancestors)) {
		fmt_snprintf(err, errlen, "DISK_ACCEPT for disk %u out of range", a.index);
		return -1;
	}
	sd->acc[a.index] = a;
	sd->accepted[a.index] = true;
	sd->naccepted++;
	disk_tx_accepted(&sd->tx[a.index], &a);
	return 0;
}

int send_disks_stage_start(struct send_disks *sd, struct mig_conn *c, uint64_t deadline,
			   char *err, size_t errlen)
{
	if (sd->shared || sd->started == sd->n)
		return 1;
	unsigned i = sd->started;
	struct disk_tx *t = &sd->tx[i];
	const struct mig_disk_accept *a = &sd->acc[i];
	struct mig_disk_start st = { .index = i };

	if (a->offset) {
		int rc;
		while ((rc = disk_tx_verify_step(t, a->offset, VERIFY_BYTES_PER_TURN,
						 &sd->verify_crc)) == 0)
			if (time_ns() >= deadline || disk_tx_keepalive(t, c))
				return 0;
		if (rc < 0) {
			fmt_snprintf(err, errlen, "disk '%s': reading it to check the destination's "
				     "fragment failed", sd->names[i]);
			return -1;
		}
		if (sd->verify_crc == a->crc) {
			st.offset = a->offset;
			st.crc = a->crc;
		} else {
			log_warn("migrate: disk %s: the destination's fragment does not match this "
				 "disk (CRC %08x, here %08x): sending it all", sd->names[i], a->crc,
				 sd->verify_crc);
		}
	}
	disk_tx_start(t, st.offset, st.crc);
	mig_conn_stage(c, MIG_REC_DISK_START, mig_disk_start_encode(&st, mig_conn_body(c)));
	sd->started++;
	return 0;
}

/* A write the guest finished: queued for forwarding (merged with the one
 * before when they touch); a full queue falls back to the block log. */
static void mirror_wrote(void *ctx, unsigned disk, uint64_t offset, uint64_t len)
{
	struct send_disks *sd = ctx;
	struct mirror_queue *q = &sd->q[disk];

	sd->mirrored_writes++;
	sd->mirrored_bytes += len;
	if (q->n && q->offset[q->n - 1] + q->len[q->n - 1] == offset) {
		q->len[q->n - 1] += len;
		return;
	}
	if (q->n < MIRROR_QUEUE) {
		q->offset[q->n] = offset;
		q->len[q->n++] = len;
		return;
	}
	struct disk_tx *t = &sd->tx[disk];
	for (uint64_t bi = offset / t->block_size; bi <= (offset + len - 1) / t->block_size &&
						   bi < t->nblocks; bi++)
		t->to_send[bi / 64] |= 1ull << (bi % 64);
}

/* The guest's next request waits until its last write is over there. */
static bool mirror_ready(void *ctx, unsigned disk)
{
	const struct send_disks *sd = ctx;

	return !sd->q[disk].n && sd->conn->bytes_acked >= sd->mirror_mark;
}

void send_disks_start_mirror(struct send_disks *sd, struct vm *vm, struct mig_conn *c)
{
	if (sd->shared || sd->mirroring)
		return;
	sd->mirror = (struct vm_disk_mirror){ mirror_wrote, mirror_ready, sd };
	sd->vm = vm;
	sd->conn = c;
	sd->mirror_mark = 0;
	for (unsigned i = 0; i < sd->n && i < vm->ndisks; i++) {
		vm_disk_log_stop(&vm->disks[i]);
		vm->disks[i].mirror = &sd->mirror;
	}
	sd->mirroring = true;
}

/* The oldest forwarded write's next piece, as one DATA extent. */
static long stage_mirrored(struct send_disks *sd, unsigned i, uint8_t *body, char *err,
			   size_t errlen)
{
	struct mirror_queue *q = &sd->q[i];
	struct disk_tx *t = &sd->tx[i];
	struct mig_disk_blocks_writer w;
	uint64_t off = q->offset[0];
	uint32_t len = q->len[0] > MIG_DISK_EXTENT_MAX ? MIG_DISK_EXTENT_MAX : (uint32_t)q->len[0];
	struct store_iov iov = { NULL, len };

	mig_disk_blocks_begin(&w, body, i);
	iov.data = mig_disk_blocks_add(&w, off, len, MIG_DISK_DATA);
	int rc = store_disk_read(t->disk, off, &iov, 1);
	if (rc) {
		fmt_snprintf(err, errlen, "reading byte %lu: %s", (unsigned long)off,
			     store_status_name(rc));
		return -1;
	}
	t->bytes_data += len;
	q->offset[0] += len;
	q->len[0] -= len;
	if (!q->len[0]) {
		q->n--;
		memmove(q->offset, q->offset + 1, q->n * sizeof(q->offset[0]));
		memmove(q->len, q->len + 1, q->n * sizeof(q->len[0]));
	}
	return mig_disk_blocks_end(&w);
}

int send_disks_stage_blocks(struct send_disks *sd, struct mig_conn *c, char *err,
			    size_t errlen)
{
	if (sd->shared)
		return 0;
	for (unsigned i = 0; i < sd->n; i++) {
		struct disk_tx *t = &sd->tx[i];
		char why[100];
		if (sd->q[i].n) {
			long len = stage_mirrored(sd, i, mig_conn_body(c), why, sizeof(why));
			if (len < 0) {
				fmt_snprintf(err, errlen, "disk '%s': %s", sd->names[i], why);
				return -1;
			}
			mig_conn_stage(c, MIG_REC_DISK_BLOCKS, (uint32_t)len);
			sd->mirror_mark = c->bytes_out + (c->out_len - c->out_pos);
			return 1;
		}
		long len = disk_tx_stage(t, mig_conn_body(c), why, sizeof(why));
		if (len < 0) {
			fmt_snprintf(err, errlen, "disk '%s': %s", sd->names[i], why);
			return -1;
		}
		if (len > 0) {
			mig_conn_stage(c, MIG_REC_DISK_BLOCKS, (uint32_t)len);
			return 1;
		}
		if (t->bulk_end_due) {
			t->bulk_end_due = false;
			mig_conn_stage(c, MIG_REC_DISK_BULK_END,
				       mig_disk_index_encode(i, mig_conn_body(c)));
			return 1;
		}
	}
	return 0;
}

uint64_t send_disks_harvest(struct send_disks *sd, struct vm *vm)
{
	uint64_t bytes = 0;

	sd->round_dirty = 0;
	if (sd->shared)
		return 0;
	for (unsigned i = 0; i < sd->n && i < vm->ndisks; i++) {
		uint64_t n = vm_disk_log_harvest(&vm->disks[i], sd->tx[i].to_send);
		sd->round_dirty += n;
		bytes += n * sd->tx[i].block_size;
		for (unsigned k = 0; k < sd->q[i].n; k++)
			bytes += sd->q[i].len[k];
		disk_tx_next_round(&sd->tx[i]);
	}
	return bytes;
}

int send_disks_flush(struct send_disks *sd, struct vm *vm, char *err, size_t errlen)
{
	for (unsigned i = 0; i < sd->n && i < vm->ndisks; i++) {
		if (!store_disk_writable(vm->disks[i].disk))
			continue;
		int rc = store_disk_flush(vm->disks[i].disk);
		if (rc) {
			fmt_snprintf(err, errlen, "disk '%s': the last flush failed: %s",
				     sd->names[i], store_status_name(rc));
			return -1;
		}
	}
	return 0;
}

bool send_disks_stage_end(struct send_disks *sd, struct mig_conn *c)
{
	struct store_disk_info info;
	struct mig_disk_end e;

	if (sd->ended == sd->n)
		return false;
	e.index = sd->ended;
	store_disk_handle_info(sd->tx[sd->ended].disk, &info);
	memcpy(e.content_id, info.content_id.b, MIG_DISK_ID_LEN);
	mig_conn_stage(c, MIG_REC_DISK_END, mig_disk_end_encode(&e, mig_conn_body(c)));
	sd->ended++;
	return true;
}

void send_disks_delete(struct send_disks *sd)
{
	struct store *s = datastore();
	char why[160];

	for (unsigned i = 0; i < MIG_DISK_MAX && sd->names[i][0]; i++) {
		if (s && !store_disk_delete(s, sd->names[i], why, sizeof(why)))
			log_info("migrate: disk %s deleted here (keep=no)", sd->names[i]);
		else
			log_warn("migrate: disk %s kept here: %s", sd->names[i],
				 s ? why : "no datastore");
	}
}

void send_disks_status(const struct send_disks *sd, struct mig_disk_status *out)
{
	uint64_t total = 0, sent = 0, queued = 0, bytes = 0, resumed = 0;
	unsigned skipped = 0;

	for (unsigned i = 0; i < sd->n; i++) {
		const struct disk_tx *t = &sd->tx[i];
		total += t->blocks_total;
		sent += t->blocks_sent;
		queued += t->to_send ? disk_tx_queued(t) : 0;
		bytes += t->bytes_data;
		resumed += t->start_offset;
		skipped += t->base_skipped;
		out->block_size = t->block_size;
	}
	out->disks = sd->n ? sd->n : out->disks;
	if (!sd->n)
		return; /* released: the last figures stay */
	out->blocks_total = total;
	out->blocks_sent = sent;
	out->blocks_remaining = queued;
	out->bytes = bytes;
	out->bytes_resumed = resumed;
	out->bases_skipped = skipped;
	out->mirrored_writes = sd->mirrored_writes;
	out->mirrored_bytes = sd->mirrored_bytes;
}
