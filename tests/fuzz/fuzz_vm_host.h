/* Stand-ins for what real VMs (hv/vm/vm.c and the platform, disks and
 * migration code around them) need from the hypervisor, so a fuzz target
 * can build them on the host: a virtualization backend that never runs a
 * guest, FPU areas, the page allocator's figures and page-table pages,
 * the console, the clock's rate, firmware time, settings, the main loop,
 * guest images, the datastore and the send side of a migration
 * connection. Guest memory comes from fuzz_mm.c, so ASan sees the bounds
 * of every 2 MiB chunk. */
#ifndef TESTS_FUZZ_FUZZ_VM_HOST_H
#define TESTS_FUZZ_FUZZ_VM_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/store/store.h"
#include "hv/vm/vcpu.h"

struct mig_conn;

/* The largest VM the allocator's figures let vm.c create: bigger ones
 * are refused as a host short of memory refuses them, so no input makes
 * an execution allocate gigabytes. */
#define FUZZ_VM_MEM_MAX (4ull << 20)

/* The fake backend's per-vCPU state: what a set_state loaded. */
struct fuzz_vcpu {
	struct vcpu_state state;
	unsigned set_state_calls;
};

/* The register state the fake backend gives a new vCPU: a PC's reset
 * state, which vcpu_check accepts. */
void fuzz_vcpu_reset_state(struct vcpu_state *s);

/* Everything written to the console (vm_output.c's lines) goes here
 * when set. */
extern void (*fuzz_console_hook)(const char *text, size_t len);

/* Record types staged on a connection (mig_conn_stage) since the harness
 * last cleared it; staging on a connection that is not idle aborts, as it
 * breaks mig_conn_stage's precondition. */
struct fuzz_replies {
	uint32_t type[16];
	unsigned n;
};
extern struct fuzz_replies fuzz_replies;
/* A connection whose staging buffer is ready (never freed). */
void fuzz_conn_init(struct mig_conn *c);
/* What was staged went out: the connection is idle again. */
void fuzz_conn_sent(struct mig_conn *c);

/* What datastore() returns; while NULL, it opens one with the opener
 * (when set) first: a store costs its metadata buffers, and most inputs
 * never ask for it. */
extern struct store *fuzz_datastore;
extern struct store *(*fuzz_datastore_opener)(void);

#endif
