#ifndef HV_SHELL_CONSOLE_SHELL_H
#define HV_SHELL_CONSOLE_SHELL_H

#include <stdbool.h>

#include "hv/shell/shell.h"

/* Starts the shell on the console; the debug setting enables the debug
 * commands. */
void console_shell_init(void);
/* Feeds pending console input to the shell; true if there was any. */
bool console_shell_poll(void);
struct shell *console_shell(void);

#endif
