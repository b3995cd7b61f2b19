#include "hv/vm/sched_policy.h"

static bool throttled(const struct sched_vm *vm, uint64_t ms)
{
	return vm->throttle_pct && ms % SCHED_THROTTLE_PERIOD_MS < vm->throttle_pct;
}

/* A running, unthrottled slot that is not halted, or whose vCPU wakes now. */
static bool can_run(const struct sched_vm *vms, unsigned slot, const struct sched_clock *clock,
		    sched_wake_fn wake, void *ctx)
{
	const struct sched_vm *vm = &vms[slot];

	return vm->running && !throttled(vm, clock->ms) && (!vm->halted || wake(ctx, slot));
}

/* A vCPU that was halted and now has an interrupt to take runs at once:
 * it usually handles it and halts again, so guests waiting on timers keep
 * their pace while others spin through whole slices. */
static int woken(const struct sched *s, const struct sched_vm *vms, unsigned n,
		 const struct sched_clock *clock, sched_wake_fn wake, void *ctx)
{
	for (unsigned k = 1; k <= n; k++) {
		unsigned i = (s->current + k) % n;
		if (vms[i].running && vms[i].halted && !throttled(&vms[i], clock->ms) && wake(ctx, i))
			return (int)i;
	}
	return SCHED_IDLE;
}

static int next_runnable(struct sched *s, const struct sched_vm *vms, unsigned n,
			 const struct sched_clock *clock, sched_wake_fn wake, void *ctx)
{
	for (unsigned k = 1; k <= n; k++) {
		unsigned i = (s->current + k) % n;
		if (can_run(vms, i, clock, wake, ctx)) {
			s->current = i;
			return (int)i;
		}
	}
	return SCHED_IDLE;
}

struct sched_choice sched_choose(struct sched *s, const struct sched_vm *vms, unsigned n,
				 const struct sched_clock *clock, sched_wake_fn wake, void *ctx)
{
	int slot = woken(s, vms, n, clock, wake, ctx);

	if (slot != SCHED_IDLE) {
		/* It runs until it halts or the next host tick; the slice in
		 * progress carries on afterwards. */
		return (struct sched_choice){ slot, clock->now + clock->slice };
	}
	slot = (int)s->current;
	if (!can_run(vms, s->current, clock, wake, ctx) || clock->now >= s->slice_end) {
		slot = next_runnable(s, vms, n, clock, wake, ctx);
		s->slice_end = clock->now + clock->slice;
	}
	return (struct sched_choice){ slot, s->slice_end };
}
