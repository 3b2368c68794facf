#!/bin/bash
# Start a Linux domU from dom0 (inside a xen-mode VM job) that runs one command and reports back.
#
#   xen-domu.sh run   [opts] -- <command...>   start, wait, print the domU job's output, exit with its status
#   xen-domu.sh start [opts] -- <command...>   start only; prints the domain name (for several domUs at once)
#   xen-domu.sh wait  <name> [--timeout S]     wait for a started domU; output and status as for run
# opts: --type pv|pvh (default pv)  --mem MiB (512)  --vcpus N (1)  --name NAME  --timeout S (120, run only)
#       --include DIR (repeatable: copied into the domU at the same path)  --cwd DIR (default /)
#       --env K=V (repeatable)
#
# The domU boots the same kernel as dom0 ($ZCOPY_KERNEL) from a ramdisk: the prebuilt base (busybox, node and
# its libraries: $ZCOPY_DOMU_BASE) plus a cpio made here with the includes, an init and the job. Its console
# (hvc0) is logged by xenconsoled to /var/log/xen/console/guest-<name>.log; init prints the job's output
# between markers and then its exit status, and powers off (on_poweroff/crash/reboot = destroy).
set -euo pipefail

die() { echo "xen-domu: $*" >&2; exit 125; }
LOGDIR=/var/log/xen/console
STATE=/run/zcopy-domu

wait_domu() { # name timeout
  local name=$1 timeout=$2 log="$LOGDIR/guest-$1.log" t=0
  while xl domid "$name" >/dev/null 2>&1; do
    [ "$t" -lt $((timeout * 5)) ] || { xl destroy "$name" 2>/dev/null || true; report "$name" "$log" timeout; return; }
    sleep 0.2; t=$((t + 1))
  done
  report "$name" "$log" ended
}

report() { # name log how
  local rc
  rc=$(tr -d '\r' < "$2" 2>/dev/null | sed -n 's/^@@zcopy-domu-exit \([0-9]*\)@@$/\1/p' | tail -1)
  if [ -n "$rc" ]; then
    tr -d '\r' < "$2" | sed -n '/^@@zcopy-domu-start@@$/,/^@@zcopy-domu-exit/p' | sed '1d;$d'
    exit "$rc"
  fi
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
  *) sed -n '2,17p' "$0" >&2; exit 2 ;;
esac

type=pv mem=512 vcpus=1 name="zdomu-$$-$RANDOM" timeout=120 cwd=/
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
: "${ZCOPY_KERNEL:?ZCOPY_KERNEL unset: run this inside a xen-mode VM job}"
: "${ZCOPY_DOMU_BASE:?ZCOPY_DOMU_BASE unset: run this inside a xen-mode VM job}"

work="$STATE/$name"
rm -rf "$work"; mkdir -p "$work/root"
r="$work/root"
for d in "${includes[@]}"; do mkdir -p "$r$(dirname "$d")"; cp -a "$d" "$r$d"; done
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
  echo '#!/bin/sh'
  for kv in "${envs[@]}"; do echo "export ${kv%%=*}=$(q "${kv#*=}")"; done
  echo "cd $(q "$cwd") || exit 126"
  printf 'exec'; for a in "$@"; do printf ' %s' "$(q "$a")"; done; echo
} > "$r/job.sh"
cat > "$r/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin HOME=/root
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm; mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
[ -d /proc/xen ] && mount -t xenfs xenfs /proc/xen 2>/dev/null
echo "@@zcopy-domu-start@@"
sh /job.sh < /dev/null 2>&1
echo "@@zcopy-domu-exit $?@@"
poweroff -f
EOF
chmod +x "$r/init" "$r/job.sh"
(cd "$r" && find . | cpio -o -H newc --quiet) > "$work/extra.cpio"
cat "$ZCOPY_DOMU_BASE" "$work/extra.cpio" > "$work/ramdisk.cpio"
rm -rf "$r" "$work/extra.cpio"

cat > "$work/domu.cfg" <<EOF
name = "$name"
type = "$type"
kernel = "$ZCOPY_KERNEL"
ramdisk = "$work/ramdisk.cpio"
extra = "console=hvc0 quiet panic=-1 rdinit=/init"
memory = $mem
vcpus = $vcpus
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
EOF
rm -f "$LOGDIR/guest-$name.log"
xl -q create "$work/domu.cfg" >/dev/null || die "xl create failed for $name ($work/domu.cfg)"
if [ "$sub" = start ]; then echo "$name"; exit 0; fi
wait_domu "$name" "$timeout"
