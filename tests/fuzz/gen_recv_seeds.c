/* Writes seed inputs for fuzz_mig_recv: whole streams as a source sends
 * them, made with the real encoders from the state of a real (host-built)
 * VM, so every device accepts its blob and the fuzzer starts from streams
 * that reach READY and RUNNING: without disks, with a new disk, one on the
 * destination's base, one resuming the kept fragment, a shared one, two
 * disks; in each run state; a 64-bit vCPU; a stream that stops at READY.
 * Also the regression inputs of bugs the target found ("regress-*").
 *
 *     gen_recv_seeds OUTDIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"
#include "migrate/disk_stream.h"
#include "migrate/page_delta.h"
#include "migrate/vm_state.h"
#include "tests/fuzz/fuzz_recv_store.h"
#include "tests/fuzz/fuzz_vm_host.h"

#define SEED_MEM (2u << 20)

static const char *outdir;
static uint8_t stream[1u << 20];
static size_t len;
static uint8_t body[MIG_MAX_BODY];

static void put(const void *p, size_t n)
{
	if (len + n > sizeof(stream))
		abort();
	memcpy(stream + len, p, n);
	len += n;
}

static void record(uint32_t type, const uint8_t *b, uint32_t n)
{
	uint8_t hdr[MIG_RECORD_HDR_LEN];

	mig_record_header(hdr, type, b, n);
	put(hdr, sizeof(hdr));
	put(b, n);
}

static void save(const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(stream, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "gen_recv_seeds: cannot write %s\n", path);
		exit(1);
	}
}

/* A disk as the source offers it, and which template disk of the same
 * size lends its handle when its device state is captured. */
struct seed_disk {
	const char *name;
	uint32_t flags;
	uint64_t size;
	const char *like;
	const uint8_t *uuid, *cid; /* NULL: made up */
	const uint8_t *ancestor;   /* a base's content ID, or NULL */
	uint64_t start;            /* the accepted offset (a resumed fragment) */
	uint32_t start_crc;
	const uint8_t *final_cid;  /* DISK_END's; NULL: made up */
};

struct seed {
	const char *file;
	uint8_t run_state;
	bool long_mode;
	bool go;
	unsigned ndisks;
	struct seed_disk disk[2];
	unsigned cpus;             /* 0: one */
};

static void long_mode(struct vcpu_state *s)
{
	s->regs.rflags = 0x202;
	s->regs.rip = 0xffffffff81000000ull;
	s->seg[SEG_CS] = (struct vcpu_segment){ 0x10, 0xa9b, 0xffffffff, 0 };
	s->seg[SEG_TR] = (struct vcpu_segment){ 0x40, 0x8b, 0x67, 0xfffffe0000003000ull };
	s->gdt = (struct vcpu_dtable){ 0xfffffe0000001000ull, 0x7f };
	s->cr0 = 0x80050033;
	s->cr3 = 0x1000;
	s->cr4 = 0x3206f0;
	s->efer = 0xd01;
	s->lstar = 0xffffffff81a00000ull;
	s->sfmask = 0x47700;
}

/* The state a source would send for a VM with these disks. */
static void capture(const struct seed *sd, struct mig_vm_state *st)
{
	char names[MIG_DISK_MAX][STORE_NAME_MAX];
	bool ro[MIG_DISK_MAX];
	struct store_disk *h[MIG_DISK_MAX];
	char err[200];
	struct vm *vm = vm_create_incoming("source", SEED_MEM, sd->cpus ? sd->cpus : 1, "counter",
					   "", err, sizeof(err));

	if (!vm) {
		fprintf(stderr, "gen_recv_seeds: %s\n", err);
		exit(1);
	}
	for (unsigned i = 0; i < sd->ndisks; i++) {
		snprintf(names[i], sizeof(names[i]), "%s", sd->disk[i].name);
		ro[i] = sd->disk[i].flags & MIG_DISK_READ_ONLY;
		if (store_disk_open(fuzz_datastore, sd->disk[i].like, false, &h[i], err,
				    sizeof(err)))
			abort();
	}
	vm_disks_adopt(vm, names, ro, h, sd->ndisks);
	mig_vm_capture(vm, st, rdtsc());
	if (sd->long_mode)
		long_mode(&st->vcpu.s);
	st->platform.run_state = sd->run_state;
	st->uart.line_len = (uint32_t)strlen("half a line");
	memcpy(st->uart.line, "half a line", st->uart.line_len);
	st->modules.count = 1;
	snprintf(st->modules.spec[0], sizeof(st->modules.spec[0]), "initrd.img root=/dev/ram0");
	vm_migration_discard(vm);
}

