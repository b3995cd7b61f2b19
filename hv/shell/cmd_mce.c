/* mce: pages taken out of service and their NVRAM copy. */
#include "hv/core/log.h"
#include "hv/core/time.h"
#include "hv/lib/parse.h"
#include "hv/lib/string.h"
#include "hv/mce/mca.h"
#include "hv/mce/retired_list.h"
#include "hv/mm/mm.h"
#include "hv/shell/cmd_vm.h"
#include "hv/shell/commands.h"
#include "hv/shell/shell.h"
#include "hv/vm/vm.h"

/* Whether every CPU takes a #MC, and how the last meeting went. */
static void mce_show_broadcast(struct shell *sh, const struct mce_stats *m)
{
	const struct mce_rendezvous *rv = m->rendezvous;

	sh_printf(sh, "broadcast: %s\nbroadcast_rounds: %u\nbroadcast_timeouts: %u\n",
		  m->broadcast ? "yes (Intel: every CPU takes it and they meet)"
			       : "no (each CPU takes its own)",
		  rv->rounds, rv->timeouts);
	if (rv->rounds)
		sh_printf(sh, "broadcast_last: %u of %u CPUs, monarch cpu%d\n", rv->last_arrived,
			  rv->last_expected, rv->last_monarch);
}

static int mce_show(struct shell *sh)
{
	size_t n = retired_list_count();
	const struct mce_stats *m = mce_stats();

	sh_printf(sh, "mca: %s\nbanks: %u\nexceptions: %lu\ncopies_interrupted: %lu\n"
		      "intercepted_in_guest: %lu\nfound_by_polling: %lu\nqueue_full_dropped: %lu\n"
		      "corrected: %lu\nuncorrected: %lu\npages_retired_this_boot: %lu\n"
		      "guest_pages_poisoned: %lu\n", m->available ? "yes" : "no", m->banks,
		  (unsigned long)m->exceptions, (unsigned long)m->copies_interrupted,
		  (unsigned long)m->guest_exits, (unsigned long)m->polled, (unsigned long)m->dropped,
		  (unsigned long)m->corrected, (unsigned long)m->uncorrected,
		  (unsigned long)m->pages_retired, (unsigned long)m->guest_pages_poisoned);
	if (m->last[0])
		sh_printf(sh, "last: %s\nlast_error_to_action_us: %lu\n", m->last,
			  (unsigned long)(m->last_ns / 1000));
	if (m->available)
		mce_show_broadcast(sh, m);

	sh_printf(sh, "retired_pages: %zu\nnvram_at_boot: %s\nnvram_last_save: %s\n"
		      "nvram_last_save_us: %lu\n", n, retired_list_boot_status(),
		  retired_list_save_status(), (unsigned long)(retired_list_last_save_ns() / 1000));
	for (size_t i = 0; i < n; i++) {
		const struct retired_entry *e = retired_list_at(i);
		sh_printf(sh, "page 0x%lx reason %s when %u\n", (unsigned long)e->addr,
			  retire_reason_name(e->reason), e->when);
	}
	return SHELL_OK;
}

static bool parse_page(struct shell *sh, const char *s, uint64_t *addr)
{
	if (!parse_u64(s, addr) || (*addr & 0xfff) || !*addr) {
		sh_error(sh, "'%.24s' is not a page address (4 KiB aligned, not 0)", s);
		return false;
	}
	return true;
}

static int mce_retire(struct shell *sh, uint64_t addr)
{
	static const char *const states[] = {
		[PALLOC_RETIRED_FREE] = "retired (was free)",
		[PALLOC_RETIRED_IN_USE] = "retired (in use: out of service once freed)",
		[PALLOC_ALREADY_RETIRED] = "already retired",
	};
	enum palloc_retire_result r = mm_retire_page(addr);

	if (r == PALLOC_NOT_RAM)
		return sh_error(sh, "0x%lx is not RAM this hypervisor manages", (unsigned long)addr);
	bool saved = retired_list_add(addr, RETIRE_OPERATOR);
	log_warn("mce: page 0x%lx retired from the console", (unsigned long)addr);
	sh_printf(sh, "page: 0x%lx\nstate: %s\nsaved: %s\n", (unsigned long)addr, states[r],
		  saved ? "yes" : "no");
	return saved ? SHELL_OK : sh_error(sh, "%s", retired_list_save_status());
}

