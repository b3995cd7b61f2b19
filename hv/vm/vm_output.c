/* Guest output: kept in a per-VM ring (for `vm output`) and shown on the
 * console line by line as "[vm:NAME] text", or raw while attached. */
#include "hv/core/console.h"
#include "hv/vm/vm.h"

static void show_line(struct vm *vm)
{
	con_async_begin();
	con_printf("[vm:%s] ", vm->name);
	con_write(vm->out.line, vm->out.line_len);
	con_putc('\n');
	con_async_end();
	vm->out.line_len = 0;
}

void vm_output_byte(struct vm *vm, uint8_t b)
{
	struct vm_output *o = &vm->out;

	o->ring[o->written++ % VM_OUTPUT_RING] = (char)b;
	if (o->attached) {
		con_putc((char)b);
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
