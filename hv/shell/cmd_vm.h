#ifndef HV_SHELL_CMD_VM_H
#define HV_SHELL_CMD_VM_H

#include "hv/shell/shell.h"

struct vm;

/* The VM named 'name', or NULL after reporting the error. */
struct vm *cmd_vm_lookup(struct shell *sh, const char *name);

int cmd_vm_info(struct shell *sh, int argc, char **argv);
int cmd_vm_output(struct shell *sh, int argc, char **argv);
int cmd_vm_console(struct shell *sh, int argc, char **argv);
int cmd_vm_send(struct shell *sh, int argc, char **argv);
int cmd_vm_memsum(struct shell *sh, int argc, char **argv);

#endif
