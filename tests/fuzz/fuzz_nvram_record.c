/* libFuzzer target: the retired-page record read from NVRAM at boot. A
 * damaged variable must be refused with a reason, never crash or yield
 * pages that break the record's rules. */
#include <stdint.h>
#include <stdlib.h>

#include "hv/mce/retired_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct retired_entry out[RETIRED_MAX];
	char err[128];
	size_t n = 0;

	if (retired_record_decode(data, size, out, &n, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < n; i++)
			if (!out[i].addr || (out[i].addr & 0xfff) || (i && out[i].addr <= out[i - 1].addr))
				abort(); /* the decoder let a bad entry through */
	} else if (n != 0) {
		abort();
	}
	return 0;
}
