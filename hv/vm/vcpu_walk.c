/* The guest page walker (hv/emul/gwalk.h) set up from a vCPU's state. */
#include "hv/vm/vcpu_walk.h"

#include "hv/vm/cpuid_policy.h"
#include "hv/vm/dirty_log.h"
#include "hv/vm/vm.h"
#include "hv/x86/cpu.h"

static bool read_guest(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return gmem_read(&((struct vm *)ctx)->mem, gpa, buf, len);
}

/* Accessed/dirty flags the walk sets in the guest's page tables, with one
 * compare-and-swap from the entry it walked: the entry is naturally
 * aligned, so it lies in one page. The hypervisor's own write bypasses the
 * second-level tables, so it is logged for migration by hand. */
static bool set_entry_flags(void *ctx, uint64_t gpa, uint64_t old, uint64_t bits, size_t size)
{
	struct vm *vm = ctx;
	bool swapped;

	if ((size != 4 && size != 8) || (gpa & (size - 1)) || !gmem_contains(&vm->mem, gpa, size))
		return false;
	void *p = gmem_ptr(&vm->mem, gpa);
	if (size == 8) {
		uint64_t want = old;
		swapped = __atomic_compare_exchange_n((uint64_t *)p, &want, old | bits, false,
						      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	} else {
		uint32_t want = (uint32_t)old;
		swapped = __atomic_compare_exchange_n((uint32_t *)p, &want, (uint32_t)(old | bits),
						      false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
	if (swapped)
		dirty_log_mark(vm, gpa, size);
	return swapped;
}

bool vcpu_write_guest(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct vm *vm = ctx;

	if (!gmem_write(&vm->mem, gpa, buf, len))
		return false;
	dirty_log_mark(vm, gpa, len);
	return true;
}

/* SS.DPL is the CPL (the CPU keeps them equal); real mode runs at 0 and
 * virtual-8086 mode at 3. */
unsigned vcpu_cpl(const struct vcpu_state *s)
{
	if (!(s->cr0 & CR0_PE))
		return 0;
	if (s->regs.rflags & RFLAGS_VM)
		return 3;
	return (s->seg[SEG_SS].attr >> SEG_ATTR_DPL_SHIFT) & 3;
}

void vcpu_walker(struct vcpu *v, const struct vcpu_state *s, struct gwalk *w)
{
	*w = (struct gwalk){
		.cr0 = s->cr0, .cr3 = s->cr3, .cr4 = s->cr4, .efer = s->efer,
		.cpl = vcpu_cpl(s), .ac = (s->regs.rflags & RFLAGS_AC) != 0,
		.maxphyaddr = cpuid_guest_maxphyaddr(&v->vm->cpuid),
		.gbpages = cpuid_guest_gbpages(&v->vm->cpuid),
		.read = read_guest, .set_flags = set_entry_flags, .ctx = v->vm,
	};
}
