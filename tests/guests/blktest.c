/* A virtio-blk test guest: a minimal modern (virtio 1.x) PCI driver that
 * polls its one queue, and a few ways to exercise a disk.
 *
 * It finds the dev=N'th (default 0) 1af4:1042 function on bus 0 through
 * ports 0xcf8/0xcfc, uses its BARs as placed before boot (or places them:
 * memory at 0xc0000000 + N * 1 MiB, I/O at 0xc000 + N * 0x40), walks the
 * vendor capabilities (the notify one may point into I/O space),
 * negotiates VERSION_1 + FLUSH (+ RO when offered), sets up queue 0 (64
 * entries, or fewer when the device has fewer) with interrupts suppressed,
 * and polls the used ring. Numbers on the command line are decimal or 0x
 * hex; every mode ends with "blktest: done" and exits (0, or 1 on FAIL).
 *
 *   mode=info                 capacity, features, serial (GET_ID)
 *   mode=pattern seed=S start=SECTOR count=SECTORS
 *                             write the pattern, FLUSH, read back, compare
 *   mode=verify seed= start= count=
 *                             read and compare only (another VM wrote it)
 *   mode=rounds blocks=N      round r = 1, 2, ...: write blocks 0..N-1
 *                             (4 KiB each: sectors 8b..8b+7), FLUSH, print
 *                             "blktest: acked round=r"; forever
 *   mode=bad                  malformed requests, then a good write/read
 *   mode=bench size=MB bs=KiB op=read|write|randread|randwrite qd=N
 *
 * The data, for a host-side checker (Python, M = 2**64 - 1):
 *
 *   def mix(a, b, i):
 *       x = (a * 0x9E3779B97F4A7C15 + b * 0xBF58476D1CE4E5B9 +
 *            i * 0x94D049BB133111EB + 1) & M
 *       x ^= x >> 31; x = (x * 0xD6E8FEB86659FD93) & M; x ^= x >> 29
 *       return x
 *
 * pattern/verify: 64-bit little-endian word i (0-63) of sector s is
 * mix(seed, s, i). sum: over the sectors' words in disk order,
 * sum = ((sum ^ w) * 0x100000001B3) & M, starting from 0xCBF29CE484222325.
 * rounds: sector s written in round r holds word 0 = r, word 1 = s, and
 * words 2-63 = mix(r, s, i): every sector says which round wrote it. */
#include "rt.h"

#define VENDOR 0x1af4
#define DEVICE 0x1042
#define SECTOR 512u
#define QUEUE_WANT 64
#define MAX_QD 16
#define CHUNK_SECTORS 128u     /* 64 KiB per request in pattern/verify/rounds */
#define TIMEOUT_S 10

/* virtio 1.2: status bits (2.1), features, request types and status (5.2.6). */
#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define F_RO (1ull << 5)
#define F_FLUSH (1ull << 9)
#define F_VERSION_1 (1ull << 32)
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define D_NEXT 1
#define D_WRITE 2

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct req_header {
	uint32_t type, reserved;
	uint64_t sector;
};

/* One request slot: descriptors 3k..3k+2, its header, status and buffer. */
struct slot {
	struct req_header hdr;
	volatile uint8_t status;
	uint8_t *buf;
	bool busy;
};

static struct {
	volatile uint8_t *common, *isr, *device;
	volatile uint16_t *notify;  /* memory notify address, or NULL: */
	uint16_t notify_port;       /* ... the port (an I/O BAR, 4.1.4.4) */
	uint64_t features, capacity;
	uint16_t qsize, avail_idx, used_seen;
	volatile struct desc *desc;
	volatile uint16_t *avail;  /* flags, idx, ring[] */
	volatile uint8_t *used;    /* flags, idx, {id, len}[] */
	struct slot slots[MAX_QD];
} vq;

static uint8_t *heap;
static uint32_t notify_multiplier;
extern char _end[];

static void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

/* Page-aligned memory above the image; exits when RAM runs out. */
static void *alloc(uint32_t bytes)
{
	if (!heap)
		heap = (uint8_t *)(((uint32_t)_end + 4095) & ~4095u);
	uint8_t *p = heap;
	heap += (bytes + 4095) & ~4095u;
	if ((uint32_t)heap > guest_mem_top) {
		gprintf("blktest: FAIL out of memory (%u bytes wanted)\n", bytes);
		gprintf("blktest: done\n");
		guest_exit(1);
	}
	memset(p, 0, bytes);
	return p;
}

