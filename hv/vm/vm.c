#include "hv/vm/vm.h"

#include <stdarg.h>

#include "hv/core/console.h"
#include "hv/core/log.h"
#include "hv/core/time.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/mm/mm.h"
#include "hv/smp/smp.h"
#include "hv/vm/msr_policy.h"
#include "hv/vm/platform.h"
#include "hv/vm/vm_load.h"
#include "hv/vm/poison.h"
#include "hv/vm/vcpu_signal.h"
#include "hv/vm/vm_place.h"
#include "hv/x86/cpu.h"
#include "hv/x86/fpu.h"
#include "hv/x86/percpu.h"
#include "hv/x86/spinlock.h"
#include "hv/x86/trap.h"

/* Creating VMs never takes the last pages: the hypervisor needs some for
 * its own tables and buffers. */
#define HOST_RESERVE_PAGES 2048 /* 8 MiB */

_Static_assert(KVMCLOCK_VCPUS == VM_MAX_VCPUS, "a kvmclock time record per vCPU");

/* The table only: a VM itself belongs to the main loop for now. */
static struct spinlock vm_list_lock = SPINLOCK_UNFAIR_INIT(LOCK_RANK_VM_LIST, "vm-list");
static struct vm *vms[VM_MAX];

static uint64_t gmem_alloc_pages(void *ctx, size_t pages, size_t align)
{
	(void)ctx;
	return pages_alloc(pages, align);
}

static void gmem_free_pages(void *ctx, uint64_t pa, size_t pages)
{
	(void)ctx;
	pages_free(pa, pages);
}

static void *gmem_p2v(void *ctx, uint64_t pa)
{
	(void)ctx;
	return phys_to_virt(pa);
}

/* Guest RAM comes from the global allocator. */
static const struct gmem_host gmem_backing = { gmem_alloc_pages, gmem_free_pages, gmem_p2v, NULL };
static unsigned next_id = 1;

const char *vm_state_name(enum vm_state s)
{
	static const char *const names[] = {
		[VM_CREATED] = "created", [VM_RUNNING] = "running", [VM_PAUSED] = "paused",
		[VM_STOPPED] = "stopped", [VM_CRASHED] = "crashed",
	};

	return names[s];
}

struct vm *vm_slot(unsigned i)
{
	return i < VM_MAX ? __atomic_load_n(&vms[i], __ATOMIC_ACQUIRE) : NULL;
}

struct vm *vm_find(const char *name)
{
	bool irq = spin_lock_irqsave(&vm_list_lock);
	struct vm *found = NULL;

	for (unsigned i = 0; i < VM_MAX && !found; i++)
		if (vms[i] && !strcmp(vms[i]->name, name))
			found = vms[i];
	spin_unlock_irqrestore(&vm_list_lock, irq);
	return found;
}

struct vm *vm_find_id(uint32_t id)
{
	bool irq = spin_lock_irqsave(&vm_list_lock);
	struct vm *found = NULL;

	for (unsigned i = 0; i < VM_MAX && !found; i++)
		if (vms[i] && vms[i]->id == id)
			found = vms[i];
	spin_unlock_irqrestore(&vm_list_lock, irq);
	return found;
}

/* Claims v for a turn on cpu: false when it is held or was placed
 * elsewhere meanwhile (under a hold that has ended: read again after the
 * claim), and then it is put down if loaded here. */
static bool claim_vcpu(struct vcpu *v, uint32_t cpu)
{
	if (__atomic_load_n(&v->cpu, __ATOMIC_ACQUIRE) != cpu)
		return false;
	if (hold_gate_claim(&v->gate, (int32_t)cpu) &&
	    __atomic_load_n(&v->cpu, __ATOMIC_SEQ_CST) == cpu)
		return true;
	if (hold_gate_loaded_on(&v->gate, (int32_t)cpu))
		vcpu_put_down(v);
	hold_gate_leave(&v->gate);
	return false;
}

/* Under the table's lock, so that the main loop cannot destroy a VM between our
 * reading its slot and our claim, which its hold then waits for. */
