/* The hypervisor around a host-built VM; see fuzz_vm_host.h. */
#include "tests/fuzz/fuzz_vm_host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/firmware.h"
#include "hv/core/console.h"
#include "hv/core/mainloop.h"
#include "hv/core/settings.h"
#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/mm/mm.h"
#include "hv/mm/pagetable.h"
#include "hv/store/datastore.h"
#include "hv/vm/image.h"
#include "hv/vm/vm.h"
#include "hv/vm/vm_load.h"
#include "hv/vm/vm_place.h"
#include "hv/x86/fpu.h"
#include "hv/x86/spinlock.h"
#include "migrate/seed.h"
#include "migrate/mig_conn.h"

void (*fuzz_console_hook)(const char *text, size_t len);
struct fuzz_replies fuzz_replies;
struct store *fuzz_datastore;
struct store *(*fuzz_datastore_opener)(void);

/* ---- the backend: state in memory, no guest ever runs ---- */

void fuzz_vcpu_reset_state(struct vcpu_state *s)
{
	memset(s, 0, sizeof(*s));
	s->regs.rflags = 2;
	s->regs.rip = 0xfff0;
	s->seg[SEG_CS] = (struct vcpu_segment){ 0xf000, 0x9b, 0xffff, 0xffff0000 };
	for (int i = 0; i < SEG_COUNT; i++)
		if (i != SEG_CS)
			s->seg[i] = (struct vcpu_segment){ 0, 0x93, 0xffff, 0 };
	s->seg[SEG_LDTR].attr = 0x82;
	s->seg[SEG_TR].attr = 0x8b;
	s->gdt.limit = s->idt.limit = 0xffff;
	s->cr0 = 0x60000010;
	s->dr6 = 0xffff0ff0;
	s->dr7 = 0x400;
	s->pat = 0x0007040600070406ull;
}

static int fake_vm_init(struct vm *vm)
{
	(void)vm;
	return 0;
}

static void fake_vm_destroy(struct vm *vm)
{
	(void)vm;
}

static int fake_vcpu_create(struct vcpu *v)
{
	struct fuzz_vcpu *f = kzalloc(sizeof(*f));

	if (!f)
		return -1;
	fuzz_vcpu_reset_state(&f->state);
	v->vendor = f;
	return 0;
}

static void fake_vcpu_destroy(struct vcpu *v)
{
	kfree(v->vendor);
	v->vendor = NULL;
}

/* A migration builds and hands over VMs; running one is the scheduler's
 * business, never the receiver's. */
static void fake_run(struct vcpu *v, struct vm_exit *exit)
{
	(void)v;
	(void)exit;
	fprintf(stderr, "a vCPU was run\n");
	abort();
}

static void fake_get_state(struct vcpu *v, struct vcpu_state *s)
{
	*s = ((struct fuzz_vcpu *)v->vendor)->state;
}

static void fake_set_state(struct vcpu *v, const struct vcpu_state *s)
{
	struct fuzz_vcpu *f = v->vendor;

	f->state = *s;
	f->set_state_calls++;
}

static void fake_inject(struct vcpu *v, const struct vcpu_event *e)
{
	(void)v;
	(void)e;
}

static bool fake_can_take_interrupt(struct vcpu *v)
{
	(void)v;
	return true;
}

static void fake_window(struct vcpu *v, bool on)
{
	(void)v;
	(void)on;
}

static void fake_drop_events(struct vcpu *v)
{
	(void)v;
}

static void fake_flush_tlb(struct vm *vm)
{
	(void)vm;
}

static unsigned fake_dirty_modes(void)
{
	return 0;
}

static int fake_dirty_start(struct vm *vm, enum dirty_mode mode)
{
	(void)vm;
	(void)mode;
	return 0;
}

static void fake_dirty_stop(struct vm *vm, enum dirty_mode mode)
{
	(void)vm;
	(void)mode;
}

static const char *fake_exit_name(uint32_t code)
{
	(void)code;
	return "fake";
}

static unsigned fake_exit_slot(uint32_t code)
{
	(void)code;
	return 0;
}

