#!/bin/bash
# Start a Linux domU from dom0 (inside a xen-mode VM job) that runs one command and reports back.
#
#   xen-domu.sh run   [opts] -- <command...>   start, wait, print the domU job's output, exit with its status
#   xen-domu.sh start [opts] -- <command...>   start only; prints the domain name (for several domUs at once)
#   xen-domu.sh wait  <name> [--timeout S]     wait for a started domU; output and status as for run
# opts: --type pv|pvh (default pv; on arm64 pvh, the only kind of Xen guest there)  --mem MiB (512)  --vcpus N (1)  --name NAME  --timeout S (120, run only)
#       --include DIR (repeatable: copied into the domU at the same path)  --cwd DIR (default /)
#       --env K=V (repeatable)
#
# Experiments: ZCOPY_DOMU_EXTRA appends kernel arguments, ZCOPY_DOMU_CFG appends lines to the xl config (e.g.
# 'tsc_mode="native"').
#
# The domU boots the same kernel as dom0 ($ZCOPY_KERNEL) from a ramdisk: the prebuilt base (busybox, node and
# its libraries: $ZCOPY_DOMU_BASE) plus a cpio made here with the includes, an init and the job. Its console
# (hvc0) is logged by xenconsoled to /var/log/xen/console/guest-<name>.log; init prints the job's output
# between markers and then its exit status, and powers off (on_poweroff/crash/reboot = destroy).
set -euo pipefail

die() { echo "xen-domu: $*" >&2; exit 125; }
# Every exec in a PV dom0 under TCG costs 0.1-1 s, so this script sticks to bash builtins where it can.
now() { local up _; read -r up _ < /proc/uptime; echo "$up"; }
# ZCOPY_DOMU_VERBOSE=1: stage timestamps (dom0 uptime) on stderr
stage() { [ -z "${ZCOPY_DOMU_VERBOSE:-}" ] || echo "xen-domu: $(now)s $*" >&2; }
q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; } # single-quote for sh
LOGDIR=/var/log/xen/console
STATE=/run/zcopy-domu

# Waits for the domU's exit marker in its console log, then for the domain to go; prints the job's output
# and exits with its status (125 and the console tail if it never reported one).
wait_domu() { # name timeout-seconds
  local name=$1 log="$LOGDIR/guest-$1.log" deadline=$((SECONDS + $2)) rc="" out="" line started=""
  while [ -z "$rc" ]; do
    if [ -f "$log" ]; then
      out="" started=""
      while IFS= read -r line || [ -n "$line" ]; do
        line=${line%$'\r'}
        case "$line" in
          '@@zcopy-domu-start@@') started=1 ;;
          '@@zcopy-domu-exit '*'@@') rc=${line#@@zcopy-domu-exit }; rc=${rc%@@} ;;
          *) [ -n "$started" ] && [ -z "$rc" ] && out+="$line"$'\n' ;;
        esac
      done < "$log"
    fi
    [ -n "$rc" ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
      xl destroy "$name" 2>/dev/null || true
      failed "$name" "$log" "timed out after $2s"
    fi
    # Check less often that it still exists (xl is a costly exec here).
    if [ $((SECONDS % 3)) = 0 ] && ! xl domid "$name" >/dev/null 2>&1; then
      [ -f "$log" ] && grep -q '^@@zcopy-domu-exit' "$log" && continue # it reported just before going
      failed "$name" "$log" "ended"
    fi
    sleep 0.3
  done
  stage "$name reported exit status $rc"
  local i=0
  while xl domid "$name" >/dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -lt 20 ] || { xl destroy "$name" 2>/dev/null || true; break; }
    sleep 0.5
  done
  [ -z "${ZCOPY_DOMU_VERBOSE:-}" ] || cat "$log" >&2
  rm -rf "${STATE:?}/$name"
  printf '%s' "$out"
  exit "$rc"
}

