/* State record bodies; see state_codec.h. Each record has one function
 * that walks its fields in wire order, used both to encode and to decode,
 * so the two directions cannot drift apart. */
#include "migrate/state_codec.h"

#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/lib/wire.h"

/* Moves one field between the struct and the wire, in the cursor's
 * direction. */
struct walk {
	struct wire_cursor c;
	bool decode;
};

static void f8(struct walk *w, uint8_t *v)
{
	if (w->decode)
		*v = wget8(&w->c);
	else
		wput8(&w->c, *v);
}

static void fbool(struct walk *w, bool *v)
{
	uint8_t b = *v;
	f8(w, &b);
	if (w->decode) {
		if (b > 1)
			w->c.overrun = 1; /* not a boolean: reject */
		*v = b;
	}
}

static void f16(struct walk *w, uint16_t *v)
{
	uint8_t lo = (uint8_t)*v, hi = (uint8_t)(*v >> 8);
	f8(w, &lo);
	f8(w, &hi);
	if (w->decode)
		*v = (uint16_t)(lo | hi << 8);
}

static void f32(struct walk *w, uint32_t *v)
{
	if (w->decode)
		*v = wget32(&w->c);
	else
		wput32(&w->c, *v);
}

static void f64(struct walk *w, uint64_t *v)
{
	if (w->decode)
		*v = wget64(&w->c);
	else
		wput64(&w->c, *v);
}

static void fbytes(struct walk *w, void *p, size_t n)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		f8(w, &b[i]);
}

static void walk_vm_config(struct walk *w, struct mig_vm_config *c)
{
	fbytes(w, c->name, sizeof(c->name));
	fbytes(w, c->image, sizeof(c->image));
	fbytes(w, c->cmdline, sizeof(c->cmdline));
	f64(w, &c->mem_bytes);
	if (w->decode ? w->c.pos < w->c.len : c->vcpus > 1 || c->flags)
		f32(w, &c->vcpus);
	if (w->decode ? w->c.pos < w->c.len : c->flags != 0)
		f32(w, &c->flags);
}

static void walk_segment(struct walk *w, struct vcpu_segment *s)
{
	f16(w, &s->selector);
	f16(w, &s->attr);
	f32(w, &s->limit);
	f64(w, &s->base);
}

static void walk_vcpu(struct walk *w, struct mig_vcpu *v)
{
	struct vcpu_state *s = &v->s;
	uint64_t *regs = (uint64_t *)&s->regs;
	uint8_t type = (uint8_t)v->exception.type;

	for (size_t i = 0; i < sizeof(s->regs) / 8; i++)
		f64(w, &regs[i]);
	for (int i = 0; i < SEG_COUNT; i++)
		walk_segment(w, &s->seg[i]);
	f64(w, &s->gdt.base);
	f32(w, &s->gdt.limit);
	f64(w, &s->idt.base);
	f32(w, &s->idt.limit);
	uint64_t *cr[] = { &s->cr0, &s->cr2, &s->cr3, &s->cr4, &s->efer, &s->dr6, &s->dr7,
			   &s->pat, &s->star, &s->lstar, &s->cstar, &s->sfmask,
			   &s->kernel_gs_base, &s->sysenter_cs, &s->sysenter_esp,
			   &s->sysenter_eip };
	for (size_t i = 0; i < sizeof(cr) / sizeof(cr[0]); i++)
		f64(w, cr[i]);
	f32(w, &s->interrupt_shadow);
	f64(w, &v->guest_tsc);
	f64(w, &v->guest_tsc_hz);
	fbytes(w, v->fpu, sizeof(v->fpu));
	fbool(w, &v->halted);
	fbool(w, &v->pending_exception);
	f8(w, &type);
	f8(w, &v->exception.vector);
	fbool(w, &v->exception.has_error);
	f32(w, &v->exception.error);
	f64(w, &v->msr_mtrr_def);
	for (int i = 0; i < MIG_MTRRS; i++)
		f64(w, &v->msr_mtrr[i]);
	f64(w, &v->msr_tsc_aux);
	if (w->decode) {
		/* FXRSTOR faults on reserved MXCSR bits: that would be the
		 * host's #GP, not the guest's. */
		uint32_t mxcsr = (uint32_t)v->fpu[24] | (uint32_t)v->fpu[25] << 8 |
				 (uint32_t)v->fpu[26] << 16 | (uint32_t)v->fpu[27] << 24;
		if (type > EVENT_SOFT_INT || (mxcsr & ~MIG_MXCSR_MASK))
			w->c.overrun = 1;
		v->exception.type = (enum vcpu_event_type)type;
	}
}

