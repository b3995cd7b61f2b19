/* AMD SVM backend, behind struct vcpu_ops. */
#ifndef HV_SVM_SVM_H
#define HV_SVM_SVM_H

#include "hv/svm/vmcb.h"
#include "hv/vcpu.h"

struct svm_vcpu {
	struct vmcb *vmcb;
	uint64_t vmcb_pa;
	uint32_t asid_generation;
};

extern const struct vcpu_ops svm_ops;

/* Exit decoding (svm_exit.c). */
void svm_decode_exit(struct vcpu *v, struct vmcb *vmcb, struct vm_exit *e);
const char *svm_exit_name(uint32_t code);
unsigned svm_exit_slot(uint32_t code);
uint32_t svm_slot_code(unsigned slot);

#endif
