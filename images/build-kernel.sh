#!/usr/bin/env bash
# Build the guest kernel (no modules) from Debian's linux-source-6.1: allnoconfig + a base fragment (what boots
# a guest of that arch and runs Node) + one fragment per feature, with images/kernel/patches applied.
# Only what the guests use is compiled (~1/3 of x86_64_defconfig's objects): see images/README.md for the times.
#   build-kernel.sh            x86-64: $ZCOPY_CACHE/kernel/<recipe-hash>/{bzImage,config,System.map,build.log}
#   build-kernel.sh arm64      arm64, cross-compiled (aarch64-linux-gnu-gcc): $ZCOPY_CACHE/kernel-arm64/<hash>/Image
# Prints the kernel image's path.
source "$(dirname "$0")/lib.sh"

arch=${1:-x86_64}
need_pkgs linux-source-6.1 build-essential flex bison bc libelf-dev libssl-dev ccache cpio xz-utils
[ "$arch" = arm64 ] && need_pkgs gcc-aarch64-linux-gnu

cd "$IMAGES_DIR"
# Both arches share the patched source tree: 0001 changes x86 only (IS_ENABLED(CONFIG_X86)), a no-op on arm64.
patches=(kernel/patches/*.patch)
src_tar=/usr/src/linux-source-6.1.tar.xz
src_ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
# Bump when a change to this script changes what it builds (the key must not move for logging changes).
recipe_version=2  # 2: System.map kept beside the image
case "$arch" in
  x86_64)
    fragments=(kernel/base.config kernel/guest.config kernel/xen.config kernel/udmabuf.config \
               kernel/dma-heap.config kernel/sync.config kernel/drm.config)
    key=$( { recipe_hash "${fragments[@]}" "${patches[@]}"; echo "$src_ver allnoconfig v$recipe_version"; } | sha256sum | cut -c1-16)
    cache="$ZCOPY_CACHE/kernel" build="$ZCOPY_CACHE/kernel-build" ccache_dir="$ZCOPY_CACHE/ccache"
    kmake=() cc=gcc target=bzImage image=arch/x86/boot/bzImage est_objects=1400 ;;
  arm64)
    # guest.config's 8250 console comes along (a few objects); the arm64 console is PL011 (arm64/base.config).
    fragments=(kernel/arm64/base.config kernel/guest.config kernel/arm64/xen.config kernel/udmabuf.config \
               kernel/dma-heap.config kernel/sync.config kernel/drm.config)
    key=$( { recipe_hash "${fragments[@]}" "${patches[@]}"; echo "$src_ver allnoconfig v$recipe_version arm64"; } | sha256sum | cut -c1-16)
    cache="$ZCOPY_CACHE/kernel-arm64" build="$ZCOPY_CACHE/kernel-build-arm64" ccache_dir="$ZCOPY_CACHE/ccache-arm64"
    kmake=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-) cc=aarch64-linux-gnu-gcc target=Image
    image=arch/arm64/boot/Image est_objects=1400 ;;
  *) die "unknown arch '$arch' (x86_64 or arm64)" ;;
esac
out="$cache/$key"
img=$(basename "$image")

# Options the packages' own code relies on (zcopy doctor's checks name them as 'CONFIG_X'): a kernel without one
# of them is refused, even from the cache (the list can grow without the recipe changing).
required_by_code() {
  grep -rhoE "'CONFIG_[A-Z0-9_]+'" "$IMAGES_DIR"/../packages/*/src 2>/dev/null | tr -d "'" | sort -u
}
check_required() { # <config file>
  local missing=()
  for opt in $(required_by_code); do grep -qE "^$opt=[ym]" "$1" || missing+=("$opt"); done
  [ ${#missing[@]} -eq 0 ] || die "kernel config $1 lacks options the packages check for: ${missing[*]}"
}
if [ -s "$out/$img" ]; then check_required "$out/config"; echo "$out/$img"; exit 0; fi

# One build at a time per arch: a second caller waits for the first and then reuses its result.
mkdir -p "$cache"
exec 9>"$cache/.lock"
if ! flock -n 9; then
  log "another kernel build is running; waiting for it"
  flock 9
fi
if [ -s "$out/$img" ]; then check_required "$out/config"; echo "$out/$img"; exit 0; fi

# Patched source tree, keyed by source version + patches.
src_key=$( { echo "$src_ver"; recipe_hash "${patches[@]}"; } | sha256sum | cut -c1-12)
src="$ZCOPY_CACHE/src/linux-$src_key"
if [ ! -f "$src/.zcopy-ready" ]; then
  log "unpacking linux-source $src_ver"
  rm -rf "$src" "$src.tmp"; mkdir -p "$src.tmp"
  tar -xJf "$src_tar" -C "$src.tmp" --strip-components=1
  for p in "${patches[@]}"; do log "patch $(basename "$p")"; patch -s -p1 -d "$src.tmp" < "$p"; done
  touch "$src.tmp/.zcopy-ready"; mv "$src.tmp" "$src"
fi

# A fixed build directory per arch keeps ccache hits across recipe changes (O= builds use absolute paths); each
# arch has its own ccache, so one arch's builds never evict the other's objects.
mkdir -p "$build" "$out.tmp"
export CCACHE_DIR="$ccache_dir" CCACHE_BASEDIR="$ZCOPY_CACHE" CCACHE_MAXSIZE=5G CCACHE_COMPILERCHECK=content
jobs=$(nproc)
mk() { make -C "$src" O="$build" "${kmake[@]}" CC="ccache $cc" HOSTCC="ccache gcc" -j"$jobs" "$@"; }

log "configuring (allnoconfig + ${#fragments[@]} fragments)"
mk allnoconfig >/dev/null
KCONFIG_CONFIG="$build/.config" "$src/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" \
  "${fragments[@]/#/$IMAGES_DIR/}" >/dev/null
mk olddefconfig >/dev/null

# Every option a fragment sets must have survived the merge (Kconfig silently drops unmet dependencies).
bad=0
for f in "${fragments[@]}"; do
  while IFS= read -r line; do
    case "$line" in
      CONFIG_*=*) grep -qxF "$line" "$build/.config" || { log "required $line ($f) but .config has: $(grep -E "^(# )?${line%%=*}[= ]" "$build/.config" || echo unset)"; bad=1; } ;;
      "# CONFIG_"*" is not set") opt=${line#\# }; opt=${opt%% *}; grep -qE "^$opt=" "$build/.config" && { log "wanted $opt off ($f) but it is on"; bad=1; } ;;
    esac
  done < "$f"
done
[ "$bad" = 0 ] || die "kernel config does not match the recipe"
check_required "$build/.config"

# Progress: count compiled objects against the last build's total (or an estimate).
total=$(cat "$cache/objects" 2>/dev/null || echo "$est_objects")
start=$(date +%s)
log "building $arch $target with $jobs jobs (first build ~5 min on 2 cores; later ones hit ccache)"
( mk "$target" > "$out.tmp/build.log" 2>&1; echo $? > "$out.tmp/rc" ) &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  sleep 5
  n=$(grep -cE '^\s+(CC|AS)\s' "$out.tmp/build.log" 2>/dev/null || true)
  el=$(( $(date +%s) - start ))
  pct=$(( n * 100 / total )); [ "$pct" -gt 99 ] && pct=99
  if [ -t 2 ]; then printf '\r[images] kernel %3d%%  %dm%02ds ' "$pct" $((el/60)) $((el%60)) >&2
  elif [ $((el % 60)) -lt 5 ]; then log "kernel ${pct}% ${el}s"; fi
done
[ -t 2 ] && printf '\n' >&2
rc=$(cat "$out.tmp/rc")
if [ "$rc" != 0 ]; then tail -40 "$out.tmp/build.log" >&2; die "kernel build failed (log: $out.tmp/build.log)"; fi
# A full build's object count is the next progress denominator (an incremental log would understate it).
find "$build" -name '*.o' | wc -l > "$cache/objects"
# System.map too: the runner names the RIPs of a guest that went silent with it (scripts/vm/stall.mjs).
cp "$build/$image" "$build/.config" "$build/System.map" "$out.tmp/"
mv "$out.tmp/.config" "$out.tmp/config" 2>/dev/null || cp "$build/.config" "$out.tmp/config"
rm -rf "$out"; mv "$out.tmp" "$out"
log "kernel built in $(( $(date +%s) - start ))s: $out/$img"
echo "$out/$img"
