/* The host-state area: what the CPU loads on every VM exit. It describes
 * this CPU's own GDT, IDT, TSS, page tables and control registers; RSP and
 * RIP are written by the entry stub (vmx_entry.S) itself. */
#include "hv/vmx/vmx.h"

#include "hv/vmx/vmcs.h"
#include "hv/x86/cpu.h"

struct __attribute__((packed)) descriptor_table {
	uint16_t limit;
	uint64_t base;
};

static uint16_t read_selector_cs(void)
{
	uint16_t s;

	__asm__ volatile("mov %%cs, %0" : "=r"(s));
	return s;
}

static uint16_t read_selector_ss(void)
{
	uint16_t s;

	__asm__ volatile("mov %%ss, %0" : "=r"(s));
	return s;
}

static uint16_t read_selector_tr(void)
{
	uint16_t s;

	__asm__ volatile("str %0" : "=r"(s));
	return s;
}

/* A 64-bit system descriptor spreads its base over 16 bytes. */
static uint64_t tss_base(uint64_t gdt_base, uint16_t selector)
{
	const uint32_t *d = (const uint32_t *)(gdt_base + (selector & ~7u));

	return ((d[0] >> 16) | ((d[1] & 0xffu) << 16) | (d[1] & 0xff000000u)) |
	       ((uint64_t)d[2] << 32);
}

void vmx_write_host_state(void)
{
	struct descriptor_table gdt, idt;
	uint16_t tr = read_selector_tr();

	__asm__ volatile("sgdt %0" : "=m"(gdt));
	__asm__ volatile("sidt %0" : "=m"(idt));
	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	vmwrite(VMCS_HOST_CS_SEL, read_selector_cs() & ~7u);
	vmwrite(VMCS_HOST_SS_SEL, read_selector_ss() & ~7u);
	/* The host runs flat 64-bit code: null data selectors are fine. */
	vmwrite(VMCS_HOST_DS_SEL, 0);
	vmwrite(VMCS_HOST_ES_SEL, 0);
	vmwrite(VMCS_HOST_FS_SEL, 0);
	vmwrite(VMCS_HOST_GS_SEL, 0);
	vmwrite(VMCS_HOST_TR_SEL, tr & ~7u);
	vmwrite(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmwrite(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmwrite(VMCS_HOST_TR_BASE, tss_base(gdt.base, tr));
	vmwrite(VMCS_HOST_GDTR_BASE, gdt.base);
	vmwrite(VMCS_HOST_IDTR_BASE, idt.base);
	vmwrite(VMCS_HOST_SYSENTER_CS, rdmsr(MSR_SYSENTER_CS));
	vmwrite(VMCS_HOST_SYSENTER_ESP, rdmsr(MSR_SYSENTER_ESP));
	vmwrite(VMCS_HOST_SYSENTER_EIP, rdmsr(MSR_SYSENTER_EIP));
	vmwrite(VMCS_HOST_PAT, rdmsr(MSR_PAT));
	vmwrite(VMCS_HOST_EFER, rdmsr(MSR_EFER));
}