unsigned vm_claim_placed(uint32_t cpu, struct vm **claimed)
{
	bool irq = spin_lock_irqsave(&vm_list_lock);
	unsigned n = 0;

	for (unsigned i = 0; i < VM_MAX; i++) {
		struct vm *vm = vms[i];
		claimed[i] = NULL;
		if (!vm)
			continue;
		bool any = false;
		for (unsigned k = 0; k < vm->nvcpus; k++)
			any |= claim_vcpu(&vm->vcpus[k], cpu);
		if (any) {
			claimed[i] = vm;
			n++;
		}
	}
	spin_unlock_irqrestore(&vm_list_lock, irq);
	return n;
}

void vm_unclaim_placed(uint32_t cpu, struct vm **claimed)
{
	for (unsigned i = 0; i < VM_MAX; i++) {
		struct vm *vm = claimed[i];
		if (!vm)
			continue;
		for (unsigned k = 0; k < vm->nvcpus; k++) {
			struct hold_gate *g = &vm->vcpus[k].gate;
			if (!hold_gate_claimed_by(g, (int32_t)cpu))
				continue;
			if (hold_gate_must_put_down(g, (int32_t)cpu))
				vcpu_put_down(&vm->vcpus[k]);
			hold_gate_leave(g);
		}
	}
}

size_t vm_host_pages(const struct vm *vm)
{
	return vm->mem.host_pages + vm->slpt.table_pages;
}

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

static bool valid_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= VM_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

static void vm_uart_tx(void *ctx, uint8_t byte)
{
	vm_output_byte(ctx, byte);
}

static void release(struct vm *vm, struct vm_kept_memory *keep)
{
	if (vm_bsp(vm)->vendor)
		dirty_log_release(vm); /* needs the vCPUs to switch PML off */
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		if (vm->vcpus[i].vendor)
			vcpu_ops->vcpu_destroy(&vm->vcpus[i]);
		fpu_forget(vm->vcpus[i].fpu);
	}
	if (vm->backend_ready)
		vcpu_ops->vm_destroy(vm);
	if (vm->slpt.root)
		pt_destroy(&vm->slpt);
	vm_disks_detach(vm);
	if (keep) {
		/* Taken as it is, with the record of which pages are poisoned. */
		keep->mem = vm->mem;
		keep->poisoned = vm->poisoned;
		vm->mem.chunks = NULL;
		vm->poisoned = NULL;
	}
	gmem_free(&vm->mem);
	poison_release(vm);
	kfree(vm);
}

/* Whether a VM with these parameters may be created now: 0, or -1 with
 * the reason in err. Nothing is allocated. */
static int check_new(const char *name, uint64_t mem, unsigned cpus, const char *cmdline,
		     char *err, size_t errlen)
{
	if (!vcpu_ops)
		return fail(err, errlen, "guests cannot run here: %s", vcpu_unavailable_reason());
	if (!valid_name(name))
		return fail(err, errlen, "invalid VM name '%.40s' (1-31 of A-Z a-z 0-9 - _ .)", name);
	if (vm_find(name))
		return fail(err, errlen, "a VM named '%s' exists already", name);
	if (mem < VM_MIN_MEM || mem > VM_MAX_MEM || (mem & (GMEM_PAGE - 1)))
		return fail(err, errlen, "memory must be 2 MiB to 3 GiB in 4 KiB steps");
	if (cpus < 1 || cpus > VM_MAX_VCPUS)
		return fail(err, errlen, "cpus must be 1 to %d", VM_MAX_VCPUS);
	if (cmdline && strlen(cmdline) >= VM_CMDLINE_MAX)
		return fail(err, errlen, "guest command line too long");
	unsigned slot = 0;
	while (slot < VM_MAX && vms[slot])
		slot++;
	if (slot == VM_MAX)
		return fail(err, errlen, "too many VMs (at most %d)", VM_MAX);
	/* Guest pages plus about 1% for tables and bookkeeping. */
	uint64_t need = mem / GMEM_PAGE + mem / GMEM_PAGE / 100 + 64;
	uint64_t free_pages = mm_palloc()->stats.free;
	if (need + HOST_RESERVE_PAGES > free_pages) {
		mm_reclaim(need + HOST_RESERVE_PAGES - free_pages); /* cached pages go first */
		free_pages = mm_palloc()->stats.free;
	}
	if (need + HOST_RESERVE_PAGES > free_pages)
		return fail(err, errlen, "not enough memory: the VM needs %lu MiB, %lu MiB are free "
			    "(%u MiB kept for the hypervisor)", (unsigned long)(need >> 8),
			    (unsigned long)(free_pages >> 8), HOST_RESERVE_PAGES >> 8);
	return 0;
}

