/* <string.h> for lwIP in the freestanding build: the hypervisor's own. */
#include "hv/lib/string.h"
