#!/usr/bin/env bash
# Build the kernel's own selftests for the drivers zcopy wraps, from the same (patched) Debian source tree
# the guest kernel is built from: sync (sw_sync/sync_file), drivers/dma-buf/udmabuf, dmabuf-heaps.
# Static binaries, so they also run in a domU ramdisk. UAPI headers come from that tree (headers_install).
# Output: $ZCOPY_CACHE/selftests/<hash>/{sync_test,udmabuf,dmabuf-heap}; prints that directory.
#   build-selftests.sh arm64: the same, cross-compiled for arm64 (static, aarch64-linux-gnu-gcc), in selftests-arm64/.
source "$(dirname "$0")/lib.sh"

arch=${1:-x86_64}
need_pkgs build-essential rsync
case "$arch" in
  x86_64) karch=x86 gcc=gcc dir=selftests ;;
  arm64) karch=arm64 gcc=aarch64-linux-gnu-gcc dir=selftests-arm64
         need_pkgs gcc-aarch64-linux-gnu libc6-dev-arm64-cross ;;
  *) die "unknown arch '$arch' (x86_64 or arm64)" ;;
esac

cd "$IMAGES_DIR"
# The source tree is unpacked (and patched) by build-kernel.sh; same key as there.
patches=(kernel/patches/*.patch)
src_ver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || true)
src_key=$( { echo "$src_ver"; recipe_hash "${patches[@]}"; } | sha256sum | cut -c1-12)
src="$ZCOPY_CACHE/src/linux-$src_key"
if [ ! -f "$src/.zcopy-ready" ]; then
  log "kernel source not unpacked yet; running build-kernel.sh first"
  bash "$IMAGES_DIR/build-kernel.sh" >/dev/null
  src_ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
  src_key=$( { echo "$src_ver"; recipe_hash "${patches[@]}"; } | sha256sum | cut -c1-12)
  src="$ZCOPY_CACHE/src/linux-$src_key"
fi
[ -f "$src/.zcopy-ready" ] || die "no kernel source at $src"

key=$( { recipe_hash build-selftests.sh; echo "$src_key"; [ "$arch" = x86_64 ] || echo "$arch"; } | sha256sum | cut -c1-16)
out="$ZCOPY_CACHE/$dir/$key"
if [ -x "$out/dmabuf-heap" ]; then echo "$out"; exit 0; fi

log "building kernel selftests (sync, udmabuf, dmabuf-heaps) for $arch"
rm -rf "$out.tmp"; mkdir -p "$out.tmp"
# headers_install with O= keeps the shared source tree clean (the kernel's O= build insists on that).
make -s -C "$src" O="$out.tmp/hdr-build" ARCH=$karch headers_install INSTALL_HDR_PATH="$out.tmp/usr" >/dev/null
st="$src/tools/testing/selftests"
cc=("$gcc" -static -O2 -w -I"$out.tmp/usr/include")
"${cc[@]}" -std=gnu89 -pthread -o "$out.tmp/sync_test" "$st"/sync/sync_*.c "$st/sync/sync.c"
"${cc[@]}" -o "$out.tmp/udmabuf" "$st/drivers/dma-buf/udmabuf.c"
"${cc[@]}" -o "$out.tmp/dmabuf-heap" "$st/dmabuf-heaps/dmabuf-heap.c"
rm -rf "$out.tmp/hdr-build" "$out.tmp/usr"
rm -rf "$out"; mv "$out.tmp" "$out"
echo "$out"
