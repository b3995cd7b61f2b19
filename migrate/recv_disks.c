/* The disks of an incoming live migration; see recv_disks.h. */
#include "migrate/recv_disks.h"

#include "hv/core/log.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/store/datastore.h"
#include "hv/vm/vm.h"

bool recv_disks_handles(uint32_t type)
{
	return type >= MIG_REC_DISK_OFFER && type <= MIG_REC_DISK_END;
}

static int offer(struct recv_disks *rd, const uint8_t *body, size_t len, struct mig_conn *c,
		 char *err, size_t errlen)
{
	struct mig_disk_offer o;
	struct mig_disk_accept a;

	if (mig_disk_offer_decode(body, len, &o, err, errlen))
		return -1;
	if (o.index != rd->n) {
		fmt_snprintf(err, errlen, "DISK_OFFER for disk %u, expected disk %u", o.index, rd->n);
		return -1;
	}
	if (rd->n && ((o.flags ^ rd->rx[0].flags) & MIG_DISK_SHARED)) {
		fmt_snprintf(err, errlen, "disks=shared for some disks only");
		return -1;
	}
	rd->n++;
	if (disk_rx_offer(&rd->rx[o.index], &o, &a, err, errlen))
		return -1;
	if (!(o.flags & MIG_DISK_SHARED))
		mig_conn_stage(c, MIG_REC_DISK_ACCEPT, mig_disk_accept_encode(&a, mig_conn_body(c)));
	return 0;
}

/* The disk a record names, by the index its body starts with. */
static struct disk_rx *disk_of(struct recv_disks *rd, const uint8_t *body, size_t len,
			       char *err, size_t errlen)
{
	uint32_t index = len >= 4 ? (uint32_t)body[0] | (uint32_t)body[1] << 8 |
					     (uint32_t)body[2] << 16 | (uint32_t)body[3] << 24
				  : UINT32_MAX;

	if (index >= rd->n) {
		fmt_snprintf(err, errlen, "a record for disk %u, which was not offered", index);
		return NULL;
	}
	return &rd->rx[index];
}

int recv_disks_record(struct recv_disks *rd, uint32_t type, const uint8_t *body, size_t len,
		      struct mig_conn *c, char *err, size_t errlen)
{
	if (type == MIG_REC_DISK_OFFER)
		return offer(rd, body, len, c, err, errlen);
	struct disk_rx *rx = disk_of(rd, body, len, err, errlen);
	if (!rx)
		return -1;
	switch (type) {
	case MIG_REC_DISK_START: {
		struct mig_disk_start st;
		if (mig_disk_start_decode(body, len, &st, err, errlen))
			return -1;
		return disk_rx_start(rx, &st, err, errlen);
	}
	case MIG_REC_DISK_BLOCKS: {
		struct mig_disk_blocks_reader r;
		if (mig_disk_blocks_open(&r, body, len, err, errlen))
			return -1;
		return disk_rx_blocks(rx, &r, err, errlen);
	}
	case MIG_REC_DISK_BULK_END: {
		uint32_t index;
		if (mig_disk_index_decode(body, len, &index, err, errlen))
			return -1;
		return disk_rx_bulk_end(rx, err, errlen);
	}
	default: {
		struct mig_disk_end e;
		if (mig_disk_end_decode(body, len, &e, err, errlen))
			return -1;
		return disk_rx_end(rx, &e, err, errlen);
	}
	}
}

int recv_disks_adopt(struct recv_disks *rd, struct vm *vm, char *err, size_t errlen)
{
	char names[MIG_DISK_MAX][STORE_NAME_MAX];
	bool ro[MIG_DISK_MAX];
	struct store_disk *handles[MIG_DISK_MAX];

	for (unsigned i = 0; i < rd->n; i++) {
		struct disk_rx *rx = &rd->rx[i];
		if (!rx->ended) {
			fmt_snprintf(err, errlen, "END before disk %u's DISK_END", i);
			return -1;
		}
		str_copy(names[i], rx->name, sizeof(names[i]));
		ro[i] = rx->flags & MIG_DISK_READ_ONLY;
		handles[i] = rx->frag;
	}
	vm_disks_adopt(vm, names, ro, handles, rd->n);
	for (unsigned i = 0; i < rd->n; i++)
		rd->rx[i].frag = NULL; /* the VM's now: closed when it goes */
	return 0;
}

int recv_disks_commit(struct recv_disks *rd, struct vm *vm, char *err, size_t errlen)
{
	struct store *s = datastore();
	char why[160];
	bool fragments = false;

	for (unsigned i = 0; i < rd->n; i++) {
		if (!rd->rx[i].have_fragment)
			continue; /* shared: the disk itself is attached */
		fragments = true;
		store_disk_close(vm->disks[i].disk);
		vm_disk_rebind(&vm->disks[i], NULL);
	}
	if (!fragments)
		return 0;
	int rc = disk_rx_finish(rd->rx, rd->n, err, errlen);
	bool finished = rc == 0;
	for (unsigned i = 0; i < rd->n; i++) {
		struct vm_disk *d = &vm->disks[i];
		struct store_disk *h = NULL;
		if (d->disk)
			continue;
		int orc = !finished ? store_fragment_open(s, rd->rx[i].frag_id, &h, why, sizeof(why))
			     : store_disk_open(s, d->name, !d->read_only, &h, why, sizeof(why));
		if (orc && finished) {
			fmt_snprintf(err, errlen, "disk '%s' arrived but does not open: %s", d->name,
				     why);
			rc = -1;
		}
		vm_disk_rebind(d, h);
	}
	return rc;
}

void recv_disks_abandon(struct recv_disks *rd)
{
	for (unsigned i = 0; i < rd->n; i++)
		disk_rx_abandon(&rd->rx[i], rd->rx[i].full);
	rd->n = 0;
}

void recv_disks_status(const struct recv_disks *rd, struct mig_disk_status *out)
{
	if (!rd->n)
		return;
	memset(out, 0, sizeof(*out));
	out->disks = rd->n;
	for (unsigned i = 0; i < rd->n; i++) {
		out->bytes += rd->rx[i].bytes_written;
		out->bytes_resumed += rd->rx[i].resumed_at;
		out->bases_skipped += rd->rx[i].base[0] != 0;
	}
}
