/* migrate: live migration from the console (see migrate/migrate.h). */
#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/lib/parse.h"
#include "hv/lib/string.h"
#include "hv/shell/cmd_vm.h"
#include "hv/shell/commands.h"
#include "hv/shell/shell.h"
#include "hv/vm/vm.h"
#include "migrate/migrate.h"
#include "migrate/seed.h"
#include "net/net_addr.h"

static unsigned long ms(uint64_t ns)
{
	return (unsigned long)(ns / NS_PER_MS);
}

static void show_disks(struct shell *sh, const char *p, const struct mig_disk_status *d,
		       bool outgoing)
{
	sh_printf(sh, "%sdisks: %u\n%sdisk_bytes: %lu\n%sdisk_bytes_resumed: %lu\n", p, d->disks,
		  p, (unsigned long)d->bytes, p, (unsigned long)d->bytes_resumed);
	if (!outgoing)
		return;
	sh_printf(sh, "disk_block_size: %u\ndisk_blocks_total: %lu\ndisk_blocks_sent: %lu\n"
		      "disk_blocks_remaining: %lu\ndisk_dirty_blocks_per_s: %lu\n"
		      "disk_bases_skipped: %u\ndisk_mirrored_writes: %lu\n",
		  d->block_size, (unsigned long)d->blocks_total, (unsigned long)d->blocks_sent,
		  (unsigned long)d->blocks_remaining, (unsigned long)d->dirty_blocks_per_s,
		  d->bases_skipped, (unsigned long)d->mirrored_writes);
}

static void show(struct shell *sh, const char *p, const struct mig_status *st, bool outgoing)
{
	char addr[16];
	uint64_t now = time_ns();
	uint64_t end = st->end_ns ? st->end_ns : now;

	net_addr_format(st->peer, addr);
	sh_printf(sh, "%sphase: %s\n", p, migrate_phase_name(st->phase));
	if (st->phase == MIG_IDLE)
		return;
	sh_printf(sh, "%svm: %s\n%speer: %s:%u\n", p, st->vm, p, addr, st->port);
	if (st->channel[0])
		sh_printf(sh, "%schannel: %s\n", p, st->channel);
	sh_printf(sh, "%spages_total: %lu\n%spages_sent: %lu\n%szero_pages: %lu\n"
		      "%spoison_pages: %lu\n%sbytes: %lu\n%selapsed_ms: %lu\n",
		  p, (unsigned long)st->pages_total, p, (unsigned long)st->pages_sent, p,
		  (unsigned long)st->zero_pages, p, (unsigned long)st->poison_pages, p,
		  (unsigned long)st->bytes, p, ms(end - st->start_ns));
	sh_printf(sh, "%sseed_pages: %lu\n%ssig_pages: %lu\n%ssig_misses: %lu\n", p,
		  (unsigned long)st->seed_pages, p, (unsigned long)st->sig_pages, p,
		  (unsigned long)st->sig_misses);
	sh_printf(sh, "%sdelta_pages: %lu\n%sdelta_bytes: %lu\n%scpu_ms: %lu\n", p,
		  (unsigned long)st->delta_pages, p, (unsigned long)st->delta_bytes, p,
		  ms(st->cpu_ns));
	if (!outgoing)
		sh_printf(sh, "%sround: %u\n", p, st->round);
	if (!outgoing && st->phase == MIG_DONE && st->pause_ns)
		sh_printf(sh, "%sdowntime_ms: %lu\n%sdowntime_error_ms: %lu\n", p,
			  ms(st->resume_ns - st->pause_ns), p, ms(st->downtime_error_ns));
	if (outgoing) {
		sh_printf(sh, "round: %u\npages_remaining: %lu\ndirty_pages_per_s: %lu\n"
			      "throughput_mbit_s: %lu\ndrain_mbit_s: %lu\nexpected_downtime_ms: %lu\n"
			      "downtime_limit_ms: %u\nconverging: %s\nthrottle_pct: %u\n",
			  st->round, (unsigned long)st->pages_remaining,
			  (unsigned long)st->dirty_pages_per_s,
			  (unsigned long)(st->throughput_bytes_per_s * 8 / 1000000),
			  (unsigned long)(st->drain_bytes_per_s * 8 / 1000000),
			  ms(st->expected_downtime_ns), st->downtime_limit_ms,
			  st->converging ? "yes" : "no", st->throttle_pct);
		sh_printf(sh, "dirty_mode: %s\n", dirty_mode_name(st->dirty_mode));
		sh_printf(sh, "handover: %s\n", st->pipelined ? "pipelined" : "confirmed");
		if (st->dirty_installers == DIRTY_INSTALLERS_ALL)
			sh_printf(sh, "dirty_installers: all\n");
		else
			sh_printf(sh, "dirty_installers: %u\n", st->dirty_installers);
		sh_printf(sh, "harvests: %lu\nharvest_us: %lu\nshootdowns: %lu\nshootdown_us: %lu\n",
			  (unsigned long)st->harvests, (unsigned long)(st->harvest_ns / 1000),
			  (unsigned long)st->shootdowns, (unsigned long)(st->shootdown_ns / 1000));
		sh_printf(sh, "pages_per_round:");
		for (unsigned i = 0; i <= st->round && i < MIGRATE_ROUNDS_KEPT; i++)
			sh_printf(sh, " %u", st->pages_per_round[i]);
		sh_printf(sh, "\n");
		if (st->pause_ns)
			sh_printf(sh, "paused_ms_ago: %lu\n", ms(now - st->pause_ns));
		if (st->phase == MIG_DONE)
			sh_printf(sh, "total_ms: %lu\ndowntime_ms: %lu\nbytes_per_guest_byte: %lu.%03lu\n",
				  ms(st->resume_ns - st->start_ns), ms(st->resume_ns - st->pause_ns),
				  (unsigned long)(st->bytes / (st->pages_total * 4096)),
				  (unsigned long)(st->bytes * 1000 / (st->pages_total * 4096) % 1000));
	}
	if (st->disk.disks)
		show_disks(sh, p, &st->disk, outgoing);
	if (st->error[0])
		sh_printf(sh, "%sreason: %s\n", p, st->error); /* "error:" is the status line */
}

