/* A sampling profiler for the hypervisor's own code: each CPU's timer tick
 * counts the function it interrupted. Code running with interrupts off
 * (under a spinlock, in the #MC handler) is not sampled; its time shows on
 * the code that re-enables them. A tick while a guest runs is a VM exit
 * first: it lands in the vCPU loop, right after the guest's entry. */
#ifndef HV_CORE_PROFILE_H
#define HV_CORE_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

/* Called from the timer interrupt with the interrupted RIP, RSP and RBP. A
 * tick that waited for interrupts to come back on (it lands right after an
 * STI) counts for the function that called the one re-enabling them (a
 * spinlock's release: the lock's user), and a tick that woke a HLT counts
 * as idle. Both are told by the bytes before the RIP (F4; FB 90), which
 * another instruction can end with now and then: the split is statistics,
 * not proof. */
void profile_tick(uint64_t rip, uint64_t rsp, uint64_t rbp);

/* Starts counting afresh; false when there is no symbol table. */
bool profile_start(void);
void profile_stop(void);
bool profile_running(void);

struct profile_totals {
	uint64_t samples; /* ticks counted while running */
	uint64_t outside; /* ... whose RIP was not in the hypervisor's text */
	uint64_t idle;    /* ... that woke the CPU from HLT */
	uint64_t waited;  /* ... that waited for an STI, counted for its caller */
};
void profile_totals(struct profile_totals *out);

/* The i-th busiest function so far (0 = busiest): false past the last
 * function with a sample. */
bool profile_top(unsigned i, const char **name, uint64_t *hits);

#endif
