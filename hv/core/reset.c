#include "hv/core/reset.h"

#include <stdbool.h>
#include <stddef.h>

static const struct reset_hook *hooks[RESET_HOOKS_MAX];
static size_t nhooks;

bool reset_add_hook(const struct reset_hook *hook)
{
	if (nhooks == RESET_HOOKS_MAX)
		return false;
	hooks[nhooks++] = hook;
	return true;
}

void machine_reset(enum fw_reset_kind kind)
{
	/* Last registered leaves first, as a stack unwinds. */
	for (size_t i = nhooks; i-- > 0;)
		if (hooks[i]->before)
			hooks[i]->before();
	fw_reset(kind);
	for (size_t i = 0; i < nhooks; i++)
		if (hooks[i]->refused)
			hooks[i]->refused();
}
