#!/usr/bin/env bash
# dom0's initramfs for xen mode: the bare guest initramfs with the domU base ramdisk appended under
# /zcopy-extra (images/init binds it at /run/zcopy-extra in the guest root). Reading those 94 MB over virtio-9p
# in a PV dom0 under TCG costs 10-30 s per domU start; QEMU loads the initramfs into memory for nothing.
# Output: $ZCOPY_CACHE/xen-initramfs/<hash>/initramfs.cpio; prints its path.
#   build-xen-initramfs.sh arm64: the same for arm64 dom0 (arm64 initramfs + arm64 domU base), in xen-initramfs-arm64/.
source "$(dirname "$0")/lib.sh"

if [ "${1:-}" = arm64 ]; then
  base=$(bash "$IMAGES_DIR/build-arm64-initramfs.sh")
  domu=$(bash "$IMAGES_DIR/build-domu-base.sh" arm64)
  dir=xen-initramfs-arm64
else
  base=$(bash "$IMAGES_DIR/build-initramfs.sh")
  domu=$(bash "$IMAGES_DIR/build-domu-base.sh")
  dir=xen-initramfs
fi
cd "$IMAGES_DIR"
# The inputs' paths carry their own recipe hashes.
key=$( { recipe_hash build-xen-initramfs.sh; echo "$base $domu"; } | sha256sum | cut -c1-16)
out="$ZCOPY_CACHE/$dir/$key"
if [ -s "$out/initramfs.cpio" ]; then echo "$out/initramfs.cpio"; exit 0; fi

log "building the xen-mode initramfs (guest initramfs + domU base)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/zcopy-extra" "$out.tmp"
cp "$domu" "$tmp/zcopy-extra/domu-base.cpio"
# Archives concatenate: the kernel unpacks one after the other (each cpio output is 512-byte padded).
{ cat "$base"; (cd "$tmp" && find zcopy-extra | cpio -o -H newc --owner=0:0 --quiet); } > "$out.tmp/initramfs.cpio"
rm -rf "$out"; mv "$out.tmp" "$out"
echo "$out/initramfs.cpio"
