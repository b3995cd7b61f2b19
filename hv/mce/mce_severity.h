/* How bad a machine check is, judged from what was read out of the MCA
 * banks, with no MSR access and no state of its own (host-tested). The
 * #MC handler and the #MC VM exit in mca.c read and clear the banks, fold
 * each bank into a scan as they read it, then act on the verdict.
 *
 * Precedence, for a #MC that interrupted the hypervisor:
 *   1. processor context corrupt (PCC in any bank): panic;
 *   2. the error belongs to the interrupted instruction (MCG_STATUS.EIPV),
 *      carries an uncorrected address, and that instruction has a fixup
 *      (copy_mc_safe's copy loop): the copy fails instead of the hypervisor;
 *   3. the hypervisor consumed poisoned data (UC+S+AR, defined with
 *      MCG_CAP.SER_P): resuming would consume it again, panic;
 *   4. no restart IP (MCG_STATUS.RIPV clear): panic;
 *   5. otherwise resume: uncorrected errors are queued for the main loop,
 *      corrected ones only counted there.
 * For a #MC intercepted while a guest ran, only 1 panics; without RIPV it
 * is the guest that cannot resume, not the hypervisor. */
#ifndef HV_MCE_MCE_SEVERITY_H
#define HV_MCE_MCE_SEVERITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MCi_STATUS */
#define MCI_VAL (1ull << 63)
#define MCI_UC (1ull << 61)
#define MCI_MISCV (1ull << 59)
#define MCI_ADDRV (1ull << 58)
#define MCI_PCC (1ull << 57)
#define MCI_S (1ull << 56)  /* signalled as #MC (software-recoverable format) */
#define MCI_AR (1ull << 55) /* action required: the interrupted code consumed it */
/* MCG_STATUS, MCG_CAP */
#define MCG_RIPV 1ull
#define MCG_EIPV 2ull
#define MCG_SER_P (1ull << 24)

/* One bank as read: addr is the page (mce_page_of) when ADDRV is set,
 * else 0; misc is 0 without MISCV. */
struct mce_bank_record {
	uint64_t status, addr, misc;
};

/* What one read of the banks found, folded bank by bank (the handler keeps
 * no array of banks: there may be 255 of them). */
struct mce_scan {
	unsigned found;          /* valid banks */
	bool uncorrected;        /* any with UC */
	bool pcc, consumed;      /* any with PCC; any UC+S+AR under SER_P */
	uint64_t pcc_addr;       /* the last page a PCC bank gave (0: none) */
	uint64_t consumed_addr;  /* the last page a consumed one gave */
	uint64_t any_addr;       /* the last page an uncorrected one gave */
};

/* Where the #MC arrived. */
struct mce_context {
	uint64_t mcg_status;
	bool in_guest;      /* intercepted as a VM exit: a guest was running */
	bool ip_has_fixup;  /* the interrupted hypervisor IP has an ex_table fixup */
};

enum mce_verdict {
	MCE_PANIC_CONTEXT_CORRUPT,
	MCE_TAKE_COPY_FIXUP,
	MCE_PANIC_CONSUMED,
	MCE_PANIC_NO_RESTART_IP,
	MCE_GUEST_CANNOT_RESUME, /* that VM stops; the hypervisor carries on */
	MCE_QUEUE,               /* uncorrected errors for the main loop */
	MCE_IGNORE_CORRECTED,    /* only corrected errors: resume */
	MCE_VERDICT_COUNT
};

struct mce_judgement {
	enum mce_verdict verdict;
	uint64_t save_addr; /* page to save to NVRAM before panicking, 0: none */
};

/* A page address as the banks give it: bits 51:12 (AMD keeps other
 * information above bit 55). */
uint64_t mce_page_of(uint64_t addr);

/* Adds one bank to the scan; a bank without VAL adds nothing.
 * @pre scan zeroed before the first bank of a #MC */
void mce_scan_bank(struct mce_scan *scan, const struct mce_bank_record *bank, bool ser_p);

struct mce_judgement mce_judge(const struct mce_scan *scan, const struct mce_context *ctx);

/* Folds a list of banks and judges it (MCG_CAP gives SER_P). */
struct mce_judgement mce_judge_banks(const struct mce_bank_record *banks, size_t n,
				     uint64_t mcg_cap, const struct mce_context *ctx);

#endif
