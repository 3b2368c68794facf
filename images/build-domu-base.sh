#!/usr/bin/env bash
# Base ramdisk for Xen domUs (they cannot see dom0's virtio-9p root): busybox + the host's Node (stripped)
# and the shared libraries it needs (found with ldd), at their host paths. scripts/vm/xen-domu.sh appends a
# second cpio (init, job, the caller's directories) in dom0; the kernel unpacks concatenated archives.
# zstd-compressed: 27 MB instead of 94 MB to read over 9p in dom0 and for xl to load; the domU kernel inflates
# it faster than either (RD_ZSTD). Output: $ZCOPY_CACHE/domu/<hash>/base.cpio.zst; prints its path.
source "$(dirname "$0")/lib.sh"

need_pkgs busybox-static cpio binutils zstd

node_bin=$(readlink -f "$(command -v node)")
[ -x "$node_bin" ] || die "no node on PATH"
cd "$IMAGES_DIR"
bb_ver=$(dpkg-query -W -f='${Version}' busybox-static)
key=$( { recipe_hash build-domu-base.sh; echo "$bb_ver"; stat -c "%n %s %Y" "$node_bin"; ldd "$node_bin" | grep -oE "/[^ ]+"; } | sha256sum | cut -c1-16)
out="$ZCOPY_CACHE/domu/$key"
if [ -s "$out/base.cpio.zst" ]; then echo "$out/base.cpio.zst"; exit 0; fi

log "building the domU base ramdisk (busybox + $node_bin)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
r="$tmp/root"
mkdir -p "$r/bin" "$r/usr/bin" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/run" "$r/etc" "$r/root"
cp /bin/busybox "$r/bin/busybox"
strip -o "$r/usr/bin/node" "$node_bin" # ~12 MB less to load and unpack under TCG
# Libraries at the paths the loader resolves (multiarch dirs are in glibc's default search path).
for lib in $(ldd "$node_bin" | grep -oE '/[^ ]+'); do
  mkdir -p "$r$(dirname "$lib")"
  cp -L "$lib" "$r$lib"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$r/etc/passwd"
echo 'root:x:0:' > "$r/etc/group"
mkdir -p "$out.tmp"
(cd "$r" && find . -print0 | sort -z | cpio --null -o -H newc --owner=0:0 --quiet) \
  | zstd -q -19 -T0 > "$out.tmp/base.cpio.zst"
# The kernel only takes an uncompressed archive appended after a compressed one at a 4-byte aligned offset
# (zero padding is skipped): pad, so xen-domu.sh can simply append its own cpio.
truncate -s %512 "$out.tmp/base.cpio.zst"
rm -rf "$out"; mv "$out.tmp" "$out"
echo "$out/base.cpio.zst"
