/* The #MC severity judgement (hv/mce/mce_severity.c): every verdict, the
 * conditions each one needs, and the order in which they win. Status bits
 * are spelled out as the SDM (vol. 3, 16.3.2) and APM (vol. 2, 9.3) define
 * MCi_STATUS: VAL 63, UC 61, MISCV 59, ADDRV 58, PCC 57, S 56, AR 55;
 * MCG_STATUS RIPV 0, EIPV 1; MCG_CAP SER_P 24. */
#include <criterion/criterion.h>

#include "hv/mce/mce_severity.h"

#define VAL (1ull << 63)
#define UC (1ull << 61)
#define MISCV (1ull << 59)
#define ADDRV (1ull << 58)
#define PCC (1ull << 57)
#define S (1ull << 56)
#define AR (1ull << 55)
#define RIPV 1ull
#define EIPV 2ull
#define SER_P (1ull << 24)

/* A memory-read error code in the low bits, as banks report them. */
#define MEM_READ 0x9full
/* An uncorrected error with an address, signalled, not yet consumed (SRAO). */
#define UC_ADDR (VAL | UC | ADDRV | MISCV | S | MEM_READ)
/* Consumed by the interrupted code: action required (SRAR). */
#define CONSUMED (UC_ADDR | AR)
#define CORRECTED (VAL | ADDRV | MEM_READ)

static const char *const names[MCE_VERDICT_COUNT] = {
	[MCE_PANIC_CONTEXT_CORRUPT] = "panic: context corrupt",
	[MCE_TAKE_COPY_FIXUP] = "copy fixup",
	[MCE_PANIC_CONSUMED] = "panic: consumed",
	[MCE_PANIC_NO_RESTART_IP] = "panic: no restart IP",
	[MCE_GUEST_CANNOT_RESUME] = "guest cannot resume",
	[MCE_QUEUE] = "queue",
	[MCE_IGNORE_CORRECTED] = "corrected",
};

struct mc {
	const char *what;
	struct mce_bank_record banks[3];
	size_t n;
	uint64_t mcg_status, mcg_cap;
	bool in_guest, ip_has_fixup;
	enum mce_verdict want;
	uint64_t want_save;
};

static void judge(const struct mc *c)
{
	struct mce_context ctx = { c->mcg_status, c->in_guest, c->ip_has_fixup };
	struct mce_judgement j = mce_judge_banks(c->banks, c->n, c->mcg_cap, &ctx);

	cr_assert_eq(j.verdict, c->want, "%s: %s, expected %s", c->what, names[j.verdict],
		     names[c->want]);
	cr_assert_eq(j.save_addr, c->want_save, "%s: save 0x%lx, expected 0x%lx", c->what,
		     (unsigned long)j.save_addr, (unsigned long)c->want_save);
}

static void judge_all(const struct mc *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		judge(&cases[i]);
}

#define A1 0x12345000ull
#define A2 0x6789a000ull
#define A3 0xbcdef000ull

