/* The glue between a VM, its virtio-blk models and the datastore: guest
 * memory for the models (pages the device writes are logged dirty,
 * poisoned pages are not memory), the datastore disk as their backend, the
 * PCI slot, BAR and interrupt pin. */
#include "hv/vm/vm_disk.h"

#include "hv/core/log.h"
#include "hv/core/mainloop.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/store/datastore.h"
#include "hv/vdev/acpi_tables.h"
#include "hv/vm/poison.h"
#include "hv/vm/vm.h"

/* Each device's 16 KiB BAR at the start of the PCI window, slot order. */
static uint64_t bar_address(unsigned index)
{
	return PLATFORM_PCI_MMIO + (uint64_t)index * VBLK_BAR_SIZE;
}

/* Contiguous guest RAM from gpa (a 2 MiB chunk's rest, or consecutive
 * pages); poisoned pages end it (the device may not touch them). */
static size_t map_guest(void *ctx, uint64_t gpa, size_t len, bool write, void **host)
{
	struct vm *vm = ctx;

	if (!len || gpa + len < gpa)
		return 0;
	uint64_t got = gmem_contig(&vm->mem, gpa, len);
	if (vm->poisoned_pages) {
		uint64_t clean = 0;
		while (clean < got && !vm_page_poisoned(vm, gpa + clean))
			clean += GMEM_PAGE - ((gpa + clean) & (GMEM_PAGE - 1));
		got = clean < got ? clean : got;
	}
	if (!got)
		return 0;
	*host = gmem_ptr(&vm->mem, gpa);
	if (write)
		dirty_log_mark(vm, gpa, got);
	return (size_t)got;
}

static int disk_rw(struct vm_disk *d, bool write, uint64_t sector, const struct vblk_iov *iov,
		   unsigned n)
{
	struct store_iov sio[VBLK_SEG_MAX * 2];

	if (n > sizeof(sio) / sizeof(sio[0]))
		return -1;
	for (unsigned i = 0; i < n; i++)
		sio[i] = (struct store_iov){ iov[i].data, iov[i].len };
	int rc = write ? store_disk_write(d->disk, sector * STORE_SECTOR, sio, n)
		       : store_disk_read(d->disk, sector * STORE_SECTOR, sio, n);
	/* A write that failed half way may have changed some blocks: it is
	 * logged (or mirrored) all the same, and sent again. */
	if (write && rc != STORE_ENOSPC) {
		uint64_t len = 0;
		for (unsigned i = 0; i < n; i++)
			len += iov[i].len;
		if (d->mirror)
			d->mirror->wrote(d->mirror->ctx, d->index, sector * STORE_SECTOR, len);
		else
			vm_disk_log_write(d, sector * STORE_SECTOR, len);
	}
	if (rc && rc != STORE_ENOSPC)
		log_warn("vm %s: disk %s: %s at sector %lu: %s", d->vm->name, d->name,
			 write ? "write" : "read", (unsigned long)sector, store_status_name(rc));
	return rc ? -1 : 0;
}

static int disk_read(void *ctx, uint64_t sector, const struct vblk_iov *iov, unsigned n)
{
	return disk_rw(ctx, false, sector, iov, n);
}

static int disk_write(void *ctx, uint64_t sector, const struct vblk_iov *iov, unsigned n)
{
	return disk_rw(ctx, true, sector, iov, n);
}

static bool disk_ready(void *ctx)
{
	struct vm_disk *d = ctx;

	return !d->mirror || d->mirror->ready(d->mirror->ctx, d->index);
}

static int disk_flush(void *ctx)
{
	struct vm_disk *d = ctx;

	return store_disk_flush(d->disk) ? -1 : 0;
}

/* PCI INTx is active low (ACPI's default for _PRT entries without a link
 * device): an asserted line is electrically low at the IOAPIC pin. */
static void intx_set(void *ctx, unsigned gsi, bool asserted)
{
	struct vm *vm = ctx;

	vioapic_set_irq(&vm->plat.ioapic, gsi, !asserted);
}

