/* Picks the virtualization backend at boot: a loop over the registered
 * backends (VCPU_BACKEND), each of which probes its own extension. */
#include "hv/core/log.h"
#include "hv/core/reset.h"
#include "hv/lib/format.h"
#include "hv/smp/smp.h"
#include "hv/vm/vcpu.h"

extern const struct vcpu_ops *const __start_vcpu_backends[];
extern const struct vcpu_ops *const __stop_vcpu_backends[];

const struct vcpu_ops *vcpu_ops;
static const char *reason = "backend not selected yet";
static char none_reason[96];

static void leave_hw(void)
{
	vcpu_ops->hw_disable();
}

static void reenter_hw(void)
{
	vcpu_ops->hw_reenable();
}

static const struct reset_hook hw_reset_hook = { leave_hw, reenter_hw };

static const char *enable_on_started_cpu(void)
{
	return vcpu_ops->hw_enable_cpu();
}

static struct cpu_start_hook hw_start_hook = { .name = "guest backend",
					       .start = enable_on_started_cpu };

/* "the CPU has none of: AMD SVM, Intel VMX" */
static const char *no_extension(void)
{
	size_t n = (size_t)fmt_snprintf(none_reason, sizeof(none_reason), "the CPU has none of:");
	const char *sep = " ";

	for (const struct vcpu_ops *const *b = __start_vcpu_backends; b < __stop_vcpu_backends; b++) {
		if (n < sizeof(none_reason))
			n += (size_t)fmt_snprintf(none_reason + n, sizeof(none_reason) - n, "%s%s", sep,
						  (*b)->title);
		sep = ", ";
	}
	return none_reason;
}

static const struct vcpu_ops *candidate(void)
{
	const char *first_reason = NULL;

	for (const struct vcpu_ops *const *b = __start_vcpu_backends; b < __stop_vcpu_backends; b++) {
		const char *why = NULL;
		switch ((*b)->probe(&why)) {
		case VCPU_PROBE_USABLE:
			return *b;
		case VCPU_PROBE_UNUSABLE:
			if (!first_reason)
				first_reason = why;
			break;
		case VCPU_PROBE_ABSENT:
			break;
		}
	}
	reason = first_reason ? first_reason : no_extension();
	return NULL;
}

void vcpu_select_backend(void)
{
	const struct vcpu_ops *ops = candidate();

	if (ops && ops->hw_enable() != 0) {
		reason = "enabling hardware virtualization failed";
		ops = NULL;
	}
	vcpu_ops = ops;
	if (!ops) {
		log_warn("guests unavailable: %s; the console still works", reason);
		return;
	}
	reason = NULL;
	reset_add_hook(&hw_reset_hook);
	smp_add_start_hook(&hw_start_hook);
	log_info("guest backend: %s", ops->name);
}

void vcpu_describe_backends(vcpu_print_fn print, void *ctx)
{
	for (const struct vcpu_ops *const *b = __start_vcpu_backends; b < __stop_vcpu_backends; b++)
		(*b)->describe(print, ctx);
}

const char *vcpu_backend_name(void)
{
	return vcpu_ops ? vcpu_ops->name : "none";
}

const char *vcpu_unavailable_reason(void)
{
	return reason;
}
