#include "hv/vm/dirty_log.h"

#include "hv/core/log.h"
#include "hv/core/time.h"
#include "hv/lib/bitmap.h"
#include "hv/lib/string.h"
#include "hv/mm/mm.h"
#include "hv/vm/vm.h"
#include "hv/vm/vm_place.h"

static int fail(char *err, size_t len, const char *msg)
{
	str_copy(err, msg, len);
	return -1;
}

bool dirty_mode_available(enum dirty_mode m)
{
	switch (m) {
	case DIRTY_MODE_WP:
		return true;
	case DIRTY_MODE_AD:
	case DIRTY_MODE_PML:
		return vcpu_ops->dirty_modes() & (1u << m);
	default:
		return false;
	}
}

static enum dirty_mode best_mode(void)
{
	if (dirty_mode_available(DIRTY_MODE_PML))
		return DIRTY_MODE_PML;
	return dirty_mode_available(DIRTY_MODE_AD) ? DIRTY_MODE_AD : DIRTY_MODE_WP;
}

/* Off its CPU while its tables change (see dirty_log.h); true when held,
 * to be released. The wait counts only when this hold had to kick that CPU
 * out of the guest (under a console command's hold it is down already). */
static bool hold_for_change(struct vm *vm)
{
	uint64_t waited;
	bool held = vm_hold_measured(vm, &waited);

	if (held) {
		vm->dirty.stats.shootdowns++;
		vm->dirty.stats.shootdown_ns += waited;
	}
	return held;
}

static void release_after_change(struct vm *vm, bool held)
{
	if (held)
		vm_release(vm);
}

static size_t bitmap_bytes(size_t words)
{
	return (words * sizeof(uint64_t) + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1);
}

static uint64_t *bitmap_alloc(size_t words)
{
	uint64_t pa = pages_alloc(bitmap_bytes(words) / PAGE_SIZE, 1);

	return pa ? phys_to_virt(pa) : NULL;
}

static void bitmap_free(uint64_t *map, size_t words)
{
	if (map)
		pages_free(virt_to_phys(map), bitmap_bytes(words) / PAGE_SIZE);
}

/* NULL when installers=K fits the mode, granularity and VM; else why not. */
static const char *installers_refusal(const struct vm *vm, enum dirty_mode mode,
				      enum dirty_gran gran, uint32_t installers)
{
	if (installers == DIRTY_INSTALLERS_ALL)
		return NULL;
	if (mode != DIRTY_MODE_WP)
		return "installers= applies to write protection (mode=wp): the other modes "
		       "take no write faults";
	if (gran != DIRTY_GRAN_4K)
		return "installers= needs gran=4k: at 2m every trace covers a 2 MiB region already";
	if (installers > vm->nvcpus)
		return "installers= is more than the VM's vCPUs";
	return NULL;
}

int dirty_log_start(struct vm *vm, enum dirty_mode mode, enum dirty_gran gran,
		    uint32_t installers, char *err, size_t errlen)
{
	struct dirty_log *d = &vm->dirty;

	if (d->active)
		return fail(err, errlen, "dirty tracking is running already");
	if (mode == DIRTY_MODE_BEST)
		mode = best_mode();
	if (!dirty_mode_available(mode))
		return fail(err, errlen, mode == DIRTY_MODE_PML ?
			    "PML needs Intel VMX with EPT A/D bits and page-modification logging" :
			    "this CPU does not set dirty bits in its second-level tables");
	const char *why = installers_refusal(vm, mode, gran, installers);
	if (why)
		return fail(err, errlen, why);
	dirty_log_release(vm);
	d->track = (struct dirty_track){ .pt = &vm->slpt, .size = vm->mem.size, .mode = mode,
					 .gran = gran, .npages = (size_t)(vm->mem.size / DIRTY_PAGE) };
	d->words = dirty_track_words(&d->track);
	d->track.log = bitmap_alloc(d->words);
	d->harvested = bitmap_alloc(d->words);
	if (!d->track.log || !d->harvested) {
		dirty_log_release(vm);
		return fail(err, errlen, "out of memory for the dirty bitmaps");
	}
	memset(&d->stats, 0, sizeof(d->stats));
	d->installers = installers;
	bool held = hold_for_change(vm);
	if (dirty_track_arm(&d->track) || vcpu_ops->dirty_start(vm, mode)) {
		dirty_track_disarm(&d->track);
		vcpu_ops->flush_guest_tlb(vm);
		release_after_change(vm, held);
		dirty_log_release(vm);
		return fail(err, errlen, "could not arm the second-level tables");
	}
	vcpu_ops->flush_guest_tlb(vm);
	d->active = true;
	release_after_change(vm, held);
	return 0;
}

