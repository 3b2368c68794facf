// Xen: grant mapping (gntdev) and its dma-buf export, grant allocation, event channels, XenStore, balloon.
import { constants } from 'node:fs';
import { kernelConfigReason, missingOptions, openFailure, reason } from '../reasons.js';
import type { Check } from '../report.js';
import { type Context, readTextOrErrno } from '../system.js';
import { available, checkNode, unavailable } from './node.js';

const XEN = 'CONFIG_XEN';
const CPU_ACCESS_PARAM = '/sys/module/xen_gntdev/parameters/dmabuf_cpu_access';

export function xenChecks(ctx: Context): Check[] {
  const node = (id: string, title: string, path: string, option: string | null) =>
    checkNode(ctx, {
      id,
      group: 'xen',
      title,
      path,
      config: option ? [XEN, option] : [XEN],
      xen: true,
      flags: constants.O_RDWR,
    });
  const gntdev = node('gntdev', 'Xen grant mapping (gntdev)', '/dev/xen/gntdev', 'CONFIG_XEN_GNTDEV');
  return [
    gntdev,
    gntdevDmabuf(ctx, gntdev),
    node('gntalloc', 'Xen grant allocation (gntalloc)', '/dev/xen/gntalloc', 'CONFIG_XEN_GRANT_DEV_ALLOC'),
    node('evtchn', 'Xen event channels (evtchn)', '/dev/xen/evtchn', 'CONFIG_XEN_DEV_EVTCHN'),
    node('xenbus', 'XenStore access (xenbus)', '/dev/xen/xenbus', null),
    balloon(ctx),
  ];
}

// gntdev's dma-buf ioctls: built with CONFIG_XEN_GNTDEV_DMABUF, and export (EXP_FROM_REFS) refuses with EINVAL
// unless the domain is auto-translated (gntdev maps through PTEs in x86 PV: use_ptemod).
function gntdevDmabuf(ctx: Context, gntdev: Check): Check {
  const config = [XEN, 'CONFIG_XEN_GNTDEV', 'CONFIG_XEN_GNTDEV_DMABUF'];
  const base = {
    id: 'gntdev-dmabuf',
    group: 'xen' as const,
    title: 'Xen grant ⇄ dma-buf (gntdev dma-buf)',
    path: gntdev.path,
    config,
  };
  const missing = missingOptions(ctx, config);
  if (missing.length) return unavailable(base, kernelConfigReason(ctx, missing));
  if (!gntdev.available && gntdev.reason) return unavailable(base, gntdev.reason);
  const { guestType, autoTranslated } = ctx.xen;
  if (autoTranslated === false)
    return unavailable(
      base,
      reason(
        'xen-domain-type',
        `this is a ${guestType ?? 'PV'} domain, which is not auto-translated: gntdev exports dma-bufs only from PVH or HVM domains on x86 (IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS fails with EINVAL)`,
      ),
    );
  const notes: string[] = [];
  // The zcopy images' gntdev patches (images/README.md) show as this parameter; without them an x86 kernel fails
  // the export in PVH/HVM too (it asks Xen for GNTMAP_device_map), and its exports offer no CPU access.
  const param = readTextOrErrno(ctx, CPU_ACCESS_PARAM);
  const cpuAccess = 'errno' in param ? 'unsupported' : /^[Y1]/.test(param.text.trim()) ? 'on' : 'off';
  // (On arm64, the seeds' hardware, neither restriction exists: only x86 gets the warning.)
  if (cpuAccess === 'unsupported' && (ctx.arch === 'x64' || ctx.arch === 'ia32'))
    notes.push(
      'this kernel lacks the zcopy gntdev patches: on x86 an upstream kernel asks Xen for GNTMAP_device_map, which ' +
        'Xen refuses in PVH/HVM domains (export fails with EINVAL), and its exports cannot be mmapped or shown by ' +
        'vkms; see images/README.md',
    );
  else
    notes.push(
      `zcopy gntdev patches present; CPU access to exports is ${cpuAccess} (xen_gntdev.dmabuf_cpu_access)`,
    );
  if (ctx.config.state('CONFIG_XEN_GNTDEV_DMABUF') === 'unknown')
    notes.push('no kernel config to read: CONFIG_XEN_GNTDEV_DMABUF not verified');
  if (autoTranslated === null)
    notes.push('domain type unknown (no /sys/hypervisor): export needs PVH or HVM');
  return available(base, notes.length ? notes.join('; ') : null, { cpuAccess });
}

const BALLOON = '/sys/devices/system/xen_memory/xen_memory0';

function balloon(ctx: Context): Check {
  const dir = checkNodeLikeDir(ctx);
  if (!dir.available) return dir;
  const target = readTextOrErrno(ctx, `${BALLOON}/target_kb`);
  if ('errno' in target) return unavailable(dir, openFailure(`${BALLOON}/target_kb`, target.errno));
  const current = readTextOrErrno(ctx, `${BALLOON}/info/current_kb`);
  return available(dir, null, {
    targetKb: Number(target.text),
    currentKb: 'text' in current ? Number(current.text) : null,
  });
}

// The balloon is a sysfs directory, not a node: a stat tells presence (its target_kb is then read).
function checkNodeLikeDir(ctx: Context): Check {
  return checkNode(ctx, {
    id: 'balloon',
    group: 'xen',
    title: 'Xen balloon (sysfs)',
    path: BALLOON,
    config: [XEN, 'CONFIG_XEN_BALLOON'],
    xen: true,
    flags: constants.O_RDONLY | constants.O_DIRECTORY,
  });
}