static int migrate_status_cmd(struct shell *sh)
{
	uint16_t port;
	const uint32_t *peers;
	size_t npeers;
	char addr[16];

	bool on = migrate_listening(&port, &peers, &npeers);
	sh_printf(sh, "listening: %s\n", on ? "yes" : "no");
	if (on) {
		sh_printf(sh, "listen_port: %u\npeers:", port);
		for (size_t i = 0; i < npeers; i++) {
			net_addr_format(peers[i], addr);
			sh_printf(sh, " %s", addr);
		}
		sh_printf(sh, "\n");
	}
	show(sh, "", migrate_outgoing(), true);
	show(sh, "incoming_", migrate_incoming(), false);
	return SHELL_OK;
}

bool cmd_parse_endpoint(const char *arg, uint32_t *ip, uint16_t *port, char *err, size_t errlen)
{
	char host[24];
	uint64_t v;

	if (strlen(arg) >= sizeof(host)) {
		fmt_snprintf(err, errlen, "'%.30s' is not ADDR[:PORT]", arg);
		return false;
	}
	str_copy(host, arg, sizeof(host));
	char *colon = strchr(host, ':');
	if (colon) {
		*colon = '\0';
		if (!parse_u64(colon + 1, &v) || !v || v > 65535) {
			fmt_snprintf(err, errlen, "port must be 1-65535");
			return false;
		}
		*port = (uint16_t)v;
	}
	if (!parse_ipv4(host, ip)) {
		fmt_snprintf(err, errlen, "'%.20s' is not an IPv4 address", host);
		return false;
	}
	return true;
}

bool cmd_parse_peers(const char *arg, uint32_t *peers, size_t max, size_t *n, char *err,
		     size_t errlen)
{
	char list[160];

	str_copy(list, arg, sizeof(list));
	for (char *tok = list, *next; tok && *tok; tok = next) {
		next = strchr(tok, ',');
		if (next)
			*next++ = '\0';
		if (*n == max) {
			fmt_snprintf(err, errlen, "at most %zu peers", max);
			return false;
		}
		if (!parse_ipv4(tok, &peers[(*n)++])) {
			fmt_snprintf(err, errlen, "'%.20s' is not an IPv4 address", tok);
			return false;
		}
	}
	return true;
}

bool cmd_parse_listen(int argc, char **argv, int from, uint16_t *port, uint32_t *peers,
		      size_t *npeers, char *err, size_t errlen)
{
	uint64_t v;

	*npeers = 0;
	for (int i = from; i < argc; i++) {
		if (!strncmp(argv[i], "from=", 5)) {
			if (!cmd_parse_peers(argv[i] + 5, peers, MIGRATE_MAX_PEERS, npeers, err, errlen))
				return false;
		} else if (parse_u64(argv[i], &v) && v && v <= 65535) {
			*port = (uint16_t)v;
		} else {
			fmt_snprintf(err, errlen, "'%.30s' is neither a port nor from=ADDR[,ADDR...]",
				     argv[i]);
			return false;
		}
	}
	return true;
}

