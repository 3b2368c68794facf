#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine that has Node.js (>= 20) and npm: Debian packages for the native build and
# the VM rig, pnpm at the version package.json pins, the workspace's npm packages, and a build of every package.
# Idempotent and quick on a second run (dpkg checks, pnpm's lockfile check, turbo's cache).
set -euo pipefail
cd "$(dirname "$0")/.."
source images/lib.sh

need_pkgs build-essential python3 libdrm-dev libxen-dev qemu-system-x86 busybox-static cpio linux-source-6.1 \
  flex bison bc libelf-dev libssl-dev ccache xz-utils strace
# The release's linux-arm64 addons: cross-compiled here, loaded by an arm64 Node under qemu-user (test/packaging).
need_pkgs g++-aarch64-linux-gnu qemu-user-static
# The arm64 VM rig (scripts/vm --arch arm64, npm test's arm64 phase): the cross-built kernel and selftests, QEMU
# for arm64, the device tree Xen boots with. (Its recipes check for these too, for use outside npm test.)
need_pkgs gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm device-tree-compiler

want=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if [ "$(pnpm --version 2>/dev/null || true)" != "$want" ]; then
  echo "[setup] installing pnpm $want" >&2
  npm install -g --silent "pnpm@$want" >/dev/null 2>&1 || npm install -g "pnpm@$want"
fi

pnpm install --frozen-lockfile --prefer-offline --reporter=silent
# Quiet on success: the build log is shown only when it fails.
log=$(mktemp)
if ! node scripts/turbo.mjs run build --output-logs=errors-only > "$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
