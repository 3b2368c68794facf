#!/usr/bin/env bash
# The arm64 guest initramfs: the arm64 busybox-static (fetch-arm64-debs.sh) + the same images/init as x86, as an
# uncompressed cpio. Output: $ZCOPY_CACHE/arm64-initramfs/<hash>/initramfs.cpio; prints its path.
source "$(dirname "$0")/lib.sh"

# qemu-system-arm and dtc are for the runner that boots this (scripts/vm --arch arm64: QEMU, the device tree).
need_pkgs cpio qemu-system-arm device-tree-compiler
debs=$(bash "$IMAGES_DIR/fetch-arm64-debs.sh")
cd "$IMAGES_DIR"
key=$( { recipe_hash init build-arm64-initramfs.sh; echo "$debs"; } | sha256sum | cut -c1-16)
out="$ZCOPY_CACHE/arm64-initramfs/$key"
if [ -s "$out/initramfs.cpio" ]; then echo "$out/initramfs.cpio"; exit 0; fi

log "building the arm64 initramfs"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/bin" "$tmp/root/proc" "$tmp/root/sys" "$tmp/root/dev"
cp "$debs/usr/bin/busybox" "$tmp/root/bin/busybox"
install -m 0755 init "$tmp/root/init"
mkdir -p "$out.tmp"
(cd "$tmp/root" && find . -print0 | sort -z | cpio --null -o -H newc --owner=0:0 --quiet) > "$out.tmp/initramfs.cpio"
rm -rf "$out"; mv "$out.tmp" "$out"
echo "$out/initramfs.cpio"
