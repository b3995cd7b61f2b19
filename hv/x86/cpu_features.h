/* What the host CPU offers, read once at boot: identity, virtualization
 * extensions and their features, machine-check banks. */
#ifndef HV_X86_CPU_FEATURES_H
#define HV_X86_CPU_FEATURES_H

#include <stdbool.h>
#include <stdint.h>

enum cpu_vendor { CPU_VENDOR_OTHER, CPU_VENDOR_INTEL, CPU_VENDOR_AMD };

struct cpu_features {
	enum cpu_vendor vendor;
	char vendor_string[13];
	char brand[49];
	uint32_t family, model, stepping;
	bool hypervisor_bit;   /* running under another hypervisor */
	bool page_1g, nx, x2apic, xsave, pcid, invariant_tsc;

	/* AMD SVM */
	bool svm, svm_disabled_by_firmware;
	uint32_t svm_revision, svm_asids;
	bool npt, nrips, decode_assists, vgif, flush_by_asid, lbr_virt;

	/* Intel VMX */
	bool vmx, vmx_locked_off;
	bool ept, vpid, unrestricted_guest, ept_ad, pml, ept_2m, ept_1g, ept_wb, ept_4level;
	uint64_t vmx_basic, vmx_ept_vpid_cap;

	/* Machine checks */
	bool mca, mce;
	uint32_t mca_banks;
	uint64_t mcg_cap;
};

void cpu_features_init(void);
const struct cpu_features *cpu_features(void);
const char *cpu_vendor_name(enum cpu_vendor v);

#endif