/* A vCPU another CPU runs takes a look at its APIC again: the kick brings
 * that CPU out of the guest, or out of its idle HLT. */
static void kick_vcpu(void *ctx, unsigned index)
{
	struct vm *vm = ctx;
	uint32_t cpu = __atomic_load_n(&vm->vcpus[index].cpu, __ATOMIC_ACQUIRE);

	if (cpu != this_cpu_index())
		smp_send_ipi(cpu, VEC_IPI_WAKE);
}

static void send_ipi(void *ctx, struct vlapic *from, const struct apic_msg *m,
		     enum apic_shorthand sh)
{
	struct vm *vm = ctx;

	apic_bus_send(&vm->apic_bus, from, m, sh);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		vcpu_drop_stale_sipi(&vm->vcpus[i]);
		if (&vm->vcpus[i].lapic == from && vm->nvcpus > 1)
			vm->vcpus[i].yield = true; /* let the target run soon */
	}
}

/* Each vCPU with its local APIC on the VM's bus. */
static void init_vcpus(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		v->vm = vm;
		v->index = i;
		v->pause_ends_turn = vm->nvcpus > 1;
		fpu_init_area(v->fpu);
		msr_guest_init(v);
		v->halted = v->wait_for_sipi = v->yield = false;
		v->pending_exception = false;
		vlapic_init(&v->lapic, i, time_tsc_hz());
		if (i)
			vlapic_make_ap(&v->lapic);
		vlapic_set_ipi_bus(&v->lapic, send_ipi, vm);
		vm->apics[i] = &v->lapic;
	}
	vm->apic_bus = (struct apic_bus){ vm->apics, vm->nvcpus, 0, kick_vcpu, vm };
	vm->next_vcpu = 0;
}

/* The vCPUs and the platform devices at their power-on state. */
static void init_devices(struct vm *vm)
{
	vm->cpuid = cpuid_host_of_cpu(time_tsc_hz());
	init_vcpus(vm);
	vuart_init(&vm->uart, vm_uart_tx, vm);
	kvmclock_init(&vm->kvmclock);
	platform_init(vm);
	vm_disks_reset(vm);
}

/* The application processors wait for INIT and start-up, in step with
 * the BSP's clock. */
static void power_on_aps(struct vm *vm)
{
	struct vcpu_state s;

	vcpu_ops->get_state(vm_bsp(vm), &s);
	for (unsigned i = 1; i < vm->nvcpus; i++)
		vcpu_power_on_ap(&vm->vcpus[i], s.tsc_offset);
}

/* What the VM was created with, to load it again on a reset. */
static void keep_create_args(struct vm *vm, const struct vm_create_args *a)
{
	vm->nmodules = a->nmodules;
	for (size_t i = 0; i < a->nmodules; i++)
		str_copy(vm->modules[i], a->modules[i], sizeof(vm->modules[i]));
}

static int load(struct vm *vm, const struct guest_image *img, const struct vm_create_args *a,
		char *err, size_t errlen)
{
	platform_load_firmware(vm);
	if (vm_load_image(vm, img, a, err, errlen))
		return -1;
	power_on_aps(vm);
	return 0;
}

