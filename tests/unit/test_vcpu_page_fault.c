/* vcpu_queue_page_fault (hv/vm/vm_exit.c): CR2 goes into the vCPU state
 * at once, the rest of the state as it was, and the #PF is queued for
 * vm_run with its error code. */
#include <criterion/criterion.h>
#include <string.h>

#include "hv/vm/vm.h"
#include "hv/x86/trap.h"
#include "stub_vm.h"

static struct vm vm;

Test(vcpu_page_fault, sets_cr2_and_queues_the_fault)
{
	struct vcpu *v = &vm.vcpus[0];

	memset(&vm, 0, sizeof(vm));
	stub_reset();
	v->vm = &vm;
	stub.state.cr2 = 0x1111;
	stub.state.cr3 = 0x5000;
	vcpu_queue_page_fault(v, 0xffff800000401000ull, PF_ERR_P | PF_ERR_W | PF_ERR_U);
	cr_assert_eq(stub.state.cr2, 0xffff800000401000ull);
	cr_assert_eq(stub.state.cr3, 0x5000);
	cr_assert(v->pending_exception);
	cr_assert_eq(v->exception.type, EVENT_EXCEPTION);
	cr_assert_eq(v->exception.vector, VEC_PF);
	cr_assert(v->exception.has_error);
	cr_assert_eq(v->exception.error, 7);
	cr_assert_eq(stub.injects, 0, "queued for vm_run, not injected here");
}
