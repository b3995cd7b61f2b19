#!/bin/sh
# Usage: build-qemu-multiboot.sh OUTDIR
# Builds QEMU's multiboot test kernels (tests/multiboot in QEMU's source),
# taken from Debian's qemu source package, with their expected outputs:
# multiboot kernels that nobody on this project wrote, for the guest tests.
# The source tarball is cached outside the tree; nothing is committed.
set -eu
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/hv-deps
[ -f "$OUT/.built" ] && exit 0
mkdir -p "$CACHE" "$OUT"

tarball=$(ls "$CACHE"/qemu_*.orig.tar.xz 2>/dev/null | head -n 1 || true)
if [ -z "$tarball" ]; then
	(cd "$CACHE" && apt-get source --download-only qemu >/dev/null 2>&1) ||
		(cd "$CACHE" && apt-get source --download-only qemu)
	tarball=$(ls "$CACHE"/qemu_*.orig.tar.xz | head -n 1)
fi
src="$OUT/src"
rm -rf "$src"
mkdir -p "$src"
tar -xJf "$tarball" -C "$src" --wildcards --strip-components=3 '*/tests/multiboot/*'

CFLAGS="-m32 -O2 -fno-stack-protector -nostdinc -fno-builtin -fno-pic -fno-pie \
-isystem $(gcc -m32 -print-file-name=include)"
LIBGCC=$(gcc -m32 -print-libgcc-file-name)
cd "$src"
for f in start libc mmap modules; do
	case $f in start) gcc -m32 -c -o $f.o $f.S ;; *) gcc $CFLAGS -c -o $f.o $f.c ;; esac
done
ld -melf_i386 -z noexecstack --no-warn-rwx-segments -T link.ld -o "$OUT/mmap.elf" start.o mmap.o libc.o "$LIBGCC"
ld -melf_i386 -z noexecstack --no-warn-rwx-segments -T link.ld -o "$OUT/modules.elf" start.o modules.o libc.o "$LIBGCC"
for i in 1 2 3 4 5 6 7 8 9; do
	gcc -m32 -DSCENARIO=$i -c -o aout_kludge_$i.o aout_kludge.S
	ld -melf_i386 -z noexecstack --no-warn-rwx-segments -T link.ld --oformat=binary -o "$OUT/aout_kludge_$i.bin" aout_kludge_$i.o
done
cp module.txt ./*.out "$OUT/"
touch "$OUT/.built"
echo "qemu multiboot test kernels in $OUT"
