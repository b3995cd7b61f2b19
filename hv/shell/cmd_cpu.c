/* cpu */
#include "drivers/acpi.h"
#include "hv/shell/commands.h"
#include "hv/vcpu.h"
#include "hv/x86/cpu_features.h"

static const char *yn(bool b)
{
	return b ? "yes" : "no";
}

int cmd_cpu(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct cpu_features *f = cpu_features();

	sh_printf(sh, "vendor: %s\nbrand: %s\n", f->vendor_string, f->brand);
	sh_printf(sh, "family: 0x%x\nmodel: 0x%x\nstepping: %u\n", f->family, f->model,
		  f->stepping);
	sh_printf(sh, "cpus: %d\n", acpi_facts()->cpu_count ? acpi_facts()->cpu_count : 1);
	sh_printf(sh, "under_hypervisor: %s\n", yn(f->hypervisor_bit));
	sh_printf(sh, "svm: %s%s\n", yn(f->svm), f->svm_disabled_by_firmware ? " (disabled by firmware)" : "");
	if (f->svm)
		sh_printf(sh, "svm_features: npt=%s nrips=%s decode_assists=%s vgif=%s "
			      "flush_by_asid=%s asids=%u rev=%u\n",
			  yn(f->npt), yn(f->nrips), yn(f->decode_assists), yn(f->vgif),
			  yn(f->flush_by_asid), f->svm_asids, f->svm_revision);
	sh_printf(sh, "vmx: %s%s\n", yn(f->vmx), f->vmx_locked_off ? " (locked off by firmware)" : "");
	if (f->vmx)
		sh_printf(sh, "vmx_features: ept=%s ept_ad=%s pml=%s unrestricted_guest=%s "
			      "vpid=%s ept_2m=%s ept_1g=%s\n",
			  yn(f->ept), yn(f->ept_ad), yn(f->pml), yn(f->unrestricted_guest),
			  yn(f->vpid), yn(f->ept_2m), yn(f->ept_1g));
	sh_printf(sh, "guest_backend: %s\n", vcpu_backend_name());
	sh_printf(sh, "mca: %s banks=%u mcg_cap=0x%lx\n", yn(f->mca), f->mca_banks,
		  (unsigned long)f->mcg_cap);
	sh_printf(sh, "other: 1g_pages=%s nx=%s x2apic=%s invariant_tsc=%s\n", yn(f->page_1g),
		  yn(f->nx), yn(f->x2apic), yn(f->invariant_tsc));
	return SHELL_OK;
}
