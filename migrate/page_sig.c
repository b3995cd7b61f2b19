/* Page signatures; see page_sig.h. */
#include "migrate/page_sig.h"

#include "mbedtls/sha256.h"

void page_sig(const void *page, uint8_t out[MIG_SIG_LEN])
{
	/* Cannot fail without hardware acceleration, which this build has not. */
	(void)mbedtls_sha256_ret(page, MIG_PAGE_SIZE, out, 0);
}
