/* disk send NAME ADDR[:PORT] [as=NAME] | disk receive [PORT] from=ADDR,... |
 * disk receive off | disk status (migrate/disk_xfer.h). */
#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/shell/commands.h"
#include "hv/store/store.h"
#include "migrate/disk_xfer.h"
#include "migrate/migrate.h"
#include "net/net_addr.h"

int cmd_disk_send(struct shell *sh, struct store *s, int argc, char **argv)
{
	uint32_t dst;
	uint16_t port = DISK_XFER_PORT;
	const char *as = NULL;
	char err[160];

	(void)s;
	if (!cmd_parse_endpoint(argv[3], &dst, &port, err, sizeof(err)))
		return sh_error(sh, "%s", err);
	for (int i = 4; i < argc; i++) {
		if (strncmp(argv[i], "as=", 3) || !argv[i][3] || strlen(argv[i] + 3) >= STORE_NAME_MAX)
			return sh_error(sh, "bad option '%.30s' (as=NAME)", argv[i]);
		as = argv[i] + 3;
	}
	if (disk_send_start(argv[2], dst, port, as, err, sizeof(err)))
		return sh_error(sh, "%s", err);
	sh_printf(sh, "phase: running\ndisk: %s\n", argv[2]);
	return SHELL_OK;
}

int cmd_disk_receive(struct shell *sh, struct store *s, int argc, char **argv)
{
	uint16_t port = DISK_XFER_PORT;
	uint32_t peers[MIGRATE_MAX_PEERS];
	size_t npeers = 0;
	char err[120];

	(void)s;
	if (argc == 3 && !strcmp(argv[2], "off")) {
		disk_receive_unlisten();
		sh_printf(sh, "listening: no\n");
		return SHELL_OK;
	}
	if (!cmd_parse_listen(argc, argv, 2, &port, peers, &npeers, err, sizeof(err)))
		return sh_error(sh, "%s (usage: disk receive [PORT] [from=ADDR[,ADDR...]] | "
				"disk receive off)", err);
	if (!npeers) {
		/* The peers VMs may come from may send disks too. */
		uint16_t vm_port;
		const uint32_t *vm_peers;
		if (!migrate_listening(&vm_port, &vm_peers, &npeers) || !npeers)
			return sh_error(sh, "give the peers (from=ADDR[,ADDR...]), or set them with "
				       "'migrate listen from=...' first");
		memcpy(peers, vm_peers, npeers * sizeof(peers[0]));
	}
	if (disk_receive_listen(port, peers, npeers, err, sizeof(err)))
		return sh_error(sh, "%s", err);
	sh_printf(sh, "listening: yes\nlisten_port: %u\n", port);
	return SHELL_OK;
}

static void show(struct shell *sh, const char *p, const struct disk_xfer_status *st)
{
	char addr[16];
	uint64_t end = st->end_ns ? st->end_ns : time_ns();

	sh_printf(sh, "%sphase: %s\n", p, disk_xfer_phase_name(st->phase));
	if (st->phase == DX_IDLE)
		return;
	net_addr_format(st->peer, addr);
	sh_printf(sh, "%sdisk: %s\n%sas: %s\n%speer: %s:%u\n%sbytes_sent: %lu\n"
		      "%sbytes_total: %lu\n%swire_bytes: %lu\n%sresumed_at: %lu\n"
		      "%sbase_skipped: %s\n%selapsed_ms: %lu\n",
		  p, st->disk, p, st->as, p, addr, st->port, p, (unsigned long)st->bytes_sent, p,
		  (unsigned long)st->bytes_total, p, (unsigned long)st->wire_bytes, p,
		  (unsigned long)st->resumed_at, p, st->base_skipped ? "yes" : "no", p,
		  (unsigned long)((end - st->start_ns) / NS_PER_MS));
	if (st->channel[0])
		sh_printf(sh, "%schannel: %s\n", p, st->channel);
	if (st->reason[0])
		sh_printf(sh, "%sreason: %s\n", p, st->reason);
}

int cmd_disk_status(struct shell *sh, struct store *s, int argc, char **argv)
{
	uint16_t port;

	(void)s;
	(void)argc;
	(void)argv;
	show(sh, "", disk_send_status());
	bool on = disk_receive_listening(&port);
	sh_printf(sh, "listening: %s\n", on ? "yes" : "no");
	if (on)
		sh_printf(sh, "listen_port: %u\n", port);
	show(sh, "incoming_", disk_receive_status());
	return SHELL_OK;
}
