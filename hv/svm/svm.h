/* AMD SVM backend, behind struct vcpu_ops. */
#ifndef HV_SVM_SVM_H
#define HV_SVM_SVM_H

#include "hv/svm/vmcb.h"
#include "hv/vm/vcpu.h"

struct svm_vcpu {
	struct vmcb *vmcb;
	uint64_t vmcb_pa;
	uint32_t asid_generation;
	/* Set by any CPU, taken by the one that runs the vCPU before VMRUN:
	 * the VMCB of a vCPU in the guest is not another CPU's to write. */
	bool flush_requested;
};

/* What probing found (svm_probe.c), read once at boot. */
struct svm_caps {
	bool present, disabled_by_firmware;
	uint32_t revision, asids;
	bool npt, nrips, decode_assists, vgif, flush_by_asid, lbr_virt;
};

extern struct svm_caps svm_caps;

enum vcpu_probe svm_probe(const char **reason);
void svm_describe(vcpu_print_fn print, void *ctx);

/* Exit decoding (svm_exit.c). */
void svm_decode_exit(struct vcpu *v, const struct vmcb *vmcb, struct vm_exit *e);
const char *svm_exit_name(uint32_t code);
unsigned svm_exit_slot(uint32_t code);
uint32_t svm_slot_code(unsigned slot);

#endif