static int migrate_listen_cmd(struct shell *sh, int argc, char **argv)
{
	uint16_t port = MIGRATE_PORT;
	uint32_t peers[MIGRATE_MAX_PEERS];
	size_t npeers = 0;
	char err[120];

	if (argc == 3 && !strcmp(argv[2], "off")) {
		migrate_unlisten();
		sh_printf(sh, "listening: no\n");
		return SHELL_OK;
	}
	if (!cmd_parse_listen(argc, argv, 2, &port, peers, &npeers, err, sizeof(err)))
		return sh_error(sh, "%s (usage: migrate listen [PORT] from=ADDR[,ADDR...] | "
				"migrate listen off)", err);
	if (migrate_listen(port, peers, npeers, err, sizeof(err)))
		return sh_error(sh, "%s", err);
	sh_printf(sh, "listening: yes\nlisten_port: %u\n", port);
	return SHELL_OK;
}

/* What each option takes: the whole list would not fit the status line. */
static void bad_opt(const char *arg, size_t klen, char *err, size_t errlen)
{
	static const char *const forms[] = {
		"downtime=1-60000", "bandwidth=MBPS", "rounds=1-1000", "throttle=on|off",
		"mode=wp|ad|pml", "installers=K", "as=NAME", "disks=copy|shared", "keep=yes|no",
		"disk_mode=rounds|mirror", "signatures=on|off", "delta=on|off",
		"handover=confirmed|pipelined",
	};

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		if (!strncmp(forms[i], arg, klen) && forms[i][klen] == '=') {
			fmt_snprintf(err, errlen, "bad option '%.30s' (%s)", arg, forms[i]);
			return;
		}
	fmt_snprintf(err, errlen, "bad option '%.30s' (options: downtime bandwidth rounds throttle "
		     "mode installers as disks keep disk_mode signatures delta handover)", arg);
}

static bool parse_opt(const char *arg, struct migrate_opts *o, char *err, size_t errlen)
{
	uint64_t v;
	const char *eq = strchr(arg, '=');

	if (!eq) {
		fmt_snprintf(err, errlen, "unknown option '%.20s'", arg);
		return false;
	}
	const char *val = eq + 1;
	size_t klen = (size_t)(eq - arg);
	if (klen == 8 && !strncmp(arg, "downtime", 8) && parse_u64(val, &v) && v && v <= 60000)
		o->downtime_ms = (uint32_t)v;
	else if (klen == 9 && !strncmp(arg, "bandwidth", 9) && parse_u64(val, &v) && v <= 100000)
		o->bandwidth_mbps = (uint32_t)v;
	else if (klen == 6 && !strncmp(arg, "rounds", 6) && parse_u64(val, &v) && v >= 1 &&
		 v <= 1000)
		o->max_rounds = (uint32_t)v;
	else if (klen == 8 && !strncmp(arg, "throttle", 8) && (!strcmp(val, "on") || !strcmp(val, "off")))
		o->throttle = !strcmp(val, "on");
	else if (klen == 2 && !strncmp(arg, "as", 2) && *val && strlen(val) < sizeof(o->as_name))
		str_copy(o->as_name, val, sizeof(o->as_name));
	else if (klen == 4 && !strncmp(arg, "mode", 4) && dirty_mode_parse(val, &o->dirty_mode))
		;
	else if (klen == 10 && !strncmp(arg, "installers", 10) && parse_u64(val, &v) &&
		 v <= 0xffff)
		o->dirty_installers = (uint32_t)v; /* checked against the VM by dirty_log_start */
	else if (klen == 5 && !strncmp(arg, "disks", 5) && (!strcmp(val, "copy") ||
							     !strcmp(val, "shared")))
		o->disks_shared = !strcmp(val, "shared");
	else if (klen == 4 && !strncmp(arg, "keep", 4) && (!strcmp(val, "yes") || !strcmp(val, "no")))
		o->keep_disks = !strcmp(val, "yes");
	else if (klen == 9 && !strncmp(arg, "disk_mode", 9) && (!strcmp(val, "rounds") ||
								!strcmp(val, "mirror")))
		o->disk_mirror = !strcmp(val, "mirror");
	else if (klen == 10 && !strncmp(arg, "signatures", 10) && (!strcmp(val, "on") ||
								  !strcmp(val, "off")))
		o->no_signatures = !strcmp(val, "off");
	else if (klen == 5 && !strncmp(arg, "delta", 5) && (!strcmp(val, "on") || !strcmp(val, "off")))
		o->no_delta = !strcmp(val, "off");
	else if (klen == 8 && !strncmp(arg, "handover", 8) && (!strcmp(val, "confirmed") ||
							       !strcmp(val, "pipelined")))
		o->pipelined = !strcmp(val, "pipelined");
	else {
		bad_opt(arg, klen, err, errlen);
		return false;
	}
	return true;
}