static void walk_lapic(struct walk *w, struct mig_lapic *l)
{
	uint32_t *r[] = { &l->id, &l->tpr, &l->svr, &l->ldr, &l->dfr, &l->esr, &l->icr_lo,
			  &l->icr_hi, &l->lvt_timer, &l->lvt_thermal, &l->lvt_perf,
			  &l->lvt_lint0, &l->lvt_lint1, &l->lvt_error, &l->lvt_cmci,
			  &l->timer_init, &l->timer_div };
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		f32(w, r[i]);
	for (int i = 0; i < 8; i++)
		f32(w, &l->irr[i]);
	for (int i = 0; i < 8; i++)
		f32(w, &l->isr[i]);
	f64(w, &l->timer_period_ns);
	f64(w, &l->timer_remaining_ns);
}

static void walk_ap(struct walk *w, struct mig_ap *a)
{
	f32(w, &a->index);
	walk_vcpu(w, &a->vcpu);
	walk_lapic(w, &a->lapic);
	fbytes(w, a->lapic_extra, sizeof(a->lapic_extra));
	fbool(w, &a->wait_for_sipi);
	f64(w, &a->kvmclock_msr);
}

static void walk_uart(struct walk *w, struct mig_uart *u)
{
	uint8_t *r[] = { &u->ier, &u->lcr, &u->mcr, &u->scr, &u->dll, &u->dlm, &u->fcr };
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		f8(w, r[i]);
	f32(w, &u->rx_len);
	fbytes(w, u->rx, sizeof(u->rx));
	f32(w, &u->line_len);
	fbytes(w, u->line, sizeof(u->line));
	if (w->decode && (u->rx_len > MIG_UART_FIFO || u->line_len > MIG_UART_LINE))
		w->c.overrun = 1;
}

static void walk_platform(struct walk *w, struct mig_platform *p)
{
	f8(w, &p->run_state);
	f64(w, &p->vm_clock_ns);
	f64(w, &p->resets);
	if (w->decode && p->run_state > MIG_RUN_PAUSED)
		w->c.overrun = 1;
}

static void walk_modules(struct walk *w, struct mig_modules *m)
{
	f32(w, &m->count);
	if (w->decode && m->count > MIG_MODULES_MAX) {
		w->c.overrun = 1;
		return;
	}
	for (uint32_t i = 0; i < m->count; i++)
		fbytes(w, (uint8_t *)m->spec[i], MIG_MODULE_SPEC);
}

/* count 1 .. MIG_VCPUS_MAX; the CPUs are the source's indexes, judged by
 * the destination (which may have fewer). */
static void walk_placement(struct walk *w, struct mig_placement *p)
{
	f32(w, &p->count);
	if (w->decode && (p->count == 0 || p->count > MIG_VCPUS_MAX)) {
		w->c.overrun = 1;
		return;
	}
	for (uint32_t i = 0; i < p->count; i++)
		f32(w, &p->cpu[i]);
}

/* count 1 .. MIG_VCPU_MSRS_MAX; each entry: u32 MSR, u32 zero, u64 value. */
static void walk_vcpu_msrs(struct walk *w, struct mig_vcpu_msrs *m)
{
	f32(w, &m->index);
	f32(w, &m->count);
	if (w->decode && (m->index >= MIG_VCPUS_MAX || m->count == 0 ||
			  m->count > MIG_VCPU_MSRS_MAX)) {
		w->c.overrun = 1;
		return;
	}
	for (uint32_t i = 0; i < m->count; i++) {
		uint32_t zero = 0;
		f32(w, &m->msr[i]);
		f32(w, &zero);
		f64(w, &m->value[i]);
		if (zero)
			w->c.overrun = 1;
	}
}

#define ENCODER(name, type, walker)                                                   \
	uint32_t name(const type *x, uint8_t *body)                                   \
	{                                                                             \
		struct walk w = { .c = { .wp = body, .len = MIG_STATE_MAX } };        \
		walker(&w, (type *)x);                                                \
		return (uint32_t)w.c.pos;                                             \
	}

#define DECODER(name, type, walker, label)                                            \
	int name(const uint8_t *body, size_t len, type *x, char *err, size_t errlen)   \
	{                                                                             \
		struct walk w = { .c = { .rp = body, .len = len }, .decode = true };  \
		memset(x, 0, sizeof(*x));                                             \
		walker(&w, x);                                                        \
		if (w.c.overrun || w.c.pos != len) {                                  \
			fmt_snprintf(err, errlen, "%s record malformed (%zu bytes)", label, \
				     len);                                            \
			return -1;                                                    \
		}                                                                     \
		return 0;                                                             \
	}

