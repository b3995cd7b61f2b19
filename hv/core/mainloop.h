/* The main loop's background work. Subsystems register a poller when they
 * start (the network, migrations, machine-check polling, the guests);
 * console commands that wait (ping, transfers) call mainloop_poll() in
 * their loop, so all of it keeps running meanwhile. The console itself is
 * not a poller: it is not read until the command returns. */
#ifndef HV_CORE_MAINLOOP_H
#define HV_CORE_MAINLOOP_H

#include <stdbool.h>
#include <stdint.h>

/* Pollers run in this order within one pass. */
enum poll_stage {
	POLL_DEVICES = 10,  /* move data in and out of devices */
	POLL_SERVICES = 20, /* protocols and background jobs on top */
	POLL_FLUSH = 80,    /* tell devices of what the stages before queued */
	POLL_GUESTS = 90,   /* run guests for up to a tick: last */
};

struct poller {
	const char *name;
	/* One step of work; true when there was some (the loop does not
	 * sleep then). */
	bool (*poll)(void);
	enum poll_stage stage;
	struct poller *next;   /* the loop's own */
	uint64_t runs, busy;   /* counted by the loop */
};

/* @pre p stays valid and is registered once */
void mainloop_register(struct poller *p);

/* One pass over every poller. Sleeps until the next interrupt when none
 * had work and 'may_sleep'. */
void mainloop_poll(bool may_sleep);

/* The registered pollers, in order (NULL-terminated walk from here). */
const struct poller *mainloop_pollers(void);

#endif