static void pages(void)
{
	static uint8_t data[MIG_PAGE_SIZE];
	struct mig_pages_writer w;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	mig_pages_begin(&w, body);
	mig_pages_add(&w, 0, MIG_PAGE_NORMAL, data);
	mig_pages_add(&w, 1, MIG_PAGE_ZERO, NULL);
	mig_pages_add(&w, 2, MIG_PAGE_POISON, NULL);
	mig_pages_add(&w, 3, MIG_PAGE_NORMAL, data);
	record(MIG_REC_PAGES, body, mig_pages_end(&w));
	/* A later round: one page written again, one gone back to zero. */
	mig_pages_begin(&w, body);
	mig_pages_add(&w, 3, MIG_PAGE_ZERO, NULL);
	mig_pages_add(&w, SEED_MEM / MIG_PAGE_SIZE - 1, MIG_PAGE_NORMAL, data);
	/* Page 0 again, as a delta: a few bytes changed against what it holds. */
	static uint8_t changed[MIG_PAGE_SIZE];
	memcpy(changed, data, sizeof(changed));
	changed[8] ^= 0xff;
	changed[4000] ^= 0x01;
	size_t n = page_delta_encode(data, changed, mig_pages_delta_room(&w), MIG_DELTA_MAX);
	mig_pages_add_delta(&w, 0, (uint32_t)n);
	record(MIG_REC_PAGES, body, mig_pages_end(&w));
}

static void offer(const struct seed_disk *d, uint32_t index)
{
	struct mig_disk_offer o = { .index = index, .flags = d->flags, .size = d->size,
				    .allocated_bytes = d->size / 2 };

	snprintf(o.name, sizeof(o.name), "%s", d->name);
	memset(o.uuid, 0x30 + (int)index, sizeof(o.uuid));
	memset(o.content_id, 0x40 + (int)index, sizeof(o.content_id));
	if (d->uuid)
		memcpy(o.uuid, d->uuid, sizeof(o.uuid));
	if (d->cid)
		memcpy(o.content_id, d->cid, sizeof(o.content_id));
	if (d->ancestor) {
		memset(o.ancestors[0], 0x99, MIG_DISK_ID_LEN); /* a base not held here */
		memcpy(o.ancestors[1], d->ancestor, MIG_DISK_ID_LEN);
		o.nancestors = 2;
	}
	record(MIG_REC_DISK_OFFER, body, mig_disk_offer_encode(&o, body));
}

/* The bulk copy: data, then zeros, then the last sector (in ascending
 * order: a bulk copy never goes back). */
static void bulk(const struct seed_disk *d, uint32_t index)
{
	static uint8_t data[8192];
	struct mig_disk_blocks_writer w;
	struct mig_disk_start s = { index, d->start, d->start_crc };

	if (d->flags & MIG_DISK_SHARED)
		return;
	record(MIG_REC_DISK_START, body, mig_disk_start_encode(&s, body));
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 3 + index);
	mig_disk_blocks_begin(&w, body, index);
	memcpy(mig_disk_blocks_add(&w, d->start, sizeof(data), MIG_DISK_DATA), data, sizeof(data));
	mig_disk_blocks_add(&w, d->start + 16384, 32768, MIG_DISK_ZERO);
	record(MIG_REC_DISK_BLOCKS, body, mig_disk_blocks_end(&w));
	mig_disk_blocks_begin(&w, body, index);
	memcpy(mig_disk_blocks_add(&w, d->size - 512, 512, MIG_DISK_DATA), data, 512);
	record(MIG_REC_DISK_BLOCKS, body, mig_disk_blocks_end(&w));
	record(MIG_REC_DISK_BULK_END, body, mig_disk_index_encode(index, body));
}

static void disk_end(const struct seed_disk *d, uint32_t index)
{
	struct mig_disk_end e = { .index = index };

	memset(e.content_id, 0x50 + (int)index, sizeof(e.content_id));
	if (d->final_cid)
		memcpy(e.content_id, d->final_cid, sizeof(e.content_id));
	record(MIG_REC_DISK_END, body, mig_disk_end_encode(&e, body));
}

static void header(void)
{
	struct mig_header h = { .version = MIG_VERSION, .page_size = MIG_PAGE_SIZE,
				.source_id = 0x1122334455667788ull, .vm_uid = 0x5eed };
	uint8_t b[MIG_HEADER_LEN];

	snprintf(h.source_name, sizeof(h.source_name), "seed");
	mig_header_encode(&h, b);
	put(b, sizeof(b));
}

static void config(const char *name, unsigned cpus)
{
	struct mig_vm_config c = { .mem_bytes = SEED_MEM, .vcpus = cpus };

	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.image, sizeof(c.image), "counter");
	snprintf(c.cmdline, sizeof(c.cmdline), "interval=20");
	record(MIG_REC_VM_CONFIG, body, mig_vm_config_encode(&c, body));
}

