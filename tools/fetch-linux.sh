#!/bin/sh
# Usage: fetch-linux.sh OUTDIR
# Fetches Debian's own kernel (the version linux-image-amd64 depends on)
# and busybox-static with apt-get download, and builds a small initramfs:
# busybox, an /init that mounts the usual file systems and starts a shell
# on the serial console, and the kernel's virtio modules. Test payloads
# that nobody on this project wrote; cached outside the tree, never
# committed. Writes OUTDIR/vmlinuz, OUTDIR/initrd.img, OUTDIR/version.
set -eu
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/hv-deps/linux
# Make reruns this when the script changes; .built stamps a finished run.
rm -f "$OUT/.built"
mkdir -p "$CACHE"
command -v cpio >/dev/null || { echo "fetch-linux: cpio is missing (tools/bootstrap-deps.sh)" >&2; exit 1; }

image=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
[ -n "$image" ] || { echo "fetch-linux: linux-image-amd64 names no kernel" >&2; exit 1; }
unsigned="$image-unsigned"
cd "$CACHE"
for pkg in "$unsigned" busybox-static; do
	ls "$CACHE"/"$(echo "$pkg" | sed 's/-unsigned$//')"*.deb >/dev/null 2>&1 ||
		ls "$CACHE"/"$pkg"_*.deb >/dev/null 2>&1 ||
		apt-get download "$pkg" >/dev/null 2>&1 || apt-get download "$pkg"
done
work="$OUT/work"
rm -rf "$work"
mkdir -p "$work/kernel" "$work/busybox" "$work/root"
dpkg-deb -x "$(ls "$CACHE"/"$unsigned"_*.deb | head -n 1)" "$work/kernel"
dpkg-deb -x "$(ls "$CACHE"/busybox-static_*.deb | head -n 1)" "$work/busybox"
version=$(ls "$work/kernel/boot" | sed -n 's/^vmlinuz-//p' | head -n 1)
cp "$work/kernel/boot/vmlinuz-$version" "$OUT/vmlinuz"

root="$work/root"
# Dependency order: virtio_ring before virtio, ext4 after jbd2, mbcache, crc16.
DISK_MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk \
crc16 mbcache jbd2 crc32c_generic ext4"
mkdir -p "$root/bin" "$root/sbin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" \
	"$root/lib/modules" "$root/etc" "$root/root"
cp "$work/busybox/bin/busybox" "$root/bin/busybox"
for m in $DISK_MODULES; do
	f=$(find "$work/kernel/lib/modules/$version" -name "$m.ko" | head -n 1)
	[ -n "$f" ] && cp "$f" "$root/lib/modules/"
done
cat > "$root/bin/disk-modules" <<MODS
#!/bin/busybox sh
# Loads the modules a disk needs (virtio-blk, ext4 for mkfs.ext2 disks), in
# dependency order; prints the ones that fail.
for m in $DISK_MODULES; do
	insmod /lib/modules/\$m.ko 2>/dev/null || echo "disk-modules: \$m failed"
done
MODS
chmod 755 "$root/bin/disk-modules"
cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
/bin/busybox --install -s /sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
export PS1='hv-linux# ' HOME=/root PATH=/bin:/sbin
echo "hv-linux: init running on $(uname -r), $(nproc) cpu"
exec setsid cttyhack /bin/sh
INIT
chmod 755 "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) > "$work/initrd.cpio"
gzip -9 -c "$work/initrd.cpio" > "$OUT/initrd.img"
[ -s "$OUT/initrd.img" ] || { echo "fetch-linux: empty initramfs" >&2; exit 1; }
echo "$version" > "$OUT/version"
rm -rf "$work"
touch "$OUT/.built"
echo "Debian kernel $version and a busybox initramfs in $OUT"
