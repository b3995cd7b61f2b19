/* The MSR bitmap and the syscall MSRs. Every MSR access exits except the
 * ones a guest owns outright. FS/GS bases and SYSENTER live in the VMCS;
 * STAR, LSTAR, CSTAR, SFMASK and KERNEL_GS_BASE do not, so the CPU holds
 * the values of whichever vCPU ran last (the host never uses them) and they
 * are swapped only when another vCPU runs. */
#include "hv/vmx/vmx.h"

#include "hv/core/log.h"
#include "hv/lib/string.h"
#include "hv/mm/mm.h"
#include "hv/x86/cpu.h"
#include "hv/x86/percpu.h"

#define BITMAP_READ_LOW 0x000
#define BITMAP_READ_HIGH 0x400
#define BITMAP_WRITE_LOW 0x800
#define BITMAP_WRITE_HIGH 0xc00

static const uint32_t switched_msr_index[VMX_SWITCHED_MSRS] = {
	[VMX_MSR_STAR] = MSR_STAR,
	[VMX_MSR_LSTAR] = MSR_LSTAR,
	[VMX_MSR_CSTAR] = MSR_CSTAR,
	[VMX_MSR_SFMASK] = MSR_SFMASK,
	[VMX_MSR_KGS_BASE] = MSR_KERNEL_GS_BASE,
};

static const uint32_t passthrough_msrs[] = {
	MSR_STAR, MSR_CSTAR, MSR_SFMASK, MSR_SYSENTER_CS,
};
/* Read without an exit; a write exits, for the policy's canonical check
 * (not every CPU or emulator makes it). */
static const uint32_t read_passthrough_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_LSTAR,
	MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,
};

static uint64_t bitmap_pa;
/* Per CPU: whose syscall MSRs that CPU holds. */
static struct vcpu *msr_owners[CPU_MAX];
#define msr_owner (msr_owners[this_cpu_index()])

static void allow(uint8_t *bm, uint32_t msr, bool write_too)
{
	uint32_t low = msr < 0x2000;
	uint32_t bit = msr & 0x1fff;

	if (!low && (msr < 0xc0000000u || msr > 0xc0001fffu))
		return;
	bm[(low ? BITMAP_READ_LOW : BITMAP_READ_HIGH) + bit / 8] &= (uint8_t)~(1u << (bit % 8));
	if (write_too)
		bm[(low ? BITMAP_WRITE_LOW : BITMAP_WRITE_HIGH) + bit / 8] &=
			(uint8_t)~(1u << (bit % 8));
}

int vmx_msr_init(void)
{
	bitmap_pa = page_alloc();
	if (!bitmap_pa)
		return -1;
	uint8_t *bm = phys_to_virt(bitmap_pa);
	memset(bm, 0xff, PAGE_SIZE);
	for (size_t i = 0; i < sizeof(passthrough_msrs) / sizeof(passthrough_msrs[0]); i++)
		allow(bm, passthrough_msrs[i], true);
	for (size_t i = 0; i < sizeof(read_passthrough_msrs) / sizeof(read_passthrough_msrs[0]); i++)
		allow(bm, read_passthrough_msrs[i], false);
	return 0;
}

uint64_t vmx_msr_bitmap_pa(void)
{
	return bitmap_pa;
}

void vmx_msr_sync(struct vcpu *v)
{
	struct vmx_vcpu *vx = v->vendor;

	if (msr_owner != v)
		return;
	for (int i = 0; i < VMX_SWITCHED_MSRS; i++)
		vx->msrs[i] = rdmsr(switched_msr_index[i]);
}

void vmx_msr_switch_to(struct vcpu *v)
{
	struct vmx_vcpu *vx = v->vendor;

	if (msr_owner == v)
		return;
	if (msr_owner)
		vmx_msr_sync(msr_owner);
	for (int i = 0; i < VMX_SWITCHED_MSRS; i++) {
		if (wrmsr_safe(switched_msr_index[i], vx->msrs[i]))
			continue;
		/* Restored state is checked (migrate/vcpu_check.c); should a value
		 * still be refused, the guest gets 0 rather than the hypervisor
		 * a #GP or the guest the previous owner's value. */
		log_warn("vcpu: MSR 0x%x refused 0x%lx; it reads 0 now", switched_msr_index[i],
			 (unsigned long)vx->msrs[i]);
		vx->msrs[i] = 0;
		wrmsr(switched_msr_index[i], 0);
	}
	msr_owner = v;
}

void vmx_msr_forget(struct vcpu *v)
{
	for (uint32_t i = 0; i < percpu_count(); i++)
		if (msr_owners[i] == v)
			msr_owners[i] = NULL;
}

void vmx_msr_put(struct vcpu *v)
{
	if (msr_owner != v)
		return;
	vmx_msr_sync(v);
	msr_owner = NULL;
}