failed() { # name log why
  echo "xen-domu: domU $1 $3 without reporting an exit status; its console:" >&2
  tail -n 40 "$2" >&2 2>/dev/null || echo "(no console log at $2)" >&2
  exit 125
}

sub=${1:-}; shift || true
case "$sub" in
  wait)
    name=${1:?wait needs a domain name}; shift
    timeout=120
    [ "${1:-}" = --timeout ] && timeout=$2
    wait_domu "$name" "$timeout" ;;
  run|start) ;;
  *) sed -n '2,20p' "$0" >&2; exit 2 ;;
esac

type=pv mem=512 vcpus=1 name="zdomu-$$-$RANDOM" timeout=120 cwd=/
[ "$(uname -m)" = aarch64 ] && type=pvh
includes=() envs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --type) type=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --vcpus) vcpus=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --include) includes+=("$(readlink -f "$2")"); shift 2 ;;
    --cwd) cwd=$2; shift 2 ;;
    --env) envs+=("$2"); shift 2 ;;
    --) shift; break ;;
    *) die "unknown option $1" ;;
  esac
done
[ $# -gt 0 ] || die "no command given"
case "$type" in pv|pvh) ;; *) die "--type must be pv or pvh" ;; esac
[ "$type" = pv ] && [ "$(uname -m)" = aarch64 ] && die "--type pv does not exist on arm64 (every Xen arm guest is pvh)"
: "${ZCOPY_KERNEL:?ZCOPY_KERNEL unset: run this inside a xen-mode VM job}"
: "${ZCOPY_DOMU_BASE:?ZCOPY_DOMU_BASE unset: run this inside a xen-mode VM job}"

stage "building the ramdisk for $name ($type)"
work="$STATE/$name"
r="$work/root"
mkdir -p "$r"
for d in "${includes[@]}"; do mkdir -p "$r${d%/*}"; cp -a "$d" "$r$d"; done
# The base ramdisk's /init (images/build-domu-base.sh) runs /job.sh and reports on the console.
{
  echo '#!/bin/sh'
  for kv in "${envs[@]}"; do echo "export ${kv%%=*}=$(q "${kv#*=}")"; done
  echo "cd $(q "$cwd") || exit 126"
  printf 'exec'; for a in "$@"; do printf ' %s' "$(q "$a")"; done; echo
} > "$r/job.sh"
# Appended after the base: the kernel unpacks both (the base is padded to 512 bytes for this).
(cd "$r" && find . | cpio -o -H newc --quiet) | cat "$ZCOPY_DOMU_BASE" - > "$work/ramdisk.cpio"

cat > "$work/domu.cfg" <<EOF
name = "$name"
type = "$type"
kernel = "$ZCOPY_KERNEL"
ramdisk = "$work/ramdisk.cpio"
extra = "console=hvc0 quiet panic=-1 rdinit=/init initramfs_async=0${ZCOPY_DOMU_EXTRA:+ $ZCOPY_DOMU_EXTRA}"
memory = $mem
vcpus = $vcpus
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
${ZCOPY_DOMU_CFG:-}
EOF
stage "xl create"
[ -e "$LOGDIR/guest-$name.log" ] && rm -f "$LOGDIR/guest-$name.log"
xl create "$work/domu.cfg" > "$work/create.log" 2>&1 || { rm -rf "$r" "$work/ramdisk.cpio"; cat "$work/create.log" >&2; die "xl create failed for $name ($work/domu.cfg)"; }
# The domain is built: Xen has the kernel and ramdisk in its memory. Drop our copies now, whoever ends the
# domain later (wait, xl destroy): each ramdisk holds the ~95 MB base, and dom0's /run is a tmpfs of half its
# memory, so a few domUs that were destroyed instead of waited for filled it ("No space left on device").
rm -rf "$r" "$work/ramdisk.cpio"
stage "created"
if [ "$sub" = start ]; then echo "$name"; exit 0; fi
wait_domu "$name" "$timeout"
