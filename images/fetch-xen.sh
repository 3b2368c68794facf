#!/usr/bin/env bash
# Xen 4.17 hypervisor + toolstack from Debian's packages, extracted (not installed) into the cache. The tree is
# laid over the 9p host root in dom0 as an overlay lower layer, so xl, xenstored & co. run with no host install.
# Output: $ZCOPY_CACHE/xen/<hash>/root (boot/xen = the uncompressed multiboot hypervisor); prints that dir.
source "$(dirname "$0")/lib.sh"

need_pkgs dpkg-dev

# Everything `xl create` needs beyond what a Debian 12 base system already has (see Depends of xen-utils-4.17).
pkgs=(xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common xenstore-utils
      libxenmisc4.17 libxenstore4 libxencall1 libxendevicemodel1 libxenevtchn1 libxenforeignmemory1
      libxengnttab1 libxentoolcore1 libxentoollog1 libxenhypfs1 libyajl2)

cd "$IMAGES_DIR"
vers=$(apt-cache policy "${pkgs[@]}" | awk '/^[^ ]/{p=$1} /Candidate:/{print p, $2}')
if echo "$vers" | grep -q '(none)'; then
  log "updating apt lists"; ${SUDO:-$( [ "$(id -u)" = 0 ] || echo sudo )} apt-get update -qq >/dev/null
  vers=$(apt-cache policy "${pkgs[@]}" | awk '/^[^ ]/{p=$1} /Candidate:/{print p, $2}')
fi
key=$( { recipe_hash fetch-xen.sh lib.sh; echo "$vers"; } | sha256sum | cut -c1-16)
out="$ZCOPY_CACHE/xen/$key"
if [ -s "$out/root/boot/xen" ]; then echo "$out/root"; exit 0; fi

log "fetching Xen packages: ${pkgs[*]}"
rm -rf "$out.tmp"; mkdir -p "$out.tmp/debs" "$out.tmp/root"
# apt downloads as _apt, which cannot enter a private cache dir; as root, let it stay root.
sandbox=(); [ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
(cd "$out.tmp/debs" && apt-get download -qq "${sandbox[@]}" "${pkgs[@]}" >/dev/null) || die "apt-get download failed"
for d in "$out.tmp"/debs/*.deb; do dpkg-deb -x "$d" "$out.tmp/root"; done
r="$out.tmp/root"
xen_gz=$(ls "$r"/boot/xen-4.17*.gz | head -1)
[ -f "$xen_gz" ] || die "no hypervisor in xen-hypervisor-4.17-amd64"
gunzip -c "$xen_gz" > "$r/boot/xen" # QEMU's multiboot loader needs the ELF itself
xen_tools_on_path "$r"
publish_fetched "$out"
