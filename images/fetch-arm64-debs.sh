#!/usr/bin/env bash
# arm64 userland from Debian's packages, fetched and extracted (not installed) without touching this machine's
# dpkg architectures: apt runs with a private state (lists, cache) in which arm64 is an extra architecture for
# that call only. Xen 4.17 arm64 (hypervisor + toolstack and its libraries), glibc, libstdc++/libgcc (Node's
# needs), busybox-static, bash and cpio (scripts/vm/xen-domu.sh), libdrm's modetest (libdrm-tests, libdrm2: the
# stock KMS client of @zcopy/pv-display's guests, in the arm64 domU base), and coreutils' stdbuf only (with its
# LD_PRELOAD library: @zcopy/pv-display's modetestReference runs `stdbuf -oL modetest` in dom0; the rest of
# coreutils stays busybox's, as before). The tree is laid out merged-/usr (bin, sbin, lib -> usr/...) like the host's, so it
# can lie over the host root in a guest (scripts/vm --arch arm64). boot/xen-4.17-arm64 is an arm64 Image: QEMU's
# -kernel boots it directly. Output: $ZCOPY_CACHE/arm64-debs/<hash>/root; prints that dir.
source "$(dirname "$0")/lib.sh"

need_pkgs dpkg-dev

pkgs=(xen-hypervisor-4.17-arm64 xen-utils-4.17 xen-utils-common xenstore-utils
      libxenmisc4.17 libxenstore4 libxencall1 libxendevicemodel1 libxenevtchn1 libxenforeignmemory1
      libxengnttab1 libxentoolcore1 libxentoollog1 libxenhypfs1 libyajl2
      libc6 libgcc-s1 libstdc++6 libncurses6 libtinfo6 libext2fs2 libcom-err2 libfdt1 libuuid1 zlib1g liblzma5
      libbz2-1.0 libzstd1 liblzo2-2 libblkid1 busybox-static bash cpio libdrm-tests libdrm2
      coreutils)

cd "$IMAGES_DIR"
apt_dir="$ZCOPY_CACHE/apt-arm64"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
opts=(-o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o APT::Architectures::=amd64
      -o APT::Architectures::=arm64)
# apt downloads as _apt, which cannot enter a private cache dir; as root, let it stay root.
[ "$(id -u)" = 0 ] && opts+=(-o APT::Sandbox::User=root)
arm=("${pkgs[@]/%/:arm64}")
versions() { apt-cache "${opts[@]}" policy "${arm[@]}" 2>/dev/null | awk '/^[^ ]/{p=$1} /Candidate:/{print p, $2}'; }
vers=$(versions)
# Refresh the private lists when a package is unknown or a day has passed (security updates move versions).
if [ -z "$vers" ] || echo "$vers" | grep -q '(none)' || [ -n "$(find "$apt_dir/lists" -maxdepth 1 -name '*Packages*' -mmin +1440 | head -1)" ]; then
  log "updating the private arm64 apt lists"
  apt-get "${opts[@]}" update -qq >/dev/null || die "apt-get update (arm64 lists) failed"
  vers=$(versions)
fi
[ "$(echo "$vers" | grep -c .)" = "${#pkgs[@]}" ] && ! echo "$vers" | grep -q '(none)' \
  || die "arm64 packages not all available: $vers"
key=$( { recipe_hash fetch-arm64-debs.sh lib.sh; echo "$vers"; } | sha256sum | cut -c1-16)
out="$ZCOPY_CACHE/arm64-debs/$key"
if [ -s "$out/root/boot/xen-4.17-arm64" ]; then echo "$out/root"; exit 0; fi

log "fetching arm64 packages: ${pkgs[*]}"
rm -rf "$out.tmp"; mkdir -p "$out.tmp/debs" "$out.tmp/root"
(cd "$out.tmp/debs" && apt-get "${opts[@]}" download -qq "${arm[@]}" >/dev/null) || die "apt-get download failed"
r="$out.tmp/root"
mkdir -p "$r/usr/bin" "$r/usr/sbin" "$r/usr/lib"
ln -s usr/bin "$r/bin"; ln -s usr/sbin "$r/sbin"; ln -s usr/lib "$r/lib"
# tar keeps the tree's bin/sbin/lib symlinks: a deb's ./lib/... lands in usr/lib/... (dpkg-deb -x would not).
for d in "$out.tmp"/debs/*.deb; do
  case "$(basename "$d")" in
    coreutils_*) dpkg-deb --fsys-tarfile "$d" | tar -x --keep-directory-symlink -C "$r" \
      ./usr/bin/stdbuf ./usr/libexec/coreutils/libstdbuf.so ;;
    *) dpkg-deb --fsys-tarfile "$d" | tar -x --keep-directory-symlink -C "$r" ;;
  esac
done
[ -L "$r/lib" ] && [ -L "$r/bin" ] || die "a package replaced the merged-/usr links"
[ -f "$r/boot/xen-4.17-arm64" ] || die "no hypervisor in xen-hypervisor-4.17-arm64"
[ -e "$r/usr/lib/ld-linux-aarch64.so.1" ] || die "no arm64 dynamic loader in libc6"
[ -x "$r/usr/bin/stdbuf" ] && [ -f "$r/usr/libexec/coreutils/libstdbuf.so" ] || die "no stdbuf in coreutils"
xen_tools_on_path "$r"
publish_fetched "$out"
