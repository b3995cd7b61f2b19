/* Virtualization backend selection. The vCPU operations table that the
 * SVM and VMX backends fill lives here too as guests are added. */
#ifndef HV_VCPU_H
#define HV_VCPU_H

#include <stdbool.h>

/* Picks the backend from CPUID at boot: "svm" (AMD SVM with NPT), "vmx"
 * (Intel VMX with EPT), or none with the reason logged. */
void vcpu_select_backend(void);
const char *vcpu_backend_name(void);
/* Why guests cannot run, or NULL when a backend is available. */
const char *vcpu_unavailable_reason(void);

#endif
