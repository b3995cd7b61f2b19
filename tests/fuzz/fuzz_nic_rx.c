/* libFuzzer target: the NIC drivers' receive (and transmit-completion)
 * paths, drivers/net/e1000.c and drivers/net/virtio_net.c, against a
 * simulated device whose write-backs the input decides: descriptor
 * lengths and status bits, used-ring IDs and lengths, indexes that jump.
 * The driver must never touch memory outside its buffers and rings, hand
 * up a frame outside the buffer it lent, return a buffer twice, lose one,
 * or report a send twice.
 *
 * The drivers are built unchanged for the host: the BAR is heap memory
 * (fuzz_pci_sim.c), pages and heap come from malloc (fuzz_mm.c), the clock
 * lets the device act while the driver waits (fuzz_env.c), the NIC
 * registry is emptied between cases (fuzz_nic_registry.c).
 *
 * Input: the device (byte 0: e1000, e1000e, virtio-net), its set-up (read
 * by the model's probe), then operations: a byte naming one, its
 * arguments after it. */
#include <sanitizer/asan_interface.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_env.h"
#include "tests/fuzz/fuzz_nic.h"

#define MAX_LENT 1024
#define MAX_SENDS 512
#define TX_PAYLOAD 4096
/* Receive buffers sit in one arena, a poisoned gap after each and poisoned
 * while not lent: ASan sees overruns and use after return, and the buffer
 * an address falls in is found by division. */
#define STRIDE (2 * NIC_RX_BUF_SIZE)

struct rx_slot {
	uint8_t *data; /* NULL: not lent */
};

static uint8_t *arena;
static struct rx_slot lent[MAX_LENT];
static uint16_t free_slots[MAX_LENT]; /* [0, MAX_LENT - nlent): slots not lent */
static size_t nlent;
static bool send_in_flight[MAX_SENDS];
static uint8_t *tx_payload;
static uint64_t delivered;
bool fuzz_client_starved;

static struct rx_slot *lent_slot(void *cookie)
{
	struct rx_slot *s = cookie;

	if (s < lent || s >= lent + MAX_LENT || !s->data)
		abort(); /* not a buffer the driver holds: returned twice, or never lent */
	return s;
}

static bool client_alloc(void *ctx, struct nic_rx_buf *out)
{
	(void)ctx;
	if (fuzz_client_starved || nlent == MAX_LENT)
		return false;
	struct rx_slot *s = &lent[free_slots[MAX_LENT - 1 - nlent++]];
	s->data = arena + (size_t)(s - lent) * STRIDE;
	ASAN_UNPOISON_MEMORY_REGION(s->data, NIC_RX_BUF_SIZE);
	memset(s->data, 0xa5, NIC_RX_BUF_SIZE); /* what the last user left */
	*out = (struct nic_rx_buf){ s, s->data, NIC_RX_BUF_SIZE };
	return true;
}

static void give_back(struct rx_slot *s)
{
	ASAN_POISON_MEMORY_REGION(s->data, NIC_RX_BUF_SIZE);
	s->data = NULL;
	free_slots[MAX_LENT - nlent--] = (uint16_t)(s - lent);
}

static void client_free(void *ctx, void *cookie)
{
	(void)ctx;
	give_back(lent_slot(cookie));
}

static uint8_t *client_data(void *ctx, void *cookie)
{
	(void)ctx;
	return lent_slot(cookie)->data;
}

static void client_deliver(void *ctx, void *cookie, uint8_t *frame, size_t len, unsigned flags)
{
	(void)flags;
	struct rx_slot *s = lent_slot(cookie);
	volatile uint8_t sink = 0;

	(void)ctx;
	if (frame < s->data || len > NIC_RX_BUF_SIZE || frame + len > s->data + NIC_RX_BUF_SIZE ||
	    len < NIC_MIN_FRAME || len > NIC_MAX_FRAME + 4)
		abort();
	for (size_t i = 0; i < len; i++)
		sink ^= frame[i]; /* the network layer reads it all */
	(void)sink;
	delivered++;
	give_back(s);
}

static void client_tx_done(void *ctx, void *cookie)
{
	bool *sent = cookie;

	(void)ctx;
	if (sent < send_in_flight || sent >= send_in_flight + MAX_SENDS || !*sent)
		abort(); /* a send reported done twice, or one never made */
	*sent = false;
}

const struct nic_client fuzz_client = {
	.rx_buf_alloc = client_alloc,
	.rx_buf_free = client_free,
	.rx_buf_data = client_data,
	.rx_deliver = client_deliver,
	.tx_done = client_tx_done,
};

