/* What the host CPU offers, read once at boot: identity, paging and APIC
 * features, machine-check banks. Virtualization extensions are probed by
 * their backends (hv/svm, hv/vmx). */
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
	bool page_1g, nx, x2apic, xsave, pcid, invariant_tsc, rdtscp;

	/* Speculation controls (side_channel.c): IBPB through PRED_CMD,
	 * VERW that clears CPU buffers, and IA32_ARCH_CAPABILITIES. */
	bool ibpb, md_clear, arch_capabilities;
	uint64_t arch_caps; /* the MSR, when present */

	/* Machine checks */
	bool mca, mce;
	uint32_t mca_banks;
	uint64_t mcg_cap;
};

void cpu_features_init(void);
const struct cpu_features *cpu_features(void);

#endif
