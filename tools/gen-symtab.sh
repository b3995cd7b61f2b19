#!/bin/sh
# Usage: gen-symtab.sh IMAGE.so > symtab.S
# Emits the hypervisor's function symbol table (offsets from the image base,
# sorted) for the second link pass; see hv/core/symbols.c.
set -eu
nm -n --defined-only "$1" | awk '
BEGIN { n = 0 }
$2 ~ /^[tT]$/ && $3 !~ /^\./ {
	off[n] = $1; name[n] = $3; n++
}
END {
	print "\t.section .rodata.hv_symtab, \"a\""
	print "\t.globl hv_symtab_count, hv_symtab, hv_symstr"
	print "\t.p2align 3"
	print "hv_symtab_count:\n\t.quad " n
	print "hv_symtab:"
	pos = 0
	for (i = 0; i < n; i++) {
		printf "\t.long 0x%s, %d\n", off[i], pos
		pos += length(name[i]) + 1
	}
	print "hv_symstr:"
	for (i = 0; i < n; i++)
		printf "\t.asciz \"%s\"\n", name[i]
	print "\t.section .note.GNU-stack,\"\",@progbits"
}'
