/* Log, panic and clock for the fuzz targets (see fuzz_env.h). Log lines go
 * through the hypervisor's own formatter, so a bad argument (a signature
 * without a terminator, a wrong width) shows under the sanitizers; they are
 * printed only with FUZZ_LOG=1 in the environment. */
#include "tests/fuzz/fuzz_env.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "hv/core/log.h"
#include "hv/core/panic.h"
#include "hv/core/time.h"
#include "hv/lib/format.h"

void (*fuzz_time_hook)(void);
void (*fuzz_log_hook)(const char *line);

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	static int show = -1;
	char line[512];

	fmt_vsnprintf(line, sizeof(line), fmt, ap);
	if (fuzz_log_hook)
		fuzz_log_hook(line);
	if (show < 0)
		show = getenv("FUZZ_LOG") != NULL;
	if (show)
		fprintf(stderr, "log %d: %s\n", (int)level, line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/* A panic is a finding: the code under test gave up on its input. */
void panic_at(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "panic at %s:%d: %s\n", file, line, msg);
	abort();
}

/* A millisecond passes on every reading, so every deadline loop ends
 * within its timeout's worth of calls even if the device never answers. */
uint64_t time_ns(void)
{
	static uint64_t now;

	if (fuzz_time_hook)
		fuzz_time_hook();
	now += NS_PER_MS;
	return now;
}
