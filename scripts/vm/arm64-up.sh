#!/bin/sh
# First setup step of an arm64 guest's job (job.sh runs it; the job does not run if it fails). The guest sees
# the repository at its host path, with this machine's x86-64 addons in each package's build/Release, where
# the loader (node-gyp-build) looks first. Bind the arm64 builds (build/linux-arm64, cross-compiled by
# scripts/cross-addons.mjs before the boot) over them, so the packages load arm64 addons from the same paths.
set -e
[ "$(uname -m)" = aarch64 ] || { echo "zcopy-arm64: not an arm64 guest ($(uname -m))"; exit 1; }
repo=${ZCOPY_ARM64_REPO:?ZCOPY_ARM64_REPO is not set}
n=0
for d in "$repo"/packages/*/build/linux-arm64; do
  [ -d "$d" ] || continue
  rel="${d%/linux-arm64}/Release"
  mkdir -p "$rel"
  mount --bind "$d" "$rel"
  n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "zcopy-arm64: no arm64 addons under $repo/packages/*/build/linux-arm64"; exit 1; }