static void reset_one(struct vm *vm, struct vm_disk *d, unsigned index)
{
	struct vblk_mem mem = { map_guest, vm };
	struct vblk_backend be = { .read = disk_read, .write = disk_write, .flush = disk_flush,
				   .ready = disk_ready, .ctx = d };
	struct irq_line irq = { intx_set, vm, acpi_pci_intx_gsi(d->slot, 0) };
	char serial[20];

	fmt_snprintf(serial, sizeof(serial), "%s", d->name);
	vblk_init(&d->dev, store_disk_size(d->disk) / STORE_SECTOR, d->read_only, serial, &mem,
		  &be, &irq);
	irq_set(&irq, false); /* deasserted: the pin rests high */
	vpci_config_write(&d->dev.pci, PCI_BAR0 + 4 * VBLK_BAR, 4, (uint32_t)bar_address(index));
	vpci_config_write(&d->dev.pci, PCI_BAR0 + 4 * VBLK_BAR + 4, 4,
			  (uint32_t)(bar_address(index) >> 32));
	vpci_config_write(&d->dev.pci, PCI_BAR0 + 4 * VBLK_NOTIFY_BAR, 4,
			  VM_DISK_PORT_BASE + index * VM_DISK_PORT_STRIDE);
	vpci_config_write(&d->dev.pci, PCI_INTERRUPT_LINE, 1, (uint8_t)irq.line);
	vpci_config_write(&d->dev.pci, PCI_COMMAND, 2,
			  PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (!vpci_register(&vm->plat.pci, d->slot, 0, &d->dev.pci, &vblk_pci_ops, &d->dev))
		log_warn("vm %s: disk %s: PCI slot %u is taken", vm->name, d->name, d->slot);
}

/* Requests a notify's budget left behind (virtio_blk.h) run here, one
 * budget per disk per pass, between the other VMs' turns. */
static bool poll_pending(void)
{
	bool busy = false;

	for (unsigned i = 0; i < VM_MAX; i++) {
		struct vm *vm = vm_slot(i);
		if (!vm || vm->state != VM_RUNNING)
			continue;
		for (unsigned k = 0; k < vm->ndisks; k++)
			if (vblk_pending(&vm->disks[k].dev)) {
				vblk_poll(&vm->disks[k].dev);
				busy = true;
			}
	}
	return busy;
}

static struct poller pending_poller = { .name = "disks", .poll = poll_pending,
					.stage = POLL_DEVICES };

void vm_disks_reset(struct vm *vm)
{
	static bool registered;

	if (vm->ndisks && !registered) {
		mainloop_register(&pending_poller);
		registered = true;
	}
	for (unsigned i = 0; i < vm->ndisks; i++)
		reset_one(vm, &vm->disks[i], i);
}

static int parse_spec(const char *spec, char *name, bool *ro)
{
	size_t len = strlen(spec);

	*ro = false;
	if (len > 3 && !strcmp(spec + len - 3, ",ro")) {
		*ro = true;
		len -= 3;
	}
	if (!len || len >= STORE_NAME_MAX)
		return -1;
	memcpy(name, spec, len);
	name[len] = 0;
	return 0;
}

/* A disk written by one VM is not shown to another: a writer excludes
 * every other user, readers share. */
static int check_sharing(const struct vm *self, const struct vm_disk *d, char *err, size_t errlen)
{
	for (unsigned i = 0; i < VM_MAX; i++) {
		const struct vm *other = vm_slot(i);
		if (!other || other == self)
			continue;
		for (unsigned k = 0; k < other->ndisks; k++) {
			const struct vm_disk *o = &other->disks[k];
			if (strcmp(o->name, d->name) || (o->read_only && d->read_only))
				continue;
			fmt_snprintf(err, errlen, "disk '%s' is attached to VM '%s'%s", d->name,
				     other->name, o->read_only ? " (read-only; attach it with ,ro)"
							       : "");
			return -1;
		}
	}
	for (unsigned k = 0; k < self->ndisks; k++)
		if (!strcmp(self->disks[k].name, d->name)) {
			fmt_snprintf(err, errlen, "disk '%s' is given twice", d->name);
			return -1;
		}
	return 0;
}

int vm_disks_attach(struct vm *vm, const char *const *specs, size_t n, char *err, size_t errlen)
{
	struct store *s = datastore();

	if (n && !s) {
		fmt_snprintf(err, errlen, "no datastore is open (see 'ds')");
		return -1;
	}
	if (n > VM_MAX_DISKS) {
		fmt_snprintf(err, errlen, "at most %d disks per VM", VM_MAX_DISKS);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct vm_disk *d = &vm->disks[vm->ndisks];
		char why[160];
		*d = (struct vm_disk){ .vm = vm, .slot = VM_DISK_FIRST_SLOT + (unsigned)i,
				       .index = (unsigned)i };
		if (parse_spec(specs[i], d->name, &d->read_only)) {
			fmt_snprintf(err, errlen, "bad disk '%.40s' (disk=NAME or disk=NAME,ro)",
				     specs[i]);
			goto undo;
		}
		if (check_sharing(vm, d, err, errlen))
			goto undo;
		if (store_disk_open(s, d->name, !d->read_only, &d->disk, why, sizeof(why))) {
			fmt_snprintf(err, errlen, "disk '%s': %s", d->name, why);
			goto undo;
		}
		vm->ndisks++;
	}
	vm_disks_reset(vm);
	return 0;
undo:
	vm_disks_detach(vm);
	return -1;
}

void vm_disks_adopt(struct vm *vm, const char (*names)[STORE_NAME_MAX], const bool *read_only,
		    struct store_disk *const *handles, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct vm_disk *d = &vm->disks[i];
		*d = (struct vm_disk){ .vm = vm, .slot = VM_DISK_FIRST_SLOT + i, .index = i,
				       .read_only = read_only[i], .disk = handles[i] };
		str_copy(d->name, names[i], sizeof(d->name));
	}
	vm->ndisks = n;
	vm_disks_reset(vm);
}

