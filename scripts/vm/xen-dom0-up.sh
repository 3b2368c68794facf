#!/bin/sh
# Brings up the Xen toolstack in dom0 before a xen-mode job (job.sh runs this first; the job does not run if
# it fails). The tools come from the extracted Debian packages laid over the host root (images/fetch-xen.sh).
# xenconsoled logs every domU console to /var/log/xen/console/guest-<name>.log: xen-domu.sh reads results there.
set -e
if ! grep -q control_d /proc/xen/capabilities 2>/dev/null; then
  echo "zcopy-xen: not running as Xen dom0 (no control_d in /proc/xen/capabilities)"
  exit 1
fi
t0=$(cut -d' ' -f1 /proc/uptime)
mkdir -p /run/xen /run/xenstored /var/lib/xenstored /var/lib/xen /var/log/xen/console

xenstored --pid-file /run/xen/xenstored.pid
i=0
until xenstore-read -s / >/dev/null 2>&1; do
  i=$((i + 1))
  [ "$i" -lt 200 ] || { echo "zcopy-xen: xenstored did not come up"; exit 1; }
  sleep 0.1
done
xen-init-dom0 >/dev/null
# devpts is mounted by images/init: xenconsoled needs ptys, else `xl create` waits for it forever.
xenconsoled --pid-file=/run/xen/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console
echo "zcopy-xen: toolstack up (dom0 uptime ${t0}s -> $(cut -d' ' -f1 /proc/uptime)s)"
