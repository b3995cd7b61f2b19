/* Guest output: kept in a per-VM ring (for `vm output`) and shown on the
 * console line by line as "[vm:NAME] text", or raw while attached. */
#include "hv/core/console.h"
#include "hv/lib/format.h"
#include "hv/vm/vm.h"

/* Shown whole or not at all: the console drops lines it cannot keep up
 * with rather than make the guest wait; `vm output` still has them. */
static void show_line(struct vm *vm)
{
	char text[sizeof(vm->name) + VM_LINE_MAX + 8];
	int n = fmt_snprintf(text, sizeof(text), "[vm:%s] %.*s", vm->name, (int)vm->out.line_len,
			     vm->out.line);

	con_line(CON_GUEST, text, n < (int)sizeof(text) ? (size_t)n : sizeof(text) - 1);
	vm->out.line_len = 0;
}

void vm_output_byte(struct vm *vm, uint8_t b)
{
	struct vm_output *o = &vm->out;

	o->ring[o->written++ % VM_OUTPUT_RING] = (char)b;
	if (o->attached) {
		con_guest_bytes((const char *)&b, 1);
		return;
	}
	if (b == '\n') {
		show_line(vm);
		return;
	}
	if (b == '\r')
		return;
	/* Control bytes would garble the console: show them as '.'. */
	o->line[o->line_len++] = (b >= 0x20 && b < 0x7f) || b == '\t' ? (char)b : '.';
	if (o->line_len == VM_LINE_MAX)
		show_line(vm);
}

void vm_output_flush(struct vm *vm)
{
	if (vm->out.line_len)
		show_line(vm);
}
