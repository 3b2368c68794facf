# Shared helpers for the image scripts (sourced, not run).
set -euo pipefail
ZCOPY_CACHE=${ZCOPY_CACHE:-$HOME/.cache/zcopy}
IMAGES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$ZCOPY_CACHE"

log() { printf '[images] %s\n' "$*" >&2; }
die() { printf '[images] error: %s\n' "$*" >&2; exit 1; }

# Hash of the given files' names and contents: the cache key of a recipe.
recipe_hash() {
  (cd "$IMAGES_DIR" && for f in "$@"; do printf '%s\n' "$f"; cat "$f"; done) | sha256sum | cut -c1-16
}

need_pkgs() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Debian keeps the Xen 4.17 tools in /usr/lib/xen-4.17/bin behind a wrapper that checks the running hypervisor:
# link the real binaries into <root>/usr/local/sbin, which is on the guests' PATH.
xen_tools_on_path() {
  local r=$1 b
  mkdir -p "$r/usr/local/sbin"
  for b in xl xenstored xenconsoled xen-init-dom0 xenconsole; do
    [ -x "$r/usr/lib/xen-4.17/bin/$b" ] || die "missing $b in the Xen packages"
    ln -sf "/usr/lib/xen-4.17/bin/$b" "$r/usr/local/sbin/$b"
  done
}

# The end of a fetch recipe built in <out>.tmp: drop the downloaded debs, put the tree in place, print its root.
publish_fetched() {
  local out=$1
  rm -rf "$out.tmp/debs"
  rm -rf "$out"; mv "$out.tmp" "$out"
  echo "$out/root"
}
