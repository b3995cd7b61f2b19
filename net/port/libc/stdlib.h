/* <stdlib.h> for lwIP in the freestanding build: allocation goes through
 * mem_clib_malloc (see lwipopts.h); netif_find needs atoi. */
#include <stddef.h>

int atoi(const char *s);
