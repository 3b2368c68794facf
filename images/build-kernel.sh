#!/usr/bin/env bash
# Build the guest kernel (bzImage, no modules) from Debian's linux-source-6.1: allnoconfig + images/kernel/base.config
# (what boots an x86-64 guest and runs Node) + one fragment per feature, with images/kernel/patches applied.
# Only what the guests use is compiled (~1/3 of x86_64_defconfig's objects): see images/README.md for the times.
# Output: $ZCOPY_CACHE/kernel/<recipe-hash>/{bzImage,config,build.log}; prints the bzImage path.
source "$(dirname "$0")/lib.sh"

need_pkgs linux-source-6.1 build-essential flex bison bc libelf-dev libssl-dev ccache cpio xz-utils

cd "$IMAGES_DIR"
fragments=(kernel/base.config kernel/guest.config kernel/xen.config kernel/udmabuf.config \
           kernel/dma-heap.config kernel/sync.config kernel/drm.config)
patches=(kernel/patches/*.patch)
src_tar=/usr/src/linux-source-6.1.tar.xz
src_ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
# Bump when a change to this script changes what it builds (the key must not move for logging changes).
recipe_version=1
key=$( { recipe_hash "${fragments[@]}" "${patches[@]}"; echo "$src_ver allnoconfig v$recipe_version"; } | sha256sum | cut -c1-16)
out="$ZCOPY_CACHE/kernel/$key"

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
if [ -s "$out/bzImage" ]; then check_required "$out/config"; echo "$out/bzImage"; exit 0; fi

# One build at a time: a second caller waits for the first and then reuses its result.
mkdir -p "$ZCOPY_CACHE/kernel"
exec 9>"$ZCOPY_CACHE/kernel/.lock"
if ! flock -n 9; then
  log "another kernel build is running; waiting for it"
  flock 9
fi
if [ -s "$out/bzImage" ]; then check_required "$out/config"; echo "$out/bzImage"; exit 0; fi

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

# A fixed build directory keeps ccache hits across recipe changes (O= builds use absolute paths).
build="$ZCOPY_CACHE/kernel-build"
mkdir -p "$build" "$out.tmp"
export CCACHE_DIR="$ZCOPY_CACHE/ccache" CCACHE_BASEDIR="$ZCOPY_CACHE" CCACHE_MAXSIZE=5G CCACHE_COMPILERCHECK=content
jobs=$(nproc)
mk() { make -C "$src" O="$build" CC="ccache gcc" HOSTCC="ccache gcc" -j"$jobs" "$@"; }

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
total=$(cat "$ZCOPY_CACHE/kernel/objects" 2>/dev/null || echo 1400)
start=$(date +%s)
log "building bzImage with $jobs jobs (first build ~5 min on 2 cores; later ones hit ccache)"
( mk bzImage > "$out.tmp/build.log" 2>&1; echo $? > "$out.tmp/rc" ) &
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
find "$build" -name '*.o' | wc -l > "$ZCOPY_CACHE/kernel/objects"
cp "$build/arch/x86/boot/bzImage" "$build/.config" "$out.tmp/"
mv "$out.tmp/.config" "$out.tmp/config" 2>/dev/null || cp "$build/.config" "$out.tmp/config"
rm -rf "$out"; mv "$out.tmp" "$out"
log "kernel built in $(( $(date +%s) - start ))s: $out/bzImage"
echo "$out/bzImage"
