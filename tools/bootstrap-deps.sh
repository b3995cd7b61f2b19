#!/bin/sh
# Installs what building, running and testing hv needs on Debian 12, when it
# is missing, and fetches lwIP's Debian source package into third_party/.
# Called by the Makefile before anything else; quick when all is present.
set -eu

PACKAGES="gcc make binutils gnu-efi ovmf qemu-system-x86 libcriterion-dev
bochs bochsbios vgabios python3-pytest mtools dosfstools dpkg-dev clang
libclang-rt-14-dev gcc-multilib cpio qemu-utils"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LWIP_DIR="$ROOT/third_party/lwip"

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	echo "bootstrap: installing:$missing"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi

# lwIP comes as Debian's source package: add deb-src entries for the suites
# already configured, then fetch it once into an ignored folder.
if [ ! -f "$LWIP_DIR/.fetched" ]; then
	if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && \
	   ! grep -qs '^deb-src' /etc/apt/sources.list; then
		if [ -f /etc/apt/sources.list.d/debian.sources ]; then
			sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
				as_root tee /etc/apt/sources.list.d/hv-deb-src.sources >/dev/null
		else
			grep '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' |
				as_root tee /etc/apt/sources.list.d/hv-deb-src.list >/dev/null
		fi
		as_root apt-get update -qq
	fi
	tmp="$ROOT/third_party/.lwip-fetch"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	(cd "$tmp" && apt-get source -qq lwip >/dev/null 2>&1) || {
		# apt-get source may refuse the download sandbox as root; retry plainly.
		(cd "$tmp" && apt-get source lwip)
	}
	src=$(find "$tmp" -maxdepth 1 -mindepth 1 -type d -name 'lwip-*' | head -n 1)
	if [ -z "$src" ] || [ ! -d "$src/src/core" ]; then
		echo "bootstrap: could not fetch lwIP's source package" >&2
		exit 1
	fi
	rm -rf "$LWIP_DIR"
	mv "$src" "$LWIP_DIR"
	basename "$src" > "$LWIP_DIR/.fetched"
	rm -rf "$tmp"
	echo "bootstrap: lwIP source in third_party/lwip ($(cat "$LWIP_DIR/.fetched"))"
fi
