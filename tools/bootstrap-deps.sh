#!/bin/sh
# Installs what building, running and testing hv needs on Debian 12, when it
# is missing, and fetches the Debian source packages of lwIP and mbedTLS into
# third_party/.
# Called by the Makefile before anything else; quick when all is present.
set -eu

PACKAGES="gcc make binutils gnu-efi ovmf qemu-system-x86 libcriterion-dev
bochs bochsbios vgabios python3-pytest mtools dosfstools dpkg-dev clang
libclang-rt-14-dev gcc-multilib cpio qemu-utils"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LWIP_DIR="$ROOT/third_party/lwip"
MBEDTLS_DIR="$ROOT/third_party/mbedtls"

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

# lwIP and mbedTLS come as Debian source packages: add deb-src entries for
# the suites already configured, then fetch each once into an ignored folder.
enable_deb_src() {
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
}

# fetch_source PACKAGE DEST PROBE: unpacks PACKAGE's source into DEST unless
# DEST/.fetched exists; PROBE is a path inside the tree that must exist.
fetch_source() {
	pkg=$1 dest=$2 probe=$3
	[ -f "$dest/.fetched" ] && return 0
	enable_deb_src
	tmp="$ROOT/third_party/.$pkg-fetch"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	(cd "$tmp" && apt-get source -qq "$pkg" >/dev/null 2>&1) || {
		# apt-get source may refuse the download sandbox as root; retry plainly.
		(cd "$tmp" && apt-get source "$pkg")
	}
	src=$(find "$tmp" -maxdepth 1 -mindepth 1 -type d -name "$pkg-*" | head -n 1)
	if [ -z "$src" ] || [ ! -e "$src/$probe" ]; then
		echo "bootstrap: could not fetch $pkg's source package" >&2
		exit 1
	fi
	rm -rf "$dest"
	mv "$src" "$dest"
	basename "$src" > "$dest/.fetched"
	rm -rf "$tmp"
	echo "bootstrap: $pkg source in ${dest#"$ROOT"/} ($(cat "$dest/.fetched"))"
}

fetch_source lwip "$LWIP_DIR" src/core
# mbedTLS (bookworm: 2.28.x) for the migration channel's TLS.
fetch_source mbedtls "$MBEDTLS_DIR" library/ssl_tls.c