/* Everything but the guest's contents: checks, memory, tables, backend. */
static struct vm *vm_alloc(const char *name, uint64_t mem, unsigned cpus, const char *image,
			   const char *cmdline, char *err, size_t errlen)
{
	if (check_new(name, mem, cpus, cmdline, err, errlen))
		return NULL;
	struct vm *vm = kzalloc(sizeof(*vm));
	if (!vm) {
		fail(err, errlen, "out of memory for the VM structure");
		return NULL;
	}
	/* Every CPU running one of its vCPUs takes it twice an exit. */
	vm->lock = (struct spinlock)SPINLOCK_UNFAIR_INIT(LOCK_RANK_VM, "vm");
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++) {
		hold_gate_init(&vm->vcpus[i].gate);
		vm->vcpus[i].cpu = percpu_main_index(); /* until 'vm pin' moves it */
	}
	str_copy(vm->name, name, sizeof(vm->name));
	str_copy(vm->image_name, image, sizeof(vm->image_name));
	str_copy(vm->cmdline, cmdline ? cmdline : "", sizeof(vm->cmdline));
	vm->nvcpus = cpus;
	init_devices(vm);

	if (!gmem_alloc(&vm->mem, mem, &gmem_backing)) {
		fail(err, errlen, "not enough memory for %lu MiB of guest RAM",
		     (unsigned long)(mem >> 20));
		goto undo;
	}
	if (pt_init(&vm->slpt, vcpu_ops->slpt_format, &mm_pt_ops) ||
	    gmem_map_all(&vm->mem, &vm->slpt)) {
		fail(err, errlen, "not enough memory for the second-level page tables");
		goto undo;
	}
	vm->backend_ready = vcpu_ops->vm_init(vm) == 0;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (!vm->backend_ready || vcpu_ops->vcpu_create(&vm->vcpus[i])) {
			fail(err, errlen, "the %s backend could not set up the VM", vcpu_ops->name);
			goto undo;
		}
	vm->id = next_id++;
	vm->state = VM_CREATED;
	vm->created_ns = time_ns();
	vm->uid = ((uint64_t)vm->id << 48) ^ rdtsc();
	return vm;
undo:
	release(vm, NULL);
	return NULL;
}

static void vm_register(struct vm *vm)
{
	bool irq = spin_lock_irqsave(&vm_list_lock);

	for (unsigned i = 0; i < VM_MAX; i++)
		if (!vms[i]) {
			__atomic_store_n(&vms[i], vm, __ATOMIC_RELEASE);
			break;
		}
	spin_unlock_irqrestore(&vm_list_lock, irq);
}

struct vm *vm_create(const struct vm_create_args *a, char *err, size_t errlen)
{
	const struct guest_image *img = image_find(a->image);

	if (!img) {
		fail(err, errlen, "no guest image '%.40s' (see 'vm images')", a->image);
		return NULL;
	}
	struct vm *vm = vm_alloc(a->name, a->mem ? a->mem : VM_DEFAULT_MEM,
				 a->cpus ? a->cpus : 1, img->name, a->cmdline, err, errlen);
	if (!vm)
		return NULL;
	for (size_t i = 0; i < a->nmodules; i++)
		if (strlen(a->modules[i]) >= VM_MODULE_SPEC_MAX) {
			release(vm, NULL);
			fail(err, errlen, "module argument %zu is too long (at most %d bytes)", i + 1,
			     VM_MODULE_SPEC_MAX - 1);
			return NULL;
		}
	keep_create_args(vm, a);
	vm->unbacked_stops = a->unbacked_stops;
	if (vm_disks_attach(vm, a->disks, a->ndisks, err, errlen) ||
	    load(vm, img, a, err, errlen)) {
		release(vm, NULL);
		return NULL;
	}
	vm_register(vm);
	log_info("vm %s: created from %s, %lu MiB, %u vCPU%s, entry 0x%lx", vm->name, img->name,
		 (unsigned long)(vm->mem.size >> 20), vm->nvcpus, vm->nvcpus > 1 ? "s" : "",
		 (unsigned long)vm->entry);
	return vm;
}

struct vm *vm_create_incoming(const char *name, uint64_t mem, unsigned cpus, const char *image,
			      const char *cmdline, char *err, size_t errlen)
{
	struct vm *vm = vm_alloc(name, mem, cpus, image, cmdline, err, errlen);

	if (!vm)
		return NULL;
	vm->migrating = true;
	vm->incoming = true;
	vm_register(vm);
	return vm;
}

int vm_start(struct vm *vm, char *err, size_t errlen)
{
	if (vm->state != VM_CREATED)
		return fail(err, errlen, "VM '%s' is %s; only a created VM can start", vm->name,
			    vm_state_name(vm->state));
	vm->state = VM_RUNNING;
	vm->started_ns = time_ns();
	return 0;
}