/* The stream of a whole migration, in the order send.c sends it. */
static void write_seed(const struct seed *sd)
{
	static struct mig_vm_state st;
	uint8_t round[8] = { 1, 0, 0, 0, 4, 0, 0, 0 };

	capture(sd, &st);
	len = 0;
	header();
	config("seed", sd->cpus);
	for (unsigned i = 0; i < sd->ndisks; i++)
		offer(&sd->disk[i], i);
	for (unsigned i = 0; i < sd->ndisks; i++)
		bulk(&sd->disk[i], i);
	pages();
	record(MIG_REC_ROUND, round, sizeof(round));
	record(MIG_TYPE_OPTIONAL | 0x42, round, 4); /* a later version's: skipped */
	record(MIG_REC_VCPU, body, mig_vcpu_encode(&st.vcpu, body));
	record(MIG_REC_LAPIC, body, mig_lapic_encode(&st.lapic, body));
	record(MIG_REC_UART, body, mig_uart_encode(&st.uart, body));
	record(MIG_REC_PLATFORM, body, mig_platform_encode(&st.platform, body));
	record(MIG_REC_MODULES, body, mig_modules_encode(&st.modules, body));
	for (size_t i = 0; i < st.ndev; i++)
		record(MIG_REC_DEVICE, body, mig_device_encode(&st.dev[i], body));
	for (unsigned i = 1; i < st.nvcpus; i++)
		record(MIG_REC_AP_STATE, body, mig_ap_encode(&st.ap[i - 1], body));
	record(MIG_REC_PLACEMENT, body, mig_placement_encode(&st.placement, body));
	for (unsigned i = 0; i < sd->ndisks; i++)
		disk_end(&sd->disk[i], i);
	record(MIG_REC_END, body, 0);
	if (sd->go)
		record(MIG_REC_GO, body, 0);
	save(sd->file);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_recv_seeds OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	mkdir(outdir, 0777); /* or it exists: save() says when it cannot write */
	const struct recv_store_facts *f = recv_store_facts();
	fuzz_datastore = recv_store_open();
	const struct seed_disk fresh = { .name = "fresh", .size = 128 * 1024, .like = "shared" };
	const struct seed_disk on_base = { .name = "child", .size = 256 * 1024, .like = "gold",
					   .ancestor = f->base_cid.b };
	const struct seed_disk resumed = { .name = RECV_STORE_KEPT, .size = f->kept_size,
					   .like = "gold", .uuid = f->kept_uuid.b,
					   .cid = f->kept_cid.b, .start = f->kept_offset,
					   .start_crc = f->kept_crc };
	const struct seed_disk shared = { .name = RECV_STORE_SHARED, .flags = MIG_DISK_SHARED,
					  .size = f->shared_size, .like = RECV_STORE_SHARED,
					  .uuid = f->shared_uuid.b, .final_cid = f->shared_cid.b };
	const struct seed_disk read_only = { .name = "ro", .flags = MIG_DISK_READ_ONLY,
					     .size = 128 * 1024, .like = "shared" };
	const struct seed seeds[] = {
		{ "recv-running", MIG_RUN_RUNNING, false, true, 0, { { 0 } } },
		{ "recv-paused-long-mode", MIG_RUN_PAUSED, true, true, 0, { { 0 } } },
		{ "recv-created-no-go", MIG_RUN_CREATED, false, false, 0, { { 0 } } },
		{ "recv-disk-fresh", MIG_RUN_RUNNING, false, true, 1, { fresh } },
		{ "recv-disk-on-base", MIG_RUN_RUNNING, true, true, 1, { on_base } },
		{ "recv-disk-resumed", MIG_RUN_PAUSED, false, true, 1, { resumed } },
		{ "recv-disk-shared", MIG_RUN_RUNNING, false, true, 1, { shared } },
		{ "recv-disks-two", MIG_RUN_RUNNING, false, true, 2, { read_only, on_base } },
		{ "recv-four-vcpus", MIG_RUN_RUNNING, false, true, 0, { { 0 } }, 4 },
	};
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		write_seed(&seeds[i]);
	/* Bugs found: a VM name with control bytes reached the console in
	 * vm.c's refusal (migrate/state_codec.c now refuses it). */
	len = 0;
	header();
	config("seed\177\033[2J", 1);
	save("regress-recv-name-unprintable");
	char why[160];
	if (recv_store_close(fuzz_datastore, why, sizeof(why))) {
		fprintf(stderr, "gen_recv_seeds: %s\n", why);
		return 1;
	}
	return 0;
}