static int mce_forget(struct shell *sh, uint64_t addr)
{
	bool was_retired = mm_unretire_page(addr);
	bool listed = retired_list_remove(addr);

	if (!was_retired && !listed)
		return sh_error(sh, "page 0x%lx is not retired", (unsigned long)addr);
	log_warn("mce: page 0x%lx put back into service by the operator", (unsigned long)addr);
	sh_printf(sh, "page: 0x%lx\nstate: in service\n", (unsigned long)addr);
	return SHELL_OK;
}

/* ADDR, or NAME:GPA for a page of a VM. */
static bool parse_target(struct shell *sh, const char *s, uint64_t *hpa)
{
	const char *colon = strchr(s, ':');

	if (!colon)
		return parse_page(sh, s, hpa);
	char name[VM_NAME_MAX];
	uint64_t gpa;
	size_t n = (size_t)(colon - s);
	if (n >= sizeof(name)) {
		sh_error(sh, "no VM named '%.*s'", (int)(n > 31 ? 31 : n), s);
		return false;
	}
	memcpy(name, s, n);
	name[n] = '\0';
	struct vm *vm = cmd_vm_lookup(sh, name);
	if (!vm)
		return false;
	if (!parse_u64(colon + 1, &gpa) || !gmem_contains(&vm->mem, gpa, 1)) {
		sh_error(sh, "'%.24s' is not a guest-physical address of '%s'", colon + 1, name);
		return false;
	}
	*hpa = gmem_hpa(&vm->mem, gpa) & ~0xfffull;
	return true;
}

static int mce_inject(struct shell *sh, uint64_t hpa)
{
	char what[140];
	uint64_t t0 = time_ns();
	enum mce_owner o = mce_handle_page(hpa, RETIRE_INJECTED, what, sizeof(what));
	uint64_t took = time_ns() - t0;

	if (o == MCE_OWNER_NOT_RAM)
		return sh_error(sh, "%s", what);
	log_warn("mce: injected error at 0x%lx: %s", (unsigned long)hpa, what);
	sh_printf(sh, "page: 0x%lx\nowner: %s\naction: %s\nhandling_us: %lu\nnvram_save_us: %lu\n",
		  (unsigned long)hpa,
		  o == MCE_OWNER_GUEST ? "guest" : o == MCE_OWNER_HV ? "hypervisor" : "free", what,
		  (unsigned long)(took / 1000), (unsigned long)(retired_list_last_save_ns() / 1000));
	return SHELL_OK;
}

int cmd_mce(struct shell *sh, int argc, char **argv)
{
	uint64_t addr;

	if (argc == 1)
		return mce_show(sh);
	if (argc == 3 && !strcmp(argv[1], "retire"))
		return parse_page(sh, argv[2], &addr) ? mce_retire(sh, addr) : SHELL_FAILED;
	if (argc == 3 && !strcmp(argv[1], "forget"))
		return parse_page(sh, argv[2], &addr) ? mce_forget(sh, addr) : SHELL_FAILED;
	if (argc == 3 && !strcmp(argv[1], "inject"))
		return parse_target(sh, argv[2], &addr) ? mce_inject(sh, addr) : SHELL_FAILED;
	if (argc == 3 && !strcmp(argv[1], "where")) {
		if (!parse_target(sh, argv[2], &addr))
			return SHELL_FAILED;
		sh_printf(sh, "hpa: 0x%lx\n", (unsigned long)addr);
		return SHELL_OK;
	}
	return sh_error(sh, "usage: mce | mce retire ADDR | mce forget ADDR | "
		       "mce inject ADDR|VM:GPA | mce where VM:GPA");
}
