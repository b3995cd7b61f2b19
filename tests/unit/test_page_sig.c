/* Page signatures: SHA-256 of the page, checked against values computed
 * independently (Python's hashlib), and a one-bit change changes them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "migrate/page_sig.h"

static void hex(const uint8_t *sig, char *out)
{
	for (int i = 0; i < MIG_SIG_LEN; i++)
		sprintf(out + 2 * i, "%02x", sig[i]);
}

Test(page_sig, known_answers)
{
	static uint8_t page[MIG_PAGE_SIZE];
	uint8_t sig[MIG_SIG_LEN];
	char text[2 * MIG_SIG_LEN + 1];

	page_sig(page, sig);
	hex(sig, text);
	cr_assert_str_eq(text, "ad7facb2586fc6e966c004d7d1d16b024f5805ff7cb47c7a85dabd8b48892ca7");
	for (unsigned i = 0; i < MIG_PAGE_SIZE; i++)
		page[i] = (uint8_t)(i % 251);
	page_sig(page, sig);
	hex(sig, text);
	cr_assert_str_eq(text, "d67c656e01756650d77717b0839985a056ec28ffe174601d690fc407a2ceffca");
}

Test(page_sig, one_bit_anywhere_changes_it)
{
	static uint8_t page[MIG_PAGE_SIZE];
	uint8_t base[MIG_SIG_LEN], sig[MIG_SIG_LEN];

	page_sig(page, base);
	for (unsigned byte = 0; byte < MIG_PAGE_SIZE; byte += 509) {
		page[byte] ^= 0x10;
		page_sig(page, sig);
		cr_assert(memcmp(sig, base, sizeof(sig)), "byte %u", byte);
		page[byte] ^= 0x10;
	}
	page[MIG_PAGE_SIZE - 1] ^= 1; /* the last byte counts too */
	page_sig(page, sig);
	cr_assert(memcmp(sig, base, sizeof(sig)));
}
