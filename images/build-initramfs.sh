#!/usr/bin/env bash
# Build the guest initramfs: busybox-static + images/init, as an uncompressed cpio (nothing to inflate
# under TCG; it is ~2 MB). Output: $ZCOPY_CACHE/initramfs/<recipe-hash>/initramfs.cpio; prints its path.
source "$(dirname "$0")/lib.sh"

need_pkgs busybox-static cpio

cd "$IMAGES_DIR"
bb_ver=$(dpkg-query -W -f='${Version}' busybox-static)
key=$( { recipe_hash init build-initramfs.sh; echo "$bb_ver"; } | sha256sum | cut -c1-16)
out="$ZCOPY_CACHE/initramfs/$key"
if [ -s "$out/initramfs.cpio" ]; then echo "$out/initramfs.cpio"; exit 0; fi

log "building initramfs (busybox $bb_ver)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/bin" "$tmp/root/proc" "$tmp/root/sys" "$tmp/root/dev"
cp /bin/busybox "$tmp/root/bin/busybox"
install -m 0755 init "$tmp/root/init"
mkdir -p "$out.tmp"
(cd "$tmp/root" && find . -print0 | sort -z | cpio --null -o -H newc --owner=0:0 --quiet) > "$out.tmp/initramfs.cpio"
rm -rf "$out"; mv "$out.tmp" "$out"
echo "$out/initramfs.cpio"