static __attribute__((noreturn)) void fail(const char *what)
{
	gprintf("blktest: FAIL %s\n", what);
	gprintf("blktest: done\n");
	guest_exit(1);
}

/* ---- PCI through configuration mechanism #1. */

static uint32_t cfg_read32(unsigned dev, unsigned fn, unsigned reg)
{
	outl(0xcf8, 0x80000000u | dev << 11 | fn << 8 | (reg & 0xfc));
	return inl(0xcfc);
}

static void cfg_write32(unsigned dev, unsigned fn, unsigned reg, uint32_t v)
{
	outl(0xcf8, 0x80000000u | dev << 11 | fn << 8 | (reg & 0xfc));
	outl(0xcfc, v);
}

static uint8_t cfg_read8(unsigned dev, unsigned fn, unsigned reg)
{
	return (uint8_t)(cfg_read32(dev, fn, reg) >> (8 * (reg & 3)));
}

/* The n'th virtio-blk function on bus 0 (devices 1-31). */
static bool find_device(unsigned n, unsigned *dev, unsigned *fn)
{
	for (unsigned d = 1; d < 32; d++) {
		if (cfg_read32(d, 0, 0) == 0xffffffffu)
			continue;
		unsigned fns = (cfg_read8(d, 0, 0x0e) & 0x80) ? 8 : 1;
		for (unsigned f = 0; f < fns; f++) {
			if (cfg_read32(d, f, 0) != (DEVICE << 16 | VENDOR))
				continue;
			if (n-- == 0) {
				*dev = d, *fn = f;
				return true;
			}
		}
	}
	return false;
}

/* A memory BAR's address below 4 GiB (paging is off: that is all the
 * guest reaches); an unassigned BAR 4 is placed in 0xc0000000-0xdfffffff.
 * An I/O BAR's port base (placed at 0xc000 + n * 0x40 when unassigned). */
static uint32_t bar_address(unsigned dev, unsigned fn, unsigned bar, unsigned n)
{
	unsigned reg = 0x10 + 4 * bar;
	uint32_t lo = cfg_read32(dev, fn, reg), hi = 0;

	if (lo & 1) {
		if ((lo & ~0x3u) == 0) {
			lo = 0xc000u + n * 0x40u;
			cfg_write32(dev, fn, reg, lo | 1);
		}
		return lo & 0xfffcu;
	}
	if ((lo & 6) == 4)
		hi = cfg_read32(dev, fn, reg + 4);
	if (hi)
		fail("BAR above 4 GiB");
	if ((lo & ~0xfu) == 0) {
		lo = 0xc0000000u + n * 0x100000u;
		cfg_write32(dev, fn, reg, lo);
		gprintf("blktest: BAR %u was unassigned, placed at 0x%x\n", bar, lo);
	}
	return lo & ~0xfu;
}

/* 4.1.4: the vendor capabilities (cfg_type 1 common, 2 notify, 3 ISR, 4
 * device) point into BARs. */
static void find_regions(unsigned dev, unsigned fn, unsigned n)
{
	volatile uint8_t *notify_base = 0;
	bool notify_io = false;

	if (!(cfg_read32(dev, fn, 0x04) & (0x10u << 16)))
		fail("no capability list");
	unsigned at = cfg_read8(dev, fn, 0x34) & 0xfc;
	for (unsigned hops = 0; at && hops < 48; hops++) {
		if (cfg_read8(dev, fn, at) == 0x09) {
			unsigned type = cfg_read8(dev, fn, at + 3);
			unsigned bar = cfg_read8(dev, fn, at + 4);
			uint32_t off = cfg_read32(dev, fn, at + 8);
			if (bar > 5)
				fail("capability names BAR > 5");
			uint32_t base = bar_address(dev, fn, bar, n);
			volatile uint8_t *p = (volatile uint8_t *)(base + off);
			if (type == 1 && !vq.common) vq.common = p;
			if (type == 3 && !vq.isr) vq.isr = p;
			if (type == 4 && !vq.device) vq.device = p;
			if (type == 2 && !notify_base) {
				notify_base = p;
				notify_io = cfg_read32(dev, fn, 0x10 + 4 * bar) & 1;
				notify_multiplier = cfg_read32(dev, fn, at + 16);
			}
		}
		at = cfg_read8(dev, fn, at + 1) & 0xfc;
	}
	if (!vq.common || !vq.isr || !vq.device || !notify_base)
		fail("a virtio capability is missing");
	/* queue_notify_off is applied later */
	if (notify_io)
		vq.notify_port = (uint16_t)(uint32_t)notify_base;
	else
		vq.notify = (volatile uint16_t *)notify_base;
}

