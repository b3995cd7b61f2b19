#include "hv/mce/mce_severity.h"

uint64_t mce_page_of(uint64_t addr)
{
	return addr & 0x000ffffffffff000ull;
}

void mce_scan_bank(struct mce_scan *scan, const struct mce_bank_record *bank, bool ser_p)
{
	uint64_t st = bank->status;

	if (!(st & MCI_VAL))
		return;
	scan->found++;
	if (st & MCI_UC)
		scan->uncorrected = true;
	if (bank->addr && (st & MCI_UC))
		scan->any_addr = bank->addr;
	/* A later bank without an address must not lose the page an earlier
	 * one gave: it is what gets saved before the panic. */
	if (st & MCI_PCC) {
		scan->pcc = true;
		if (bank->addr)
			scan->pcc_addr = bank->addr;
	}
	if (ser_p && (st & (MCI_UC | MCI_S | MCI_AR)) == (MCI_UC | MCI_S | MCI_AR)) {
		scan->consumed = true;
		if (bank->addr)
			scan->consumed_addr = bank->addr;
	}
}

static struct mce_judgement verdict(enum mce_verdict v, uint64_t save_addr)
{
	return (struct mce_judgement){ v, save_addr };
}

/* Resuming is safe: what is left for the main loop. */
static struct mce_judgement resume(const struct mce_scan *scan)
{
	return verdict(scan->uncorrected ? MCE_QUEUE : MCE_IGNORE_CORRECTED, 0);
}

struct mce_judgement mce_judge(const struct mce_scan *scan, const struct mce_context *ctx)
{
	uint64_t mcg = ctx->mcg_status;

	if (scan->pcc)
		return verdict(MCE_PANIC_CONTEXT_CORRUPT, scan->pcc_addr);
	if (ctx->in_guest) {
		/* The guest consumed it, if anyone: its page is poisoned before
		 * it runs again. Intel reports such a load without RIPV. */
		if (!(mcg & MCG_RIPV))
			return verdict(MCE_GUEST_CANNOT_RESUME, 0);
		return resume(scan);
	}
	/* Inside copy_mc_safe, and the error belongs to the copy (the IP is
	 * the one that met it): the copy fails, the main loop handles the
	 * error. A #MC with an unrelated IP is judged as anywhere else. */
	if ((mcg & MCG_EIPV) && scan->any_addr && ctx->ip_has_fixup)
		return verdict(MCE_TAKE_COPY_FIXUP, 0);
	/* Our own code consumed the bad data outside a safe copy: resuming
	 * would consume it again. */
	if (scan->consumed)
		return verdict(MCE_PANIC_CONSUMED, scan->consumed_addr);
	if (!(mcg & MCG_RIPV))
		return verdict(MCE_PANIC_NO_RESTART_IP, scan->any_addr);
	return resume(scan);
}

struct mce_judgement mce_judge_banks(const struct mce_bank_record *banks, size_t n,
				     uint64_t mcg_cap, const struct mce_context *ctx)
{
	struct mce_scan scan = { 0 };

	for (size_t i = 0; i < n; i++)
		mce_scan_bank(&scan, &banks[i], mcg_cap & MCG_SER_P);
	return mce_judge(&scan, ctx);
}
