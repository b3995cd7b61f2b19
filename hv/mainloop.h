/* The main loop's background work, for console commands that wait (ping,
 * transfers): the network and the guests keep running meanwhile; the
 * console is not read until the command returns. */
#ifndef HV_MAINLOOP_H
#define HV_MAINLOOP_H

#include <stdbool.h>

/* One pass: network, then guests for up to a tick. Sleeps until the next
 * interrupt when nothing happened and 'may_sleep'. */
void mainloop_poll(bool may_sleep);

#endif