int vm_pause(struct vm *vm, char *err, size_t errlen)
{
	if (vm->state != VM_RUNNING)
		return fail(err, errlen, "VM '%s' is %s, not running", vm->name,
			    vm_state_name(vm->state));
	vm->state = VM_PAUSED;
	return 0;
}

int vm_resume(struct vm *vm, char *err, size_t errlen)
{
	if (vm->state != VM_PAUSED)
		return fail(err, errlen, "VM '%s' is %s, not paused", vm->name,
			    vm_state_name(vm->state));
	vm->state = VM_RUNNING;
	return 0;
}

static void end(struct vm *vm, enum vm_state state, const char *fmt, va_list ap)
{
	vm_output_flush(vm);
	fmt_vsnprintf(vm->reason, sizeof(vm->reason), fmt, ap);
	vm->state = state;
	if (state == VM_CRASHED)
		log_err("vm %s: crashed: %s", vm->name, vm->reason);
	else
		log_info("vm %s: stopped: %s", vm->name, vm->reason);
}

void vm_stop(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	end(vm, VM_STOPPED, fmt, ap);
	va_end(ap);
}

void vm_crash(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	end(vm, VM_CRASHED, fmt, ap);
	va_end(ap);
}

void vm_request_reset(struct vm *vm, const char *why)
{
	vm->reset_pending = true;
	str_copy(vm->reset_reason, why, sizeof(vm->reset_reason));
}

/* Every guest page back to zero, poisoned ones left alone (they stay lost).
 * Tens of milliseconds for a large guest, with interrupts off (a reset
 * runs from the guest's exit loop): the console is fed meanwhile. */
static void clear_memory(struct vm *vm)
{
	for (uint64_t gpa = 0; gpa < vm->mem.size; gpa += GMEM_PAGE) {
		if (!vm_page_poisoned(vm, gpa))
			gmem_fill(&vm->mem, gpa, 0, GMEM_PAGE);
		console_kick();
	}
	if (vm->dirty.active)
		dirty_log_mark(vm, 0, vm->mem.size); /* written behind the tables' back */
}

void vm_reset(struct vm *vm)
{
	const struct guest_image *img = image_find(vm->image_name);
	const char *mods[VM_MAX_MODULES];
	char err[200];

	vm->reset_pending = false;
	if (!img) {
		vm_stop(vm, "reset (%s), but its image '%s' is not on this host", vm->reset_reason,
			vm->image_name);
		return;
	}
	for (size_t i = 0; i < vm->nmodules; i++)
		mods[i] = vm->modules[i];
	struct vm_create_args a = { vm->name, vm->image_name, vm->mem.size, vm->nvcpus,
				    vm->cmdline, { 0 }, vm->nmodules };
	for (size_t i = 0; i < vm->nmodules; i++)
		a.modules[i] = mods[i];
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		vcpu_ops->drop_events(&vm->vcpus[i]);
		fpu_forget(vm->vcpus[i].fpu);
	}
	init_devices(vm);
	clear_memory(vm);
	if (load(vm, img, &a, err, sizeof(err))) {
		vm_stop(vm, "reset (%s), but the image no longer loads: %s", vm->reset_reason, err);
		return;
	}
	vm->resets++;
	vm_output_flush(vm);
	log_info("vm %s: reset by the guest (%s): restarted", vm->name, vm->reset_reason);
}

void vm_destroy(struct vm *vm)
{
	vm_destroy_keeping_memory(vm, NULL);
}

void vm_destroy_keeping_memory(struct vm *vm, struct vm_kept_memory *keep)
{
	bool irq = spin_lock_irqsave(&vm_list_lock);

	for (unsigned i = 0; i < VM_MAX; i++)
		if (vms[i] == vm)
			__atomic_store_n(&vms[i], NULL, __ATOMIC_RELEASE);
	spin_unlock_irqrestore(&vm_list_lock, irq);
	vm_output_flush(vm);
	log_info("vm %s: destroyed", vm->name);
	release(vm, keep);
}