/* ---- Common configuration (4.1.4.3). */

static uint32_t c32(unsigned off) { return *(volatile uint32_t *)(vq.common + off); }
static uint16_t c16(unsigned off) { return *(volatile uint16_t *)(vq.common + off); }
static uint8_t c8(unsigned off) { return vq.common[off]; }
static void w32(unsigned off, uint32_t v) { *(volatile uint32_t *)(vq.common + off) = v; }
static void w16(unsigned off, uint16_t v) { *(volatile uint16_t *)(vq.common + off) = v; }
static void w8(unsigned off, uint8_t v) { vq.common[off] = v; }

static void w64(unsigned off, uint64_t v)
{
	w32(off, (uint32_t)v);
	w32(off + 4, (uint32_t)(v >> 32));
}

/* 3.1.1: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queue,
 * DRIVER_OK. */
static void driver_init(void)
{
	w8(0x14, 0);
	while (c8(0x14) != 0)
		;
	w8(0x14, S_ACK);
	w8(0x14, S_ACK | S_DRIVER);
	w32(0x00, 0);
	uint64_t offered = c32(0x04);
	w32(0x00, 1);
	offered |= (uint64_t)c32(0x04) << 32;
	vq.features = offered;
	if (!(offered & F_VERSION_1))
		fail("device does not offer VERSION_1");
	uint64_t want = offered & (F_VERSION_1 | F_FLUSH | F_RO);
	w32(0x08, 0);
	w32(0x0c, (uint32_t)want);
	w32(0x08, 1);
	w32(0x0c, (uint32_t)(want >> 32));
	w8(0x14, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (!(c8(0x14) & S_FEATURES_OK))
		fail("FEATURES_OK did not stick");

	w16(0x16, 0);
	uint16_t max = c16(0x18);
	if (max == 0)
		fail("queue 0 unavailable");
	vq.qsize = max < QUEUE_WANT ? max : QUEUE_WANT;
	w16(0x18, vq.qsize);
	vq.desc = alloc(16u * vq.qsize);
	vq.avail = alloc(6u + 2u * vq.qsize);
	vq.used = alloc(6u + 8u * vq.qsize);
	vq.avail[0] = 1; /* VIRTQ_AVAIL_F_NO_INTERRUPT: this driver polls */
	w64(0x20, (uint32_t)vq.desc);
	w64(0x28, (uint32_t)vq.avail);
	w64(0x30, (uint32_t)vq.used);
	if (vq.notify_port)
		vq.notify_port = (uint16_t)(vq.notify_port + c16(0x1e) * notify_multiplier);
	else
		vq.notify = (volatile uint16_t *)((volatile uint8_t *)vq.notify +
						   c16(0x1e) * notify_multiplier);
	w16(0x1c, 1);
	vq.avail_idx = vq.used_seen = 0;
	w8(0x14, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	/* 4.1.3.1: a 64-bit field as two 32-bit reads, until the
	 * configuration generation is the same before and after. */
	for (uint8_t gen = c8(0x15);; gen = c8(0x15)) {
		uint32_t lo = *(volatile uint32_t *)vq.device;
		uint32_t hi = *(volatile uint32_t *)(vq.device + 4);
		vq.capacity = (uint64_t)hi << 32 | lo;
		if (gen == c8(0x15))
			break;
	}
}

/* ---- The queue. */

static void post(uint16_t head)
{
	vq.avail[2 + vq.avail_idx % vq.qsize] = head;
	barrier();
	vq.avail_idx++;
	vq.avail[1] = vq.avail_idx;
	barrier();
	if (vq.notify_port)
		outw(vq.notify_port, 0);
	else
		*vq.notify = 0;
}

/* The next used element; fails after TIMEOUT_S seconds without one. */
static void wait_used(uint16_t *id, uint32_t *len)
{
	static uint32_t khz; /* CPUID exits: once, not in every poll */

	if (!khz)
		khz = tsc_khz() ? tsc_khz() : 2000000;
	uint64_t deadline = rdtsc() + (uint64_t)khz * 1000 * TIMEOUT_S;

	while (*(volatile uint16_t *)(vq.used + 2) == vq.used_seen) {
		if (rdtsc() > deadline)
			fail("timeout waiting for the device");
		__asm__ volatile("pause");
	}
	barrier();
	volatile uint8_t *e = vq.used + 4 + 8u * (vq.used_seen % vq.qsize);
	*id = (uint16_t)*(volatile uint32_t *)e;
	*len = *(volatile uint32_t *)(e + 4);
	vq.used_seen++;
}

static void set_desc(uint16_t i, const void *addr, uint32_t len, uint16_t flags, uint16_t next)
{
	vq.desc[i].addr = (uint32_t)addr;
	vq.desc[i].len = len;
	vq.desc[i].flags = flags;
	vq.desc[i].next = next;
}

/* Starts a request in slot k: header, data (len bytes at buf; 0: none),
 * status. */
static void start(unsigned k, uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
	struct slot *s = &vq.slots[k];
	uint16_t d = (uint16_t)(3 * k);

	s->hdr = (struct req_header){ type, 0, sector };
	s->status = 0xff;
	s->busy = true;
	set_desc(d, &s->hdr, sizeof(s->hdr), D_NEXT, len ? d + 1 : d + 2);
	if (len)
		set_desc(d + 1, buf, len, (uint16_t)((type == T_OUT ? 0 : D_WRITE) | D_NEXT),
			 d + 2);
	set_desc(d + 2, (void *)&s->status, 1, D_WRITE, 0);
	post(d);
}

/* Waits for one completion; returns its slot, and the used length. */
static unsigned complete_one(uint32_t *len)
{
	uint16_t id;

	wait_used(&id, len);
	unsigned k = id / 3;
	if (id % 3 || k >= MAX_QD || !vq.slots[k].busy)
		fail("the device returned a descriptor that was not a request's head");
	vq.slots[k].busy = false;
	return k;
}

/* One request, synchronously: the status byte. */
static uint8_t request(uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
	uint32_t used;

	start(0, type, sector, buf, len);
	complete_one(&used);
	return vq.slots[0].status;
}

static void must(uint8_t status, const char *what, uint64_t sector)
{
	if (status != 0) {
		gprintf("blktest: %s FAIL sector=%lu status=%u\n", what, sector, status);
		gprintf("blktest: done\n");
		guest_exit(1);
	}
}

/* ---- Data. */

static uint64_t mix(uint64_t a, uint64_t b, uint64_t i)
{
	uint64_t x = a * 0x9e3779b97f4a7c15ull + b * 0xbf58476d1ce4e5b9ull +
		     i * 0x94d049bb133111ebull + 1;
	x ^= x >> 31;
	x *= 0xd6e8feb86659fd93ull;
	return x ^ (x >> 29);
}

static void fill_pattern(uint64_t *w, uint32_t seed, uint64_t sector, uint32_t sectors)
{
	for (uint32_t s = 0; s < sectors; s++)
		for (uint32_t i = 0; i < 64; i++)
			w[64 * s + i] = mix(seed, sector + s, i);
}

static uint64_t sum_words(uint64_t sum, const uint64_t *w, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		sum = (sum ^ w[i]) * 0x100000001b3ull;
	return sum;
}

static void check_range(uint32_t start_sector, uint32_t count)
{
	if ((uint64_t)start_sector + count > vq.capacity)
		fail("start + count past the disk's capacity");
}

/* Reads [start, start + count) and compares with the pattern. */
static void verify(const char *mode, uint32_t seed, uint32_t first, uint32_t count)
{
	uint64_t *buf = alloc(CHUNK_SECTORS * SECTOR), sum = 0xcbf29ce484222325ull;

	for (uint32_t done = 0; done < count;) {
		uint32_t n = count - done < CHUNK_SECTORS ? count - done : CHUNK_SECTORS;
		must(request(T_IN, first + done, buf, n * SECTOR), mode, first + done);
		for (uint32_t s = 0; s < n; s++)
			for (uint32_t i = 0; i < 64; i++) {
				uint64_t want = mix(seed, first + done + s, i);
				if (buf[64 * s + i] != want) {
					gprintf("blktest: %s FAIL sector=%u word=%u got=0x%lx "
						"want=0x%lx\n", mode, first + done + s, i,
						buf[64 * s + i], want);
					fail("data differs");
				}
			}
		sum = sum_words(sum, buf, n * 64);
		done += n;
	}
	gprintf("blktest: %s ok sectors=%u sum=%016lx\n", mode, count, sum);
}

static void mode_pattern(bool write)
{
	uint32_t seed = arg_u32("seed", 1), first = arg_u32("start", 0);
	uint32_t count = arg_u32("count", 2048);

	check_range(first, count);
	if (write) {
		uint64_t *buf = alloc(CHUNK_SECTORS * SECTOR);
		for (uint32_t done = 0; done < count;) {
			uint32_t n = count - done < CHUNK_SECTORS ? count - done : CHUNK_SECTORS;
			fill_pattern(buf, seed, first + done, n);
			must(request(T_OUT, first + done, buf, n * SECTOR), "pattern",
			     first + done);
			done += n;
		}
		must(request(T_FLUSH, 0, 0, 0), "pattern flush", 0);
	}
	verify(write ? "pattern" : "verify", seed, first, count);
}

static void mode_info(void)
{
	char serial[21];

	memset(serial, 0, sizeof(serial));
	must(request(T_GET_ID, 0, serial, 20), "info get_id", 0);
	gprintf("blktest: features=0x%lx seg_max=%u blk_size=%u\n", vq.features,
		*(volatile uint32_t *)(vq.device + 12), *(volatile uint32_t *)(vq.device + 20));
	gprintf("blktest: capacity=%lu ro=%u serial=%s\n", vq.capacity,
		(uint32_t)((vq.features & F_RO) != 0), serial);
}

/* Forever: every sector of blocks 0..N-1 rewritten with the round's
 * content, a FLUSH, then the acknowledgement. */
static void mode_rounds(void)
{
	uint32_t blocks = arg_u32("blocks", 64), sectors = blocks * 8;
	uint64_t *buf = alloc(CHUNK_SECTORS * SECTOR);

	check_range(0, sectors);
	for (uint32_t r = 1;; r++) {
		for (uint32_t done = 0; done < sectors;) {
			uint32_t n = sectors - done;
			n = n < CHUNK_SECTORS ? n : CHUNK_SECTORS;
			for (uint32_t s = 0; s < n; s++) {
				uint64_t *w = buf + 64 * s;
				w[0] = r;
				w[1] = done + s;
				for (uint32_t i = 2; i < 64; i++)
					w[i] = mix(r, done + s, i);
			}
			must(request(T_OUT, done, buf, n * SECTOR), "rounds", done);
			done += n;
		}
		must(request(T_FLUSH, 0, 0, 0), "rounds flush", 0);
		gprintf("blktest: acked round=%u\n", r);
	}
}

/* A raw chain: the descriptors as given (indexes from 3 * MAX_QD on, past
 * the slots'), made available from 'head'. Returns the status byte and
 * the used length. */
static uint8_t raw(uint16_t head, uint32_t *len)
{
	uint16_t id;

	post(head);
	wait_used(&id, len);
	if (id != head)
		fail("the used element names another chain");
	return vq.slots[0].status;
}

static void bad_one(const char *name, uint32_t type, uint64_t sector, uint32_t header_len,
		    uint32_t data_len, bool bad_next)
{
	static uint8_t data[1024] __attribute__((aligned(512)));
	struct slot *s = &vq.slots[0];
	uint16_t d = 3 * MAX_QD;
	uint32_t len;

	if (d + 3 > vq.qsize)
		d = 0;
	s->hdr = (struct req_header){ type, 0, sector };
	s->status = 0xff;
	set_desc(d, &s->hdr, header_len, D_NEXT, bad_next ? vq.qsize : (data_len ? d + 1 : d + 2));
	set_desc(d + 1, data, data_len, D_WRITE | D_NEXT, d + 2);
	set_desc(d + 2, (void *)&s->status, 1, D_WRITE, 0);
	uint8_t status = raw(d, &len);
	gprintf("blktest: bad %s status=%u len=%u\n", name, status, len);
}

static void mode_bad(void)
{
	static uint64_t buf[128];

	bad_one("range", T_IN, vq.capacity, 16, 512, false);
	bad_one("short_header", T_IN, 0, 7, 0, false);
	bad_one("bad_index", T_IN, 0, 16, 512, true);
	bad_one("odd_length", T_IN, 0, 16, 100, false);
	bad_one("unknown_type", 0x55, 0, 16, 512, false);
	uint64_t last = vq.capacity - 2;
	fill_pattern(buf, 77, last, 2);
	if (vq.features & F_RO) {
		must(request(T_IN, last, buf, 1024), "bad read", last);
	} else {
		must(request(T_OUT, last, buf, 1024), "bad write", last);
		memset(buf, 0, sizeof(buf));
		must(request(T_IN, last, buf, 1024), "bad read", last);
		for (uint32_t i = 0; i < 128; i++)
			if (buf[i] != mix(77, last + i / 64, i % 64))
				fail("bad: the good write did not read back");
	}
	gprintf("blktest: bad done, device ok\n");
}

static uint32_t rng = 0x2545f491u;

static uint32_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* size MB in bs KiB requests, qd in flight; random offsets are bs-aligned. */
static void mode_bench(void)
{
	char op[16];
	uint32_t size_mb = arg_u32("size", 16), bs_kib = arg_u32("bs", 64);
	uint32_t qd = arg_u32("qd", 1);

	if (!arg_str("op", op, sizeof(op)))
		memcpy(op, "read", 5);
	bool write = !strncmp(op, "write", 6) || !strncmp(op, "randwrite", 10);
	bool random = !strncmp(op, "rand", 4);
	if (bs_kib == 0 || qd == 0 || qd > MAX_QD || 3 * qd > vq.qsize)
		fail("bench: bs must be > 0 and qd 1-16 (and fit the queue)");
	uint32_t bs = bs_kib * 1024, per = bs / SECTOR;
	uint32_t ios = (uint32_t)udiv64((uint64_t)size_mb << 20, bs, 0);
	uint32_t blocks = (uint32_t)udiv64(vq.capacity, per, 0);
	if (blocks == 0)
		fail("bench: bs larger than the disk");
	for (uint32_t k = 0; k < qd; k++) {
		vq.slots[k].buf = alloc(bs);
		memset(vq.slots[k].buf, (int)(0x5a + k), bs);
	}
	uint32_t issued = 0, completed = 0, seq = 0, len;
	uint64_t t0 = rdtsc();
	while (completed < ios) {
		for (uint32_t k = 0; k < qd && issued < ios; k++) {
			if (vq.slots[k].busy)
				continue;
			uint32_t block = random ? next_random() % blocks : seq++ % blocks;
			start(k, write ? T_OUT : T_IN, (uint64_t)block * per, vq.slots[k].buf, bs);
			issued++;
		}
		unsigned k = complete_one(&len);
		must(vq.slots[k].status, "bench", vq.slots[k].hdr.sector);
		completed++;
	}
	uint64_t t1 = rdtsc();
	gprintf("blktest: bench op=%s bytes=%lu ios=%u tsc=%lu\n", op, (uint64_t)ios * bs, ios,
		t1 - t0);
	gprintf("blktest: bench tsc_khz=%u qd=%u bs=%u\n", tsc_khz(), qd, bs);
}

int main(uint32_t magic, const struct mb_info *mbi);
int main(uint32_t magic, const struct mb_info *mbi)
{
	char mode[16];
	unsigned dev, fn, n;

	rt_init(magic, mbi);
	n = arg_u32("dev", 0);
	if (!arg_str("mode", mode, sizeof(mode)))
		memcpy(mode, "info", 5);
	if (!find_device(n, &dev, &fn))
		fail("no virtio-blk device (1af4:1042) on bus 0");
	find_regions(dev, fn, n);
	cfg_write32(dev, fn, 0x04, (cfg_read32(dev, fn, 0x04) & 0xffff) | 0x6); /* memory, master */
	driver_init();
	gprintf("blktest: device %u at 00:%02x.%u, queue %u, capacity %lu\n", n, dev, fn,
		vq.qsize, vq.capacity);
	if (!strncmp(mode, "pattern", 8))
		mode_pattern(true);
	else if (!strncmp(mode, "verify", 7))
		mode_pattern(false);
	else if (!strncmp(mode, "info", 5))
		mode_info();
	else if (!strncmp(mode, "rounds", 7))
		mode_rounds();
	else if (!strncmp(mode, "bad", 4))
		mode_bad();
	else if (!strncmp(mode, "bench", 6))
		mode_bench();
	else
		fail("unknown mode");
	gprintf("blktest: done\n");
	return 0;
}
