#!/usr/bin/env bash
# Base ramdisk for Xen domUs (they cannot see dom0's virtio-9p root): busybox + the host's Node (stripped)
# and the shared libraries it needs (found with ldd), at their host paths; and libdrm's unmodified `modetest`
# (Debian libdrm-tests, with its libraries): the stock KMS client @zcopy/pv-display's tests run in a guest. scripts/vm/xen-domu.sh appends a
# second cpio (init, job, the caller's directories) in dom0; the kernel unpacks concatenated archives.
# Uncompressed on purpose: measured under TCG, a zstd base (30 MB instead of 94) is slower overall, since the
# domU kernel inflating it costs more (8-18 s in a PVH domU) than xl loading the bigger file.
#   build-domu-base.sh         x86-64: $ZCOPY_CACHE/domu/<hash>/base.cpio
#   build-domu-base.sh arm64   arm64 domUs: busybox, node and its libraries from the arm64 guest layer
#                              (build-arm64-root.sh), and Debian's arm64 modetest (fetch-arm64-debs.sh):
#                              $ZCOPY_CACHE/domu-arm64/<hash>/base.cpio
# Prints the path of base.cpio.
source "$(dirname "$0")/lib.sh"

arch=${1:-x86_64}
need_pkgs busybox-static cpio binutils

cd "$IMAGES_DIR"
if [ "$arch" = arm64 ]; then
  need_pkgs binutils-aarch64-linux-gnu
  a64=$(bash "$IMAGES_DIR/build-arm64-root.sh")
  node_bin="$a64/usr/bin/node"
  key=$( { recipe_hash build-domu-base.sh; echo "arm64 $a64"; } | sha256sum | cut -c1-16)
  out="$ZCOPY_CACHE/domu-arm64/$key"
else
  [ "$arch" = x86_64 ] || die "unknown arch '$arch' (x86_64 or arm64)"
  need_pkgs libdrm-tests
  node_bin=$(readlink -f "$(command -v node)")
  [ -x "$node_bin" ] || die "no node on PATH"
  bb_ver=$(dpkg-query -W -f='${Version}' busybox-static)
  drm_ver=$(dpkg-query -W -f='${Version}' libdrm-tests)
  key=$( { recipe_hash build-domu-base.sh; echo "$bb_ver $drm_ver"; stat -c "%n %s %Y" "$node_bin"; { ldd "$node_bin"; ldd /usr/bin/modetest; } | grep -oE "/[^ ]+"; } | sha256sum | cut -c1-16)
  out="$ZCOPY_CACHE/domu/$key"
fi
if [ -s "$out/base.cpio" ]; then echo "$out/base.cpio"; exit 0; fi

log "building the $arch domU base ramdisk (busybox + $node_bin)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
r="$tmp/root"
mkdir -p "$r/bin" "$r/usr/bin" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/run" "$r/etc" "$r/root"
if [ "$arch" = arm64 ]; then
  cp "$a64/usr/bin/busybox" "$r/bin/busybox"
  cp "$node_bin" "$r/usr/bin/node" # stripped already
  [ -x "$a64/usr/bin/modetest" ] || die "no arm64 modetest in the arm64 layer (fetch-arm64-debs.sh: libdrm-tests)"
  cp "$a64/usr/bin/modetest" "$r/usr/bin/modetest"
  # Their NEEDED libraries and the loader, from the arm64 layer, at the paths the arm64 loader searches.
  mkdir -p "$r/lib/aarch64-linux-gnu"
  cp -L "$a64/usr/lib/ld-linux-aarch64.so.1" "$r/lib/ld-linux-aarch64.so.1"
  for bin in "$node_bin" "$a64/usr/bin/modetest"; do
    for lib in $(aarch64-linux-gnu-readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
      cp -L "$a64/usr/lib/aarch64-linux-gnu/$lib" "$r/lib/aarch64-linux-gnu/$lib" || die "no $lib for arm64 $bin"
    done
  done
else
  cp /bin/busybox "$r/bin/busybox"
  strip -o "$r/usr/bin/node" "$node_bin" # ~12 MB less to load and unpack under TCG
  # Libraries at the paths the loader resolves (multiarch dirs are in glibc's default search path).
  cp /usr/bin/modetest "$r/usr/bin/modetest"
  for lib in $({ ldd "$node_bin"; ldd /usr/bin/modetest; } | grep -oE '/[^ ]+' | sort -u); do
    mkdir -p "$r$(dirname "$lib")"
    cp -L "$lib" "$r$lib"
  done
fi
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
