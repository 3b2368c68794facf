#!/usr/bin/env bash
# Base ramdisk for Xen domUs (they cannot see dom0's virtio-9p root): busybox + the host's Node (stripped)
# and the shared libraries it needs (found with ldd), at their host paths. scripts/vm/xen-domu.sh appends a
# second cpio (init, job, the caller's directories) in dom0; the kernel unpacks concatenated archives.
# Uncompressed on purpose: measured under TCG, a zstd base (30 MB instead of 94) is slower overall, since the
# domU kernel inflating it costs more (8-18 s in a PVH domU) than xl loading the bigger file.
# Output: $ZCOPY_CACHE/domu/<hash>/base.cpio; prints its path.
source "$(dirname "$0")/lib.sh"

need_pkgs busybox-static cpio binutils

node_bin=$(readlink -f "$(command -v node)")
[ -x "$node_bin" ] || die "no node on PATH"
cd "$IMAGES_DIR"
bb_ver=$(dpkg-query -W -f='${Version}' busybox-static)
key=$( { recipe_hash build-domu-base.sh; echo "$bb_ver"; stat -c "%n %s %Y" "$node_bin"; ldd "$node_bin" | grep -oE "/[^ ]+"; } | sha256sum | cut -c1-16)
out="$ZCOPY_CACHE/domu/$key"
if [ -s "$out/base.cpio" ]; then echo "$out/base.cpio"; exit 0; fi

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
# /init runs the /job.sh that xen-domu.sh appends, between console markers it parses, then powers off.
cat > "$r/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin HOME=/root TERM=dumb
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm; mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /dev/shm
mkdir -p /tmp  # no tmpfs: directories included under /tmp (a checkout there) must stay visible
[ -d /proc/xen ] && mount -t xenfs xenfs /proc/xen 2>/dev/null
echo "@@zcopy-domu-start@@"
sh /job.sh < /dev/null 2>&1
echo "@@zcopy-domu-exit $?@@"
poweroff -f
EOF
chmod +x "$r/init"
echo 'root:x:0:0:root:/root:/bin/sh' > "$r/etc/passwd"
echo 'root:x:0:' > "$r/etc/group"
mkdir -p "$out.tmp"
# GNU cpio pads its output to 512 bytes: xen-domu.sh can append its own archive (the kernel unpacks both).
(cd "$r" && find . -print0 | sort -z | cpio --null -o -H newc --owner=0:0 --quiet) > "$out.tmp/base.cpio"
rm -rf "$out"; mv "$out.tmp" "$out"
echo "$out/base.cpio"
