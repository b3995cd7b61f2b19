/* The platform devices' state for migration: each device saves and checks
 * its own blob (hv/vdev/<device>_state.c); this table says which device
 * of a VM each stream identifier stands for. */
#include "migrate/vm_devices.h"

#include "hv/lib/format.h"
#include "hv/vm/cpuid_policy.h"
#include "hv/vm/kvmclock.h"
#include "hv/vm/vm.h"

struct device_state {
	uint32_t id;
	const char *name;
	size_t (*save)(const struct vm *vm, uint8_t *buf, size_t size);
	int (*load)(struct vm *vm, const uint8_t *buf, size_t len, char *err, size_t errlen);
};

static size_t save_pic(const struct vm *vm, uint8_t *b, size_t n)
{
	return vpic_save(&vm->plat.pic, b, n);
}

static int load_pic(struct vm *vm, const uint8_t *b, size_t n, char *err, size_t len)
{
	return vpic_load(&vm->plat.pic, b, n, err, len);
}

static size_t save_pit(const struct vm *vm, uint8_t *b, size_t n)
{
	return vpit_save(&vm->plat.pit, b, n);
}

static int load_pit(struct vm *vm, const uint8_t *b, size_t n, char *err, size_t len)
{
	return vpit_load(&vm->plat.pit, b, n, err, len);
}

static size_t save_ioapic(const struct vm *vm, uint8_t *b, size_t n)
{
	return vioapic_save(&vm->plat.ioapic, b, n);
}

static int load_ioapic(struct vm *vm, const uint8_t *b, size_t n, char *err, size_t len)
{
	return vioapic_load(&vm->plat.ioapic, b, n, err, len);
}

static size_t save_rtc(const struct vm *vm, uint8_t *b, size_t n)
{
	return vrtc_save(&vm->plat.rtc, b, n);
}

static int load_rtc(struct vm *vm, const uint8_t *b, size_t n, char *err, size_t len)
{
	return vrtc_load(&vm->plat.rtc, b, n, err, len);
}

static size_t save_pm(const struct vm *vm, uint8_t *b, size_t n)
{
	return vacpi_pm_save(&vm->plat.pm, b, n);
}

static int load_pm(struct vm *vm, const uint8_t *b, size_t n, char *err, size_t len)
{
	return vacpi_pm_load(&vm->plat.pm, b, n, err, len);
}

static size_t save_pci(const struct vm *vm, uint8_t *b, size_t n)
{
	return vpci_save(&vm->plat.pci, b, n);
}

static int load_pci(struct vm *vm, const uint8_t *b, size_t n, char *err, size_t len)
{
	return vpci_load(&vm->plat.pci, b, n, err, len);
}

static size_t save_lapic(const struct vm *vm, uint8_t *b, size_t n)
{
	return vlapic_save_extra(&vm->vcpus[0].lapic, b, n);
}

/* IA32_APIC_BASE is checked against the physical-address width the guest
 * is shown, as its own WRMSR would be. */
static int load_lapic(struct vm *vm, const uint8_t *b, size_t n, char *err, size_t len)
{
	return vlapic_load_extra(&vm->vcpus[0].lapic, b, n, cpuid_guest_maxphyaddr(&vm->cpuid),
				 err, len);
}

static size_t save_uart(const struct vm *vm, uint8_t *b, size_t n)
{
	return vuart_save_extra(&vm->uart, b, n);
}

static int load_uart(struct vm *vm, const uint8_t *b, size_t n, char *err, size_t len)
{
	return vuart_load_extra(&vm->uart, b, n, err, len);
}

/* Loaded in this order: the devices that drive interrupt lines re-drive
 * them on load, so they come before the PIC and IOAPIC, whose loads then
 * replace what those levels did and the move raises no request. */
static const struct device_state devices[] = {
	{ MIG_DEV_KVMCLOCK, "kvmclock", kvmclock_save, kvmclock_load },
	{ MIG_DEV_PIT, "8254 PIT", save_pit, load_pit },
	{ MIG_DEV_RTC, "RTC", save_rtc, load_rtc },
	{ MIG_DEV_ACPI_PM, "ACPI PM", save_pm, load_pm },
	{ MIG_DEV_PCI, "PCI", save_pci, load_pci },
	{ MIG_DEV_UART_EXTRA, "UART", save_uart, load_uart },
	{ MIG_DEV_LAPIC_EXTRA, "local APIC", save_lapic, load_lapic },
	{ MIG_DEV_IOAPIC, "IOAPIC", save_ioapic, load_ioapic },
	{ MIG_DEV_PIC, "8259 PIC", save_pic, load_pic },
};

_Static_assert(sizeof(devices) / sizeof(devices[0]) == MIG_DEV_COUNT - 1,
	       "every stream device id has its device");

size_t mig_devices_capture(const struct vm *vm, struct mig_device *out)
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++, n++) {
		out[n].id = devices[i].id;
		out[n].len = (uint32_t)devices[i].save(vm, out[n].blob, sizeof(out[n].blob));
	}
	for (unsigned k = 0; k < vm->ndisks && k < MIG_DEV_DISKS; k++, n++) {
		out[n].id = MIG_DEV_VIRTIO_BLK + k;
		out[n].len = (uint32_t)vblk_save(&vm->disks[k].dev, out[n].blob,
						 sizeof(out[n].blob));
	}
	return n;
}

static const struct mig_device *find(const struct mig_device *in, size_t n, uint32_t id)
{
	for (size_t j = 0; j < n; j++)
		if (in[j].id == id)
			return &in[j];
	return NULL;
}

/* One record per disk the VM has, none for another. */
static int apply_disks(struct vm *vm, const struct mig_device *in, size_t n, char *err,
		       size_t errlen)
{
	for (uint32_t k = 0; k < MIG_DEV_DISKS; k++) {
		const struct mig_device *d = find(in, n, MIG_DEV_VIRTIO_BLK + k);
		if (!d && k < vm->ndisks) {
			fmt_snprintf(err, errlen, "no state for disk %u's virtio-blk", k);
			return -1;
		}
		if (d && k >= vm->ndisks) {
			fmt_snprintf(err, errlen, "virtio-blk state for disk %u, which was not offered",
				     k);
			return -1;
		}
		char why[120];
		if (d && vblk_load(&vm->disks[k].dev, d->blob, d->len, why, sizeof(why))) {
			fmt_snprintf(err, errlen, "disk %u's virtio-blk state refused: %s", k, why);
			return -1;
		}
	}
	return 0;
}

int mig_devices_apply(struct vm *vm, const struct mig_device *in, size_t n, char *err,
		      size_t errlen)
{
	/* The disks drive interrupt lines too: before the PIC and IOAPIC. */
	if (apply_disks(vm, in, n, err, errlen))
		return -1;
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		const struct mig_device *d = find(in, n, devices[i].id);
		if (!d) {
			fmt_snprintf(err, errlen, "no state for the %s", devices[i].name);
			return -1;
		}
		char why[120];
		if (devices[i].load(vm, d->blob, d->len, why, sizeof(why))) {
			fmt_snprintf(err, errlen, "%s state refused: %s", devices[i].name, why);
			return -1;
		}
	}
	return 0;
}