uint8_t *fuzz_client_lent(uint64_t addr, uint64_t len)
{
	uint64_t base = (uint64_t)(uintptr_t)arena;

	if (addr < base || addr >= base + (uint64_t)MAX_LENT * STRIDE || len > NIC_RX_BUF_SIZE)
		return NULL;
	uint8_t *d = lent[(addr - base) / STRIDE].data;
	if (!d || addr + len > (uint64_t)(uintptr_t)d + NIC_RX_BUF_SIZE)
		return NULL;
	return d;
}

size_t fuzz_client_lent_count(void)
{
	return nlent;
}

bool fuzz_client_sent(uint64_t addr, uint64_t len)
{
	uint64_t base = (uint64_t)(uintptr_t)tx_payload;

	return addr >= base && len <= TX_PAYLOAD && addr + len <= base + TX_PAYLOAD;
}

void fuzz_fill_frame(uint8_t *buf, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i);
}

/* A frame of up to three segments, lengths from the input: the driver
 * refuses a bad total, sends the rest. */
static void send_frame(struct nic *nic, struct fuzz_in *in)
{
	static unsigned next;
	struct nic_seg segs[3];
	int nsegs = 1 + in_u8(in) % 3;
	size_t off = 0;

	for (int i = 0; i < nsegs; i++) {
		size_t len = in_u16(in) % 1100;
		segs[i] = (struct nic_seg){ tx_payload + off, len };
		off += len;
	}
	unsigned k = next++ % MAX_SENDS;
	if (send_in_flight[k])
		return;
	uint8_t how = in_u8(in);
	void *cookie = how & 1 ? NULL : &send_in_flight[k]; /* NULL: nobody waits */
	/* A checksum request where the device offers it, its place from the input. */
	struct nic_tx_csum csum = { in_u8(in), how & 2 ? 16 : 6 };
	bool offload = (how & 4) && (nic->offloads & NIC_OFFLOAD_TX_L4_CSUM);
	if (nic->ops->send(nic, segs, nsegs, offload ? &csum : NULL, cookie) == NIC_SENT && cookie)
		send_in_flight[k] = true;
	if (how & 8)
		nic->ops->flush(nic); /* else the device hears of it with a later batch */
}

static void run_ops(const struct nic_model *m, struct nic *nic, struct fuzz_in *in)
{
	while (in->n) {
		switch (in_u8(in) % 7) {
		case 0:
			m->rx(in);
			break;
		case 1: {
			uint64_t frames = nic->stats.rx_frames;
			nic->ops->poll(nic, in_u8(in) % 80);
			if (nic->stats.rx_frames - frames > 80)
				abort(); /* more frames than the budget */
			m->check();
			break;
		}
		case 2:
			send_frame(nic, in);
			break;
		case 3:
			m->tx(in);
			break;
		case 4:
			m->hostile(in);
			break;
		case 5:
			fuzz_client_starved = !fuzz_client_starved;
			break;
		case 6:
			nic->ops->link_up(nic);
			break;
		}
	}
	if (nic->stats.rx_frames != delivered)
		abort(); /* counted frames the stack never saw, or the reverse */
	if (getenv("FUZZ_LOG")) /* what a seed reached */
		fprintf(stderr, "%s: rx %lu frames, %lu errors, %lu dropped; tx %lu frames\n",
			nic->model, (unsigned long)nic->stats.rx_frames,
			(unsigned long)nic->stats.rx_errors, (unsigned long)nic->stats.rx_dropped,
			(unsigned long)nic->stats.tx_frames);
}

static void release(const struct nic_model *m)
{
	m->release();
	for (size_t i = 0; i < MAX_LENT; i++)
		if (lent[i].data)
			give_back(&lent[i]);
	memset(send_in_flight, 0, sizeof(send_in_flight));
	delivered = 0;
	fuzz_client_starved = false;
	fuzz_time_hook = NULL;
	fuzz_pages_hook = NULL;
	fuzz_mm_release_all();
	fuzz_nic_forget_all();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct nic_model *const models[] = { &fuzz_e1000_model, &fuzz_e1000e_model,
							  &fuzz_vnet_model };
	struct fuzz_in in = { data, size };

	if (!tx_payload) {
		tx_payload = malloc(TX_PAYLOAD);
		fuzz_fill_frame(tx_payload, TX_PAYLOAD, 0x40);
		arena = aligned_alloc(4096, (size_t)MAX_LENT * STRIDE);
		ASAN_POISON_MEMORY_REGION(arena, (size_t)MAX_LENT * STRIDE);
		for (size_t i = 0; i < MAX_LENT; i++)
			free_slots[i] = (uint16_t)i;
	}
	const struct nic_model *m = models[in_u8(&in) % 3];
	struct nic *nic = m->probe(&in);
	if (nic)
		run_ops(m, nic, &in);
	release(m);
	return 0;
}