static uint32_t fake_slot_code(unsigned slot)
{
	return slot;
}

static const struct vcpu_ops fake_ops = {
	.name = "fake", .title = "fuzz backend", .slpt_format = &pt_format_npt,
	.vm_init = fake_vm_init, .vm_destroy = fake_vm_destroy,
	.vcpu_create = fake_vcpu_create, .vcpu_destroy = fake_vcpu_destroy, .run = fake_run,
	.get_state = fake_get_state, .set_state = fake_set_state, .inject = fake_inject,
	.can_take_interrupt = fake_can_take_interrupt, .request_interrupt_window = fake_window,
	.drop_events = fake_drop_events, .flush_guest_tlb = fake_flush_tlb,
	.dirty_modes = fake_dirty_modes, .dirty_start = fake_dirty_start,
	.dirty_stop = fake_dirty_stop, .dirty_collect = NULL, .exit_name = fake_exit_name,
	.exit_slot = fake_exit_slot, .slot_code = fake_slot_code,
};

const struct vcpu_ops *vcpu_ops = &fake_ops;

const char *vcpu_unavailable_reason(void)
{
	return "";
}

/* FXSAVE areas at FNINIT's values; nothing is live in the registers. */
void fpu_init_area(uint8_t *area)
{
	memset(area, 0, FPU_AREA_SIZE);
	area[0] = 0x7f; /* FCW 0x037f */
	area[1] = 0x03;
	area[24] = 0x80; /* MXCSR 0x1f80 */
	area[25] = 0x1f;
}

void fpu_forget(const uint8_t *area)
{
	(void)area;
}

void fpu_save_live(void)
{
}

/* ---- one CPU: locks never contended, every VM on CPU 0 ---- */

bool spin_lock_irqsave(struct spinlock *l)
{
	(void)l;
	return false;
}

void spin_unlock_irqrestore(struct spinlock *l, bool irq_was_on)
{
	(void)l;
	(void)irq_was_on;
}

void vcpu_put_down(struct vcpu *v)
{
	hold_gate_set_loaded(&v->gate, HOLD_GATE_NO_CPU);
}

/* One CPU here: every VM is the caller's, never held. */
bool vm_hold_measured(struct vm *vm, uint64_t *waited_ns)
{
	(void)vm;
	*waited_ns = 0;
	return false;
}

bool vm_hold(struct vm *vm)
{
	(void)vm;
	return false;
}

void vm_release(struct vm *vm)
{
	(void)vm;
}

int vm_place_vcpu(struct vm *vm, unsigned index, uint32_t cpu, char *err, size_t errlen)
{
	(void)vm;
	(void)index;
	if (cpu == 0)
		return 0;
	snprintf(err, errlen, "cpu %u is not online (see 'cpu')", cpu);
	return -1;
}

/* One CPU, which runs the main loop. */
uint32_t percpu_main_index(void)
{
	return 0;
}

/* ---- memory: the allocator's figures, page-table pages ---- */

const struct palloc *mm_palloc(void)
{
	/* What vm.c's check asks of a VM of FUZZ_VM_MEM_MAX: its pages, 1 %
	 * for tables, 64 spare, and the 2048 it keeps for the hypervisor. */
	static struct palloc p = {
		.stats.free = FUZZ_VM_MEM_MAX / 4096 + FUZZ_VM_MEM_MAX / 4096 / 100 + 64 + 2048,
	};
	return &p;
}

static uint64_t pt_page_alloc(void *ctx)
{
	(void)ctx;
	return page_alloc();
}

static void pt_page_free(void *ctx, uint64_t pa)
{
	(void)ctx;
	page_free(pa);
}

static void *pt_p2v(void *ctx, uint64_t pa)
{
	(void)ctx;
	return phys_to_virt(pa);
}

const struct pt_mem_ops mm_pt_ops = { pt_page_alloc, pt_page_free, pt_p2v, NULL };

/* ---- time, firmware, settings, main loop, images ---- */

