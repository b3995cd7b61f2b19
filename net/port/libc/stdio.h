/* <stdio.h> for lwIP in the freestanding build: unused (no printf). */
#include <stddef.h>