void vm_disk_rebind(struct vm_disk *d, struct store_disk *disk)
{
	d->disk = disk;
}

void vm_disks_detach(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ndisks; i++) {
		struct vm_disk *d = &vm->disks[i];
		vm_disk_log_stop(d);
		d->mirror = NULL;
		if (!d->disk)
			continue; /* a migrated disk that could not be reopened */
		if (store_disk_writable(d->disk) && store_disk_flush(d->disk))
			log_warn("vm %s: disk %s: the last flush failed", vm->name, d->name);
		store_disk_close(d->disk);
		d->disk = NULL;
	}
	vm->ndisks = 0;
}

bool vm_disk_in_use_by(const struct vm *vm, const char *disk)
{
	for (unsigned i = 0; i < vm->ndisks; i++)
		if (!strcmp(vm->disks[i].name, disk))
			return true;
	return false;
}

static struct vm_disk *disk_at(const struct vm *vm, uint64_t gpa, uint64_t *offset)
{
	for (unsigned i = 0; i < vm->ndisks; i++) {
		const struct vm_disk *d = &vm->disks[i];
		uint64_t base;
		bool enabled;
		if (!vpci_config_bar(&d->dev.pci, VBLK_BAR, &base, &enabled) || !enabled || !base)
			continue;
		if (gpa >= base && gpa - base < VBLK_BAR_SIZE) {
			*offset = gpa - base;
			return (struct vm_disk *)d;
		}
	}
	return NULL;
}

static struct vm_disk *disk_at_port(struct vm *vm, uint16_t port, unsigned *offset)
{
	for (unsigned i = 0; i < vm->ndisks; i++) {
		struct vm_disk *d = &vm->disks[i];
		uint64_t base;
		bool enabled;
		if (!vpci_config_bar(&d->dev.pci, VBLK_NOTIFY_BAR, &base, &enabled) || !enabled ||
		    !base)
			continue;
		if (port >= base && port - base < VBLK_NOTIFY_PORTS) {
			*offset = (unsigned)(port - base);
			return d;
		}
	}
	return NULL;
}

bool vm_disk_port_read(struct vm *vm, uint16_t port, unsigned size, uint32_t *value)
{
	unsigned offset;
	struct vm_disk *d = disk_at_port(vm, port, &offset);

	if (!d)
		return false;
	*value = vblk_io_read(&d->dev, offset, size);
	return true;
}

bool vm_disk_port_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
	unsigned offset;
	struct vm_disk *d = disk_at_port(vm, port, &offset);

	if (!d)
		return false;
	vblk_io_write(&d->dev, offset, size, value);
	return true;
}

bool vm_disk_mmio_claims(const struct vm *vm, uint64_t gpa)
{
	uint64_t offset;

	return disk_at(vm, gpa, &offset) != NULL;
}

bool vm_disk_mmio_read(struct vm *vm, uint64_t gpa, unsigned size, uint64_t *value)
{
	uint64_t offset;
	struct vm_disk *d = disk_at(vm, gpa, &offset);

	if (!d)
		return false;
	*value = vblk_bar_read(&d->dev, offset, size);
	return true;
}

bool vm_disk_mmio_write(struct vm *vm, uint64_t gpa, unsigned size, uint64_t value)
{
	uint64_t offset;
	struct vm_disk *d = disk_at(vm, gpa, &offset);

	if (!d)
		return false;
	vblk_bar_write(&d->dev, offset, size, value);
	return true;
}