ENCODER(mig_vm_config_encode, struct mig_vm_config, walk_vm_config)
ENCODER(mig_vcpu_encode, struct mig_vcpu, walk_vcpu)
ENCODER(mig_lapic_encode, struct mig_lapic, walk_lapic)
ENCODER(mig_ap_encode, struct mig_ap, walk_ap)
ENCODER(mig_uart_encode, struct mig_uart, walk_uart)
ENCODER(mig_platform_encode, struct mig_platform, walk_platform)
ENCODER(mig_modules_encode, struct mig_modules, walk_modules)
ENCODER(mig_placement_encode, struct mig_placement, walk_placement)
ENCODER(mig_vcpu_msrs_encode, struct mig_vcpu_msrs, walk_vcpu_msrs)

static int vm_config_fields(const uint8_t *body, size_t len, struct mig_vm_config *c,
			    char *err, size_t errlen);
DECODER(vm_config_fields, struct mig_vm_config, walk_vm_config, "VM_CONFIG")
static int vcpu_fields(const uint8_t *body, size_t len, struct mig_vcpu *v, char *err,
		       size_t errlen);
DECODER(vcpu_fields, struct mig_vcpu, walk_vcpu, "VCPU")

int mig_vcpu_decode(const uint8_t *body, size_t len, struct mig_vcpu *v, char *err,
		    size_t errlen)
{
	if (vcpu_fields(body, len, v, err, errlen))
		return -1;
	return mig_vcpu_check(v, err, errlen);
}
DECODER(mig_lapic_decode, struct mig_lapic, walk_lapic, "LAPIC")
static int ap_fields(const uint8_t *body, size_t len, struct mig_ap *a, char *err,
		     size_t errlen);
DECODER(ap_fields, struct mig_ap, walk_ap, "AP_STATE")

int mig_ap_decode(const uint8_t *body, size_t len, struct mig_ap *a, char *err, size_t errlen)
{
	if (ap_fields(body, len, a, err, errlen))
		return -1;
	if (a->index < 1 || a->index >= MIG_VCPUS_MAX) {
		fmt_snprintf(err, errlen, "AP_STATE record for vCPU %u: APs are 1 to %d", a->index,
			     MIG_VCPUS_MAX - 1);
		return -1;
	}
	return mig_vcpu_check(&a->vcpu, err, errlen);
}
static int uart_fields(const uint8_t *body, size_t len, struct mig_uart *u, char *err,
		       size_t errlen);
DECODER(uart_fields, struct mig_uart, walk_uart, "UART")
static int platform_fields(const uint8_t *body, size_t len, struct mig_platform *p, char *err,
			   size_t errlen);
DECODER(platform_fields, struct mig_platform, walk_platform, "PLATFORM")
static int modules_fields(const uint8_t *body, size_t len, struct mig_modules *m, char *err,
			  size_t errlen);
DECODER(modules_fields, struct mig_modules, walk_modules, "MODULES")
DECODER(mig_placement_decode, struct mig_placement, walk_placement, "PLACEMENT")
static int vcpu_msrs_fields(const uint8_t *body, size_t len, struct mig_vcpu_msrs *m,
			    char *err, size_t errlen);
DECODER(vcpu_msrs_fields, struct mig_vcpu_msrs, walk_vcpu_msrs, "VCPU_MSRS")

int mig_vcpu_msrs_decode(const uint8_t *body, size_t len, struct mig_vcpu_msrs *m, char *err,
			 size_t errlen)
{
	if (vcpu_msrs_fields(body, len, m, err, errlen))
		return -1;
	for (uint32_t i = 0; i < m->count; i++) {
		if (mig_vcpu_msr_check(m->msr[i], m->value[i], err, errlen))
			return -1;
		for (uint32_t j = 0; j < i; j++)
			if (m->msr[j] == m->msr[i]) {
				fmt_snprintf(err, errlen, "VCPU_MSRS record: MSR 0x%x twice",
					     m->msr[i]);
				return -1;
			}
	}
	return 0;
}

int mig_platform_decode(const uint8_t *body, size_t len, struct mig_platform *p, char *err,
			size_t errlen)
{
	if (len >= 1 && body[0] > MIG_RUN_PAUSED) {
		fmt_snprintf(err, errlen, "PLATFORM record: unknown run state %u", body[0]);
		return -1;
	}
	return platform_fields(body, len, p, err, errlen);
}