/* What the CPU-written logs hold goes into the tracker. @pre held */
static void collect(struct vm *vm)
{
	if (!vcpu_ops->dirty_collect)
		return;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu_ops->dirty_collect(&vm->vcpus[i], &vm->dirty.track);
}

size_t dirty_log_harvest(struct vm *vm)
{
	struct dirty_log *d = &vm->dirty;
	bool held = hold_for_change(vm);
	uint64_t t0 = time_ns();

	collect(vm);
	memset(d->harvested, 0, d->words * sizeof(uint64_t));
	uint64_t failures = d->track.rearm_failures;
	size_t n = dirty_track_harvest(&d->track, d->harvested);
	if (d->track.rearm_failures != failures)
		log_warn("vm %s: dirty log: %lu unit%s could not be write-protected again; they "
			 "are reported as written in every harvest until they can",
			 vm->name, (unsigned long)(d->track.rearm_failures - failures),
			 d->track.rearm_failures - failures == 1 ? "" : "s");
	vcpu_ops->flush_guest_tlb(vm);
	uint64_t dt = time_ns() - t0;
	release_after_change(vm, held);
	d->stats.harvests++;
	d->stats.last_pages = n;
	d->stats.total_pages += n;
	d->stats.last_ns = dt;
	d->stats.total_ns += dt;
	return n;
}

const uint64_t *dirty_log_pages(const struct vm *vm)
{
	return vm->dirty.harvested;
}

void dirty_log_stop(struct vm *vm)
{
	struct dirty_log *d = &vm->dirty;

	if (!d->active)
		return;
	bool held = hold_for_change(vm);
	collect(vm);
	vcpu_ops->dirty_stop(vm, d->track.mode);
	dirty_track_disarm(&d->track);
	vcpu_ops->flush_guest_tlb(vm);
	d->active = false;
	release_after_change(vm, held);
}

void dirty_log_release(struct vm *vm)
{
	struct dirty_log *d = &vm->dirty;

	if (d->active)
		dirty_log_stop(vm);
	bitmap_free(d->track.log, d->words);
	bitmap_free(d->harvested, d->words);
	d->track.log = d->harvested = NULL;
}

bool dirty_log_write_fault(struct vm *vm, unsigned vcpu_index, uint64_t gpa)
{
	struct dirty_log *d = &vm->dirty;

	if (!d->active)
		return false;
	bool installs = d->installers == DIRTY_INSTALLERS_ALL || vcpu_index < d->installers;
	if (!(installs ? dirty_track_write_fault(&d->track, gpa)
		       : dirty_track_write_fault_region(&d->track, gpa)))
		return false;
	vcpu_ops->flush_guest_tlb(vm);
	return true;
}

/* The exiting vCPU's log only: the others may run on other CPUs. */
void dirty_log_buffer_full(struct vcpu *v)
{
	struct vm *vm = v->vm;

	vm->dirty.stats.log_full_exits++;
	if (vcpu_ops->dirty_collect)
		vcpu_ops->dirty_collect(v, &vm->dirty.track);
}

void dirty_log_mark(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (!vm->dirty.active || !len)
		return;
	for (uint64_t p = gpa & ~(DIRTY_PAGE - 1); p < gpa + len; p += DIRTY_PAGE)
		dirty_track_mark(&vm->dirty.track, p);
}