Test(mce_severity, resuming_verdicts)
{
	static const struct mc cases[] = {
		{ "no valid bank", { { 0 } }, 0, RIPV, SER_P, false, false, MCE_IGNORE_CORRECTED, 0 },
		{ "banks without VAL are not errors",
		  { { (UC_ADDR | PCC) & ~VAL, A1, 0 }, { CONSUMED & ~VAL, A2, 0 } }, 2,
		  RIPV, SER_P, false, false, MCE_IGNORE_CORRECTED, 0 },
		{ "corrected only", { { CORRECTED, A1, 0 } }, 1, RIPV, SER_P, false, false,
		  MCE_IGNORE_CORRECTED, 0 },
		{ "uncorrected, not consumed", { { CORRECTED, A1, 0 }, { UC_ADDR, A2, 0 } }, 2,
		  RIPV, SER_P, false, false, MCE_QUEUE, 0 },
		{ "uncorrected without an address", { { VAL | UC | MEM_READ, 0, 0 } }, 1,
		  RIPV | EIPV, SER_P, false, true, MCE_QUEUE, 0 },
		{ "UC+S without AR: not consumed", { { UC_ADDR, A1, 0 } }, 1, RIPV | EIPV, SER_P,
		  false, false, MCE_QUEUE, 0 },
		{ "UC+AR without S: not consumed", { { CONSUMED & ~S, A1, 0 } }, 1, RIPV, SER_P,
		  false, false, MCE_QUEUE, 0 },
		{ "S and AR undefined without SER_P", { { CONSUMED, A1, 0 } }, 1, RIPV, 0, false,
		  false, MCE_QUEUE, 0 },
	};

	judge_all(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(mce_severity, panics_save_the_page_they_name)
{
	static const struct mc cases[] = {
		{ "PCC", { { UC_ADDR | PCC, A1, 0 } }, 1, RIPV, SER_P, false, false,
		  MCE_PANIC_CONTEXT_CORRUPT, A1 },
		{ "PCC in a corrected-looking bank", { { CORRECTED | PCC, A2, 0 } }, 1, RIPV, SER_P,
		  false, false, MCE_PANIC_CONTEXT_CORRUPT, A2 },
		{ "PCC without an address", { { VAL | UC | PCC, 0, 0 } }, 1, RIPV, SER_P, false,
		  false, MCE_PANIC_CONTEXT_CORRUPT, 0 },
		{ "PCC: a later bank without an address keeps the page",
		  { { UC_ADDR | PCC, A1, 0 }, { VAL | UC | PCC, 0, 0 } }, 2, RIPV, SER_P, false,
		  false, MCE_PANIC_CONTEXT_CORRUPT, A1 },
		{ "consumed: a later bank without an address keeps the page",
		  { { CONSUMED, A2, 0 }, { CONSUMED & ~ADDRV, 0, 0 } }, 2, RIPV, SER_P, false,
		  false, MCE_PANIC_CONSUMED, A2 },
		{ "consumed", { { UC_ADDR, A1, 0 }, { CONSUMED, A2, 0 } }, 2, RIPV | EIPV, SER_P,
		  false, false, MCE_PANIC_CONSUMED, A2 },
		{ "no restart IP: the last uncorrected page",
		  { { UC_ADDR, A1, 0 }, { UC_ADDR, A2, 0 }, { CORRECTED, A3, 0 } }, 3, 0, SER_P,
		  false, false, MCE_PANIC_NO_RESTART_IP, A2 },
		{ "no restart IP, corrected only: nothing to save", { { CORRECTED, A3, 0 } }, 1,
		  EIPV, SER_P, false, true, MCE_PANIC_NO_RESTART_IP, 0 },
		{ "no restart IP, no bank", { { 0 } }, 0, 0, SER_P, false, false,
		  MCE_PANIC_NO_RESTART_IP, 0 },
	};

	judge_all(cases, sizeof(cases) / sizeof(cases[0]));
}

/* The copy fixup needs all three: EIPV (the error is the interrupted
 * instruction's), an uncorrected error with an address, a fixup there. */
Test(mce_severity, copy_fixup_only_for_an_error_at_the_copys_ip)
{
	static const struct mc cases[] = {
		{ "consumed in the copy", { { CONSUMED, A1, 0 } }, 1, RIPV | EIPV, SER_P, false,
		  true, MCE_TAKE_COPY_FIXUP, 0 },
		{ "consumed in the copy, no restart IP", { { CONSUMED, A1, 0 } }, 1, EIPV, SER_P,
		  false, true, MCE_TAKE_COPY_FIXUP, 0 },
		{ "uncorrected, SER_P absent", { { VAL | UC | ADDRV | MEM_READ, A1, 0 } }, 1, EIPV,
		  0, false, true, MCE_TAKE_COPY_FIXUP, 0 },
		{ "no EIPV: unrelated to the copy", { { CONSUMED, A1, 0 } }, 1, RIPV, SER_P, false,
		  true, MCE_PANIC_CONSUMED, A1 },
		{ "no fixup at the IP", { { CONSUMED, A1, 0 } }, 1, RIPV | EIPV, SER_P, false,
		  false, MCE_PANIC_CONSUMED, A1 },
		{ "no address", { { CONSUMED & ~ADDRV, 0, 0 } }, 1, RIPV | EIPV, SER_P, false, true,
		  MCE_PANIC_CONSUMED, 0 },
		{ "only a corrected address", { { CORRECTED, A1, 0 } }, 1, RIPV | EIPV, SER_P, false,
		  true, MCE_IGNORE_CORRECTED, 0 },
		{ "only a corrected address, no restart IP", { { CORRECTED, A1, 0 } }, 1, EIPV,
		  SER_P, false, true, MCE_PANIC_NO_RESTART_IP, 0 },
	};

	judge_all(cases, sizeof(cases) / sizeof(cases[0]));
}

/* Each step's condition together with every later one: the earlier wins. */
Test(mce_severity, precedence_pcc_then_fixup_then_consumed_then_ripv)
{
	static const struct mc cases[] = {
		{ "PCC beats the fixup, consumption and RIPV",
		  { { CONSUMED, A1, 0 }, { UC_ADDR | PCC, A2, 0 } }, 2, EIPV, SER_P, false, true,
		  MCE_PANIC_CONTEXT_CORRUPT, A2 },
		{ "the fixup beats consumption and RIPV", { { CONSUMED, A1, 0 } }, 1, EIPV, SER_P,
		  false, true, MCE_TAKE_COPY_FIXUP, 0 },
		{ "consumption beats RIPV (its page is saved)",
		  { { UC_ADDR, A1, 0 }, { CONSUMED, A2, 0 }, { UC_ADDR, A3, 0 } }, 3, 0, SER_P,
		  false, false, MCE_PANIC_CONSUMED, A2 },
		{ "no RIPV beats resuming", { { UC_ADDR, A1, 0 } }, 1, EIPV, SER_P, false, false,
		  MCE_PANIC_NO_RESTART_IP, A1 },
		{ "queue beats corrected", { { CORRECTED, A1, 0 }, { UC_ADDR, A2, 0 } }, 2, RIPV,
		  SER_P, false, false, MCE_QUEUE, 0 },
	};

	judge_all(cases, sizeof(cases) / sizeof(cases[0]));
}

/* A #MC intercepted while a guest ran: only PCC stops the hypervisor. The
 * guest, not the hypervisor, consumed the data; without RIPV the guest
 * cannot resume; no hypervisor fixup applies. */
Test(mce_severity, in_a_guest_only_pcc_panics)
{
	static const struct mc cases[] = {
		{ "guest: PCC", { { UC_ADDR | PCC, A1, 0 } }, 1, RIPV, SER_P, true, false,
		  MCE_PANIC_CONTEXT_CORRUPT, A1 },
		{ "guest: consumed, RIPV", { { CONSUMED, A1, 0 } }, 1, RIPV | EIPV, SER_P, true, true,
		  MCE_QUEUE, 0 },
		{ "guest: consumed, no RIPV", { { CONSUMED, A1, 0 } }, 1, EIPV, SER_P, true, true,
		  MCE_GUEST_CANNOT_RESUME, 0 },
		{ "guest: corrected, no RIPV", { { CORRECTED, A1, 0 } }, 1, 0, SER_P, true, false,
		  MCE_GUEST_CANNOT_RESUME, 0 },
		{ "guest: corrected", { { CORRECTED, A1, 0 } }, 1, RIPV, SER_P, true, false,
		  MCE_IGNORE_CORRECTED, 0 },
	};

	judge_all(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(mce_severity, the_scan_folds_banks_as_they_are_read)
{
	struct mce_scan scan = { 0 };
	const struct mce_bank_record banks[] = {
		{ CORRECTED, A3, 0 },          /* counted, its address ignored */
		{ UC_ADDR & ~VAL, A3, 0 },     /* not valid: nothing */
		{ UC_ADDR, A1, 0x86 },
		{ CONSUMED, A2, 0 },
		{ VAL | UC | MEM_READ, 0, 0 }, /* no address: any_addr stays */
	};

	for (size_t i = 0; i < 5; i++)
		mce_scan_bank(&scan, &banks[i], true);
	cr_assert_eq(scan.found, 4);
	cr_assert(scan.uncorrected);
	cr_assert(scan.consumed);
	cr_assert_eq(scan.consumed_addr, A2);
	cr_assert_not(scan.pcc);
	cr_assert_eq(scan.any_addr, A2, "the last uncorrected page");

	struct mce_scan no_ser = { 0 };
	mce_scan_bank(&no_ser, &banks[3], false);
	cr_assert_not(no_ser.consumed, "S and AR mean nothing without SER_P");
	cr_assert_eq(no_ser.any_addr, A2);
}

Test(mce_severity, addresses_are_pages_of_bits_51_to_12)
{
	cr_assert_eq(mce_page_of(0x0000000012345678ull), 0x12345000ull);
	cr_assert_eq(mce_page_of(0xff0000123456789aull), 0x0000001234567000ull,
		     "AMD's bits above 51 dropped");
	cr_assert_eq(mce_page_of(0x000fffffffffffffull), 0x000ffffffffff000ull);
	cr_assert_eq(mce_page_of(0xfff), 0);
}