/* Text from a peer reaches the operator's console: printable ASCII (and
 * tab) only, as the source's own console filter leaves it, so a stream
 * cannot clear the screen or forge a status line. */
static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++)
		if ((s[i] < 0x20 && s[i] != '\t') || s[i] > 0x7e)
			return false;
	return true;
}

int mig_uart_decode(const uint8_t *body, size_t len, struct mig_uart *u, char *err,
		    size_t errlen)
{
	if (uart_fields(body, len, u, err, errlen))
		return -1;
	for (uint32_t i = 0; i < u->line_len; i++)
		if (!u->line[i] || !printable((const char *)&u->line[i], 1)) {
			fmt_snprintf(err, errlen, "UART record: console line byte %u is 0x%02x, not "
				     "printable", i, u->line[i]);
			return -1;
		}
	return 0;
}

static bool terminated(const char *s, size_t n)
{
	return strnlen(s, n) < n;
}

int mig_vm_config_decode(const uint8_t *body, size_t len, struct mig_vm_config *c, char *err,
			 size_t errlen)
{
	if (vm_config_fields(body, len, c, err, errlen))
		return -1;
	if (!terminated(c->name, sizeof(c->name)) || !c->name[0] ||
	    !terminated(c->image, sizeof(c->image)) ||
	    !terminated(c->cmdline, sizeof(c->cmdline))) {
		str_copy(err, "VM_CONFIG record has an unterminated or empty name", errlen);
		return -1;
	}
	/* The name too: it is in every log line and status about the VM,
	 * and in the error when vm.c refuses it. */
	if (!printable(c->name, sizeof(c->name)) || !printable(c->image, sizeof(c->image)) ||
	    !printable(c->cmdline, sizeof(c->cmdline))) {
		str_copy(err, "VM_CONFIG name, image or command line has control or non-ASCII "
			 "bytes", errlen);
		return -1;
	}
	if (!c->mem_bytes || c->mem_bytes % 4096) {
		str_copy(err, "VM_CONFIG memory size is not a whole number of pages", errlen);
		return -1;
	}
	if (len == 328)
		c->vcpus = 1;
	if (c->vcpus < 1 || c->vcpus > MIG_VCPUS_MAX) {
		fmt_snprintf(err, errlen, "VM_CONFIG: %u vCPUs (1 to %d)", c->vcpus, MIG_VCPUS_MAX);
		return -1;
	}
	if (c->flags & ~MIG_VM_FLAGS_KNOWN) {
		fmt_snprintf(err, errlen, "VM_CONFIG: unknown flags 0x%x", c->flags);
		return -1;
	}
	return 0;
}

int mig_modules_decode(const uint8_t *body, size_t len, struct mig_modules *m, char *err,
		       size_t errlen)
{
	if (len >= 4 && get_le32(body) > MIG_MODULES_MAX) {
		fmt_snprintf(err, errlen, "MODULES record lists %u images, at most %u", get_le32(body),
			     MIG_MODULES_MAX);
		return -1;
	}
	if (modules_fields(body, len, m, err, errlen))
		return -1;
	for (uint32_t i = 0; i < m->count; i++) {
		if (!terminated(m->spec[i], MIG_MODULE_SPEC) || !m->spec[i][0] ||
		    !printable(m->spec[i], MIG_MODULE_SPEC)) {
			fmt_snprintf(err, errlen, "MODULES record: entry %u is empty, unterminated or "
				     "not printable", i);
			return -1;
		}
	}
	return 0;
}

uint32_t mig_device_encode(const struct mig_device *d, uint8_t *body)
{
	struct wire_cursor c = wire_writer(body, MIG_STATE_MAX);

	wput32(&c, d->id);
	for (uint32_t i = 0; i < d->len && i < MIG_DEVICE_MAX; i++)
		wput8(&c, d->blob[i]);
	return (uint32_t)c.pos;
}

int mig_device_decode(const uint8_t *body, size_t len, struct mig_device *d, char *err,
		      size_t errlen)
{
	if (len < 4 || len - 4 > MIG_DEVICE_MAX) {
		fmt_snprintf(err, errlen, "DEVICE record malformed (%zu bytes)", len);
		return -1;
	}
	d->id = get_le32(body);
	if (d->id == 0 || (d->id >= MIG_DEV_COUNT && d->id < MIG_DEV_VIRTIO_BLK) ||
	    d->id > MIG_DEV_ID_LAST) {
		fmt_snprintf(err, errlen, "DEVICE record for unknown device %u", d->id);
		return -1;
	}
	d->len = (uint32_t)(len - 4);
	memcpy(d->blob, body + 4, d->len);
	return 0;
}
