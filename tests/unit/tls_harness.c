#include "tests/unit/tls_harness.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

const uint8_t tls_key_a[32] = "0123456789abcdef0123456789abcdef";
const uint8_t tls_key_b[32] = "0123456789abcdef0123456789abcdeF";

#define STEP_LIMIT 1000000

int tls_fifo_send(void *ctx, const uint8_t *buf, size_t len)
{
	struct fifo *f = ((struct tls_end *)ctx)->tx;
	size_t room = f->cap - f->len;
	size_t n = len < room ? len : room;

	if (f->closed)
		return -1;
	memcpy(f->buf + f->len, buf, n);
	f->len += n;
	return (int)n;
}

int tls_fifo_recv(void *ctx, uint8_t *buf, size_t len)
{
	struct fifo *f = ((struct tls_end *)ctx)->rx;
	size_t n = len < f->len ? len : f->len;

	if (!n)
		return f->closed ? -1 : 0;
	memcpy(buf, f->buf, n);
	memmove(f->buf, f->buf + n, f->len - n);
	f->len -= n;
	return (int)n;
}

static void end_init(struct tls_end *e, enum mig_tls_role role, struct fifo *tx,
		     struct fifo *rx, const uint8_t *key)
{
	char err[160] = "";

	e->tx = tx;
	e->rx = rx;
	e->hs = 0;
	e->tls = mig_tls_new(role, key, 32, "hv-test", tls_fifo_send, tls_fifo_recv, e, err,
			     sizeof(err));
	cr_assert_not_null(e->tls, "mig_tls_new: %s", err);
}

void tls_pair_init(struct tls_pair *p, size_t cap, const uint8_t *client_key,
		   const uint8_t *server_key)
{
	memset(p, 0, sizeof(*p));
	cr_assert_leq(cap, TLS_FIFO_MAX);
	p->c2s.cap = p->s2c.cap = cap;
	end_init(&p->client, MIG_TLS_CLIENT, &p->c2s, &p->s2c, client_key);
	end_init(&p->server, MIG_TLS_SERVER, &p->s2c, &p->c2s, server_key);
}

bool tls_pair_handshake(struct tls_pair *p)
{
	for (int i = 0; i < STEP_LIMIT; i++) {
		if (p->client.hs == 0)
			p->client.hs = mig_tls_handshake(p->client.tls);
		if (p->server.hs == 0)
			p->server.hs = mig_tls_handshake(p->server.tls);
		if (p->client.hs && p->server.hs)
			return p->client.hs == 1 && p->server.hs == 1;
	}
	cr_assert_fail("handshake made no progress");
	return false;
}

void tls_pair_free(struct tls_pair *p)
{
	mig_tls_free(p->client.tls);
	mig_tls_free(p->server.tls);
}

void tls_fill_random(uint8_t *buf, size_t len, unsigned seed)
{
	srand(seed);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)rand();
}

/* One direction of an exchange: the sender keeps its chunk until it is taken. */
struct flow {
	struct tls_end *from, *to;
	const uint8_t *src;
	uint8_t *dst;
	size_t len, sent, chunk, got;
};

static bool flow_step(struct flow *f)
{
	bool moved = false;

	if (f->sent < f->len) {
		if (!f->chunk) {
			size_t left = f->len - f->sent;
			f->chunk = 1 + (size_t)rand() % 40000;
			f->chunk = f->chunk < left ? f->chunk : left;
		}
		int n = mig_tls_write(f->from->tls, f->src + f->sent, f->chunk);
		cr_assert_geq(n, 0, "write: %s", mig_tls_error(f->from->tls));
		if (n) {
			f->sent += (size_t)n;
			f->chunk = 0;
			moved = true;
		}
	}
	size_t want = 1 + (size_t)rand() % 30000;
	want = want < f->len - f->got ? want : f->len - f->got;
	if (want) {
		int n = mig_tls_read(f->to->tls, f->dst + f->got, want);
		cr_assert_geq(n, 0, "read: %s", mig_tls_error(f->to->tls));
		f->got += (size_t)n;
		moved |= n > 0;
	}
	return moved;
}

void tls_pair_exchange(struct tls_pair *p, const uint8_t *a, const uint8_t *b, size_t len,
		       unsigned seed)
{
	uint8_t *got_a = malloc(len), *got_b = malloc(len);
	struct flow up = { &p->client, &p->server, a, got_a, len, 0, 0, 0 };
	struct flow down = { &p->server, &p->client, b, got_b, len, 0, 0, 0 };
	int idle = 0;

	srand(seed);
	while ((up.got < len || down.got < len) && idle < 100) {
		bool moved = flow_step(&up);
		moved |= flow_step(&down);
		idle = moved ? 0 : idle + 1;
	}
	cr_assert_eq(up.got, len, "client to server: %zu of %zu bytes", up.got, len);
	cr_assert_eq(down.got, len, "server to client: %zu of %zu bytes", down.got, len);
	cr_assert(memcmp(got_a, a, len) == 0, "client to server: bytes differ");
	cr_assert(memcmp(got_b, b, len) == 0, "server to client: bytes differ");
	free(got_a);
	free(got_b);
}

void tls_write_all(struct tls_end *e, const uint8_t *buf, size_t len)
{
	size_t sent = 0;

	while (sent < len) {
		int n = mig_tls_write(e->tls, buf + sent, len - sent);
		cr_assert_gt(n, 0, "write blocked or failed: %s", mig_tls_error(e->tls));
		sent += (size_t)n;
	}
}

size_t tls_read_some(struct tls_end *e, uint8_t *buf, size_t want, int *last)
{
	size_t got = 0;
	int idle = 0;

	*last = 0;
	while (got < want && idle < 10) {
		*last = mig_tls_read(e->tls, buf + got, want - got);
		if (*last < 0)
			break;
		got += (size_t)*last;
		idle = *last ? 0 : idle + 1;
	}
	return got;
}
