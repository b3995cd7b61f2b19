/* The scheduler's decision, without VMs or clocks of its own (host-tested):
 * which VM slot runs next and until when, from each slot's state and the
 * time. hv/vm/sched.c gathers the state, asks, and runs the answer.
 *
 * Round robin over runnable slots, a slice each; a halted vCPU that now
 * has an interrupt to take runs at once, without ending the slice in
 * progress; a throttled VM sits out the first throttle_pct ms of every
 * 100 ms. */
#ifndef HV_VM_SCHED_POLICY_H
#define HV_VM_SCHED_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#define SCHED_SLICE_MS 10
#define SCHED_THROTTLE_PERIOD_MS 100
#define SCHED_IDLE (-1)

/* One VM slot as the scheduler sees it (an empty slot: all zero). */
struct sched_vm {
	bool running;          /* a VM in state running */
	bool halted;           /* its vCPU waits for an interrupt */
	unsigned throttle_pct; /* sits out the first pct ms of every 100 ms */
};

struct sched_clock {
	uint64_t now;   /* TSC */
	uint64_t ms;    /* milliseconds since boot, for throttling */
	uint64_t slice; /* a slice in TSC ticks */
};

/* What survives between decisions. Zeroed at start. */
struct sched {
	unsigned current;   /* the slot whose slice is in progress */
	uint64_t slice_end; /* TSC */
};

struct sched_choice {
	int slot;       /* SCHED_IDLE when nothing can run */
	uint64_t until; /* TSC: run it until then (or until it halts) */
};

/* Asked about a halted vCPU in 'slot': does it have an interrupt to take
 * now? If so it is no longer halted. The decision asks lazily, slot by slot
 * in round-robin order, exactly where it needs to know, because asking
 * advances that VM's virtual timers. */
typedef bool (*sched_wake_fn)(void *ctx, unsigned slot);

/* @pre n >= 1, s->current < n; vms[slot].halted may be stale once wake()
 * said true for that slot (it is not read again) */
struct sched_choice sched_choose(struct sched *s, const struct sched_vm *vms, unsigned n,
				 const struct sched_clock *clock, sched_wake_fn wake, void *ctx);

#endif
