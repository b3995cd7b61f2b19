/* The hand-over between a CPU that must see a VM stopped (the main loop: console
 * commands, migration, the dirty log's harvests) and the CPU that runs it.
 *
 *   holder                                  the VM's CPU (owner)
 *   hold: holds += 1                        claim: running_on = self,
 *   until let_go(owner): kick it (IPI)             then read holds: if any,
 *   ... change the VM: state, tables ...           un-claim without running
 *   release: holds -= 1                     load: loaded_on = self
 *                                           after each exit: held? stop
 *                                           leave: held and loaded here?
 *                                                  put down (loaded_on = -1);
 *                                                  running_on = -1
 *
 * Each side stores before it loads, with sequentially consistent atomics,
 * so of "holder saw no claim" and "owner saw no hold" at least one is
 * false: the holder never changes a VM that its CPU has entered or is
 * about to enter. This is also the TLB shootdown for changes to a VM's
 * second-level tables: the owner puts the vCPUs down (VMCLEAR) and loads
 * them again (INVEPT, or a fresh ASID) before its next entry, so no entry
 * it cached before the change survives it. tests/unit/test_hold_gate.c
 * runs both sides on two host threads against this invariant. */
#ifndef HV_LIB_HOLD_GATE_H
#define HV_LIB_HOLD_GATE_H

#include <stdbool.h>
#include <stdint.h>

#define HOLD_GATE_NO_CPU (-1)

struct hold_gate {
	uint32_t holds;     /* holders waiting for it or working on it */
	int32_t running_on; /* the CPU that claimed it for a turn, or -1 */
	int32_t loaded_on;  /* the CPU that has its vCPUs loaded, or -1 */
};

static inline void hold_gate_init(struct hold_gate *g)
{
	g->holds = 0;
	g->running_on = g->loaded_on = HOLD_GATE_NO_CPU;
}

/* Holder side. */
static inline void hold_gate_hold(struct hold_gate *g)
{
	__atomic_fetch_add(&g->holds, 1, __ATOMIC_SEQ_CST);
}

/* Whether `owner` has neither claimed nor loaded the VM: the holder may
 * change it. @pre the caller holds it */
static inline bool hold_gate_let_go(const struct hold_gate *g, int32_t owner)
{
	return __atomic_load_n(&g->running_on, __ATOMIC_SEQ_CST) != owner &&
	       __atomic_load_n(&g->loaded_on, __ATOMIC_SEQ_CST) != owner;
}

static inline void hold_gate_release(struct hold_gate *g)
{
	__atomic_fetch_sub(&g->holds, 1, __ATOMIC_SEQ_CST);
}

static inline bool hold_gate_held(const struct hold_gate *g)
{
	return __atomic_load_n(&g->holds, __ATOMIC_SEQ_CST) != 0;
}

/* Owner side. Claims the VM for a turn on `cpu`: false when it is held
 * (the caller puts it down if it is loaded there, then leaves). */
static inline bool hold_gate_claim(struct hold_gate *g, int32_t cpu)
{
	__atomic_store_n(&g->running_on, cpu, __ATOMIC_SEQ_CST);
	return !hold_gate_held(g);
}

static inline bool hold_gate_claimed_by(const struct hold_gate *g, int32_t cpu)
{
	return __atomic_load_n(&g->running_on, __ATOMIC_SEQ_CST) == cpu;
}

static inline bool hold_gate_loaded_on(const struct hold_gate *g, int32_t cpu)
{
	return __atomic_load_n(&g->loaded_on, __ATOMIC_SEQ_CST) == cpu;
}

static inline void hold_gate_set_loaded(struct hold_gate *g, int32_t cpu)
{
	__atomic_store_n(&g->loaded_on, cpu, __ATOMIC_SEQ_CST);
}

/* At the end of a turn: whether the vCPUs must be put down first (a
 * holder waits for them). */
static inline bool hold_gate_must_put_down(const struct hold_gate *g, int32_t cpu)
{
	return hold_gate_held(g) && hold_gate_loaded_on(g, cpu);
}

static inline void hold_gate_leave(struct hold_gate *g)
{
	__atomic_store_n(&g->running_on, HOLD_GATE_NO_CPU, __ATOMIC_SEQ_CST);
}

#endif