/* A 1 GHz TSC: host TSC readings and nanoseconds are the same numbers. */
uint64_t time_tsc_hz(void)
{
	return 1000000000ull;
}

uint64_t time_ns_at(uint64_t tsc)
{
	return tsc;
}

uint64_t fw_time_unix(void)
{
	return 1700000000ull;
}

/* The smallest checkpoint interval there is, so fuzzed transfers reach
 * the checkpoints. Any other key is a read the real settings would
 * refuse (settings.c panics on an undeclared key). */
const char *setting(const char *key)
{
	if (!strcmp(key, "disk_checkpoint"))
		return "64K";
	fprintf(stderr, "setting '%s' read: not declared for this target\n", key);
	abort();
}

void mainloop_register(struct poller *p)
{
	(void)p;
}

const struct guest_image *image_find(const char *name)
{
	(void)name;
	return NULL;
}

int vm_load_image(struct vm *vm, const struct guest_image *img, const struct vm_create_args *a,
		  char *err, size_t errlen)
{
	(void)vm;
	(void)img;
	(void)a;
	fmt_snprintf(err, errlen, "no images here");
	return -1;
}

struct store *datastore(void)
{
	if (!fuzz_datastore && fuzz_datastore_opener)
		fuzz_datastore = fuzz_datastore_opener();
	return fuzz_datastore;
}

/* ---- the console ---- */

void con_write(const char *s, size_t n)
{
	if (fuzz_console_hook)
		fuzz_console_hook(s, n);
}

void con_putc(char c)
{
	con_write(&c, 1);
}

void con_puts(const char *s)
{
	con_write(s, strlen(s));
}

int con_vprintf(const char *fmt, va_list ap)
{
	char line[512];
	int n = fmt_vsnprintf(line, sizeof(line), fmt, ap);

	con_puts(line);
	return n;
}

int con_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = con_vprintf(fmt, ap);
	va_end(ap);
	return n;
}

bool con_line(enum con_source source, const char *s, size_t n)
{
	(void)source;
	con_write(s, n);
	return true;
}

void con_guest_bytes(const char *s, size_t n)
{
	con_write(s, n);
}

void console_kick(void)
{
}

/* ---- the migration connection's send side ---- */

void fuzz_conn_init(struct mig_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->out = malloc(MIG_CONN_OUT_CAP);
	if (!c->out)
		abort();
}

void fuzz_conn_sent(struct mig_conn *c)
{
	c->out_pos = c->out_len;
}

void mig_conn_stage(struct mig_conn *c, uint32_t type, uint32_t len)
{
	if (!mig_conn_idle(c) || len > MIG_MAX_BODY) {
		fprintf(stderr, "record 0x%x staged on a busy connection (or %u bytes)\n", type,
			len);
		abort();
	}
	if (fuzz_replies.n < sizeof(fuzz_replies.type) / sizeof(fuzz_replies.type[0]))
		fuzz_replies.type[fuzz_replies.n++] = type;
	c->out_len = MIG_RECORD_HDR_LEN + len;
	c->out_pos = 0;
}

/* One CPU: no vCPU is ever placed on another, so nothing is kicked. */
void smp_send_ipi(uint32_t cpu, uint8_t vector)
{
	(void)cpu;
	(void)vector;
	abort();
}

/* No seeds here: a stream that signs pages anyway is refused (the source
 * sends signatures only where SEED said this side holds an image). */
struct mig_seed *seed_get(uint64_t vm_uid, uint64_t mem_bytes)
{
	(void)vm_uid;
	(void)mem_bytes;
	return NULL;
}

uint64_t seed_usable_pages(const struct mig_seed *s)
{
	(void)s;
	return 0;
}

bool seed_fill(struct mig_seed *s, uint64_t gfn, const uint8_t sig[MIG_SIG_LEN], void *dst)
{
	(void)s, (void)gfn, (void)sig, (void)dst;
	abort(); /* unreachable without a seed */
}

void seed_put(struct mig_seed *s, bool consumed)
{
	(void)s, (void)consumed;
	abort();
}
