/* What VMX offers dirty tracking: accessed/dirty flags in EPT leaves
 * (EPTP bit 6) and Page Modification Logging, where the CPU appends the
 * GPA of every page whose EPT dirty flag it sets to a 512-entry buffer,
 * counting the VMCS PML index down from 511 and exiting when it is full. */
#include "hv/vmx/vmx.h"

#include "hv/mm/mm.h"
#include "hv/vm/vm.h"
#include "hv/vmx/vmcs.h"

#define PML_LAST_INDEX 511u
#define PML_ENTRIES 512u

unsigned vmx_dirty_modes(void)
{
	if (!vmx_caps.ept_ad)
		return 0;
	return 1u << DIRTY_MODE_AD | (vmx_features.pml ? 1u << DIRTY_MODE_PML : 0);
}

static void ept_dirty_bits(struct vm *vm, bool on)
{
	struct vmx_vm *xv = vm->vendor;

	xv->eptp = on ? xv->eptp | EPTP_AD : xv->eptp & ~EPTP_AD;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		vmx_load_vmcs(&vm->vcpus[i]);
		vmwrite(VMCS_EPT_POINTER, xv->eptp);
	}
	vmx_invept(xv->eptp);
}

/* Each vCPU logs into its own page. */
static int pml_enable_vcpu(struct vcpu *v, bool on)
{
	struct vmx_vcpu *vx = v->vendor;

	vmx_load_vmcs(v);
	uint32_t proc2 = (uint32_t)vmread(VMCS_PROC_CONTROLS2);
	if (on) {
		if (!vx->pml_pa && !(vx->pml_pa = page_alloc()))
			return -1;
		vmwrite(VMCS_PML_ADDRESS, vx->pml_pa);
		vmwrite(VMCS_GUEST_PML_INDEX, PML_LAST_INDEX);
		vmwrite(VMCS_PROC_CONTROLS2, proc2 | PROC2_ENABLE_PML);
	} else {
		vmwrite(VMCS_PROC_CONTROLS2, proc2 & ~PROC2_ENABLE_PML);
		if (vx->pml_pa)
			page_free(vx->pml_pa);
		vx->pml_pa = 0;
	}
	return 0;
}

static int pml_enable(struct vm *vm, bool on)
{
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (pml_enable_vcpu(&vm->vcpus[i], on)) {
			while (i--)
				pml_enable_vcpu(&vm->vcpus[i], false);
			return -1;
		}
	return 0;
}

int vmx_dirty_start(struct vm *vm, enum dirty_mode mode)
{
	if (mode == DIRTY_MODE_WP)
		return 0;
	if (!(vmx_dirty_modes() & (1u << mode)))
		return -1;
	ept_dirty_bits(vm, true);
	if (mode == DIRTY_MODE_PML && pml_enable(vm, true)) {
		ept_dirty_bits(vm, false);
		return -1;
	}
	return 0;
}

void vmx_dirty_stop(struct vm *vm, enum dirty_mode mode)
{
	if (mode == DIRTY_MODE_WP)
		return;
	if (mode == DIRTY_MODE_PML)
		pml_enable(vm, false);
	ept_dirty_bits(vm, false);
}

/* Empties a vCPU's page-modification log into the tracker: on the CPU that
 * runs it, or on any CPU while it is held (VMPTRLD here). */
void vmx_dirty_collect(struct vcpu *v, struct dirty_track *track)
{
	struct vmx_vcpu *vx = v->vendor;
	uint64_t entries[PML_ENTRIES];

	if (!vx->pml_pa)
		return;
	vmx_load_vmcs(v);
	/* The index points at the next free entry; past 0 it wraps to 0xffff. */
	uint16_t index = (uint16_t)vmread(VMCS_GUEST_PML_INDEX);
	size_t first = index > PML_LAST_INDEX ? 0 : (size_t)index + 1;
	const uint64_t *log = phys_to_virt(vx->pml_pa);
	size_t n = 0;

	for (size_t i = first; i <= PML_LAST_INDEX; i++)
		entries[n++] = log[i];
	vmwrite(VMCS_GUEST_PML_INDEX, PML_LAST_INDEX);
	dirty_track_pml_entries(track, entries, n);
}