static int migrate_send_cmd(struct shell *sh, int argc, char **argv)
{
	struct migrate_opts o;
	char err[240];
	uint32_t dst;
	uint16_t port = MIGRATE_PORT;

	if (argc < 4)
		return sh_error(sh, "usage: migrate send NAME ADDR[:PORT] [downtime=MS] "
			       "[bandwidth=MBPS] [rounds=N] [throttle=on|off] [mode=wp|ad|pml] [installers=K] "
			       "[as=NAME] [disks=copy|shared] [keep=yes|no] [disk_mode=rounds|mirror] "
			       "[signatures=on|off] [delta=on|off] [handover=confirmed|pipelined]");
	struct vm *vm = cmd_vm_lookup(sh, argv[2]);
	if (!vm)
		return SHELL_FAILED;
	if (!cmd_parse_endpoint(argv[3], &dst, &port, err, sizeof(err)))
		return sh_error(sh, "%s", err);
	migrate_default_opts(&o);
	for (int i = 4; i < argc; i++)
		if (!parse_opt(argv[i], &o, err, sizeof(err)))
			return sh_error(sh, "%s", err);
	if (migrate_send(vm, dst, port, &o, err, sizeof(err)))
		return sh_error(sh, "%s", err);
	sh_printf(sh, "phase: %s\nvm: %s\n", migrate_phase_name(migrate_outgoing()->phase),
		  vm->name);
	return SHELL_OK;
}

/* The memory of VMs that left, kept for their return (migrate/seed.h). */
static int migrate_seeds_cmd(struct shell *sh, int argc, char **argv)
{
	struct seed_info si;

	if (argc == 4 && !strcmp(argv[2], "drop")) {
		unsigned n = seed_drop(argv[3]);
		if (!n && strcmp(argv[3], "all"))
			return sh_error(sh, "no seed of a VM named '%.32s' that is not in use", argv[3]);
		sh_printf(sh, "dropped: %u\n", n);
		return SHELL_OK;
	}
	if (argc != 2)
		return sh_error(sh, "usage: migrate seeds [drop NAME|all]");
	sh_printf(sh, "seed_pages_total: %lu\n", (unsigned long)seed_total_pages());
	sh_printf(sh, "%-24s %18s %8s %8s %8s %8s %10s %s\n", "VM", "uid", "pages", "hashed",
		  "usable", "matched", "age_ms", "in_use");
	for (unsigned i = 0; seed_describe(i, &si); i++)
		sh_printf(sh, "%-24s %18lx %8lu %8lu %8lu %8lu %10lu %s\n", si.name,
			  (unsigned long)si.vm_uid, (unsigned long)si.pages, (unsigned long)si.hashed,
			  (unsigned long)si.usable, (unsigned long)si.hits, (unsigned long)si.age_ms,
			  si.in_use ? "yes" : "no");
	return SHELL_OK;
}

int cmd_migrate(struct shell *sh, int argc, char **argv)
{
	char err[120];

	if (!strcmp(argv[1], "seeds"))
		return migrate_seeds_cmd(sh, argc, argv);
	if (!strcmp(argv[1], "status") && argc == 2)
		return migrate_status_cmd(sh);
	if (!strcmp(argv[1], "listen"))
		return migrate_listen_cmd(sh, argc, argv);
	if (!strcmp(argv[1], "send"))
		return migrate_send_cmd(sh, argc, argv);
	if (!strcmp(argv[1], "cancel") && argc == 2) {
		if (migrate_cancel(err, sizeof(err)))
			return sh_error(sh, "%s", err);
		sh_printf(sh, "phase: %s\n", migrate_phase_name(migrate_outgoing()->phase));
		return SHELL_OK;
	}
	return sh_error(sh, "usage: migrate send|listen|status|cancel ... (see 'help migrate')");
}
