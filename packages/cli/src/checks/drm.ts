// DRM: one check per card and render node (driver, bus, PRIME caps), through @zcopy/drm-prime.

import { absenceReason, openFailure, reason } from '../reasons.js';
import type { Check, DrmCheckDetails } from '../report.js';
import { type Context, groupOf, statPath } from '../system.js';
import { available, unavailable } from './node.js';

type DrmModule = typeof import('@zcopy/drm-prime');
type NodeInfo = ReturnType<DrmModule['listDrmNodes']>[number];

const DIR = '/dev/dri';
const DRM = 'CONFIG_DRM';

export async function drmChecks(ctx: Context): Promise<Check[]> {
  const base = { id: 'drm', group: 'drm' as const, title: 'DRM devices', path: DIR, config: [DRM] };
  let nodes: NodeInfo[];
  try {
    // Loaded here, not at the top: a DRM addon that fails to load must not take the other checks down.
    const drm: DrmModule = await import('@zcopy/drm-prime');
    nodes = drm.listDrmNodes({ dir: ctx.root + DIR, sysfs: `${ctx.root}/sys` });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code))
      return [unavailable(base, openFailure(DIR, code))];
    return [
      unavailable(base, reason('internal', `could not probe DRM: ${(e as Error).message.split('\n')[0]}`)),
    ];
  }
  if (nodes.length === 0) return [unavailable(base, noNodes(ctx))];
  return nodes.map((n) => nodeCheck(ctx, n));
}

function noNodes(ctx: Context) {
  const why = absenceReason(ctx, { path: DIR, config: [DRM] });
  if (why.code !== 'node-absent') return why;
  // DRM is there but nothing is bound: no GPU. The GPU-less drivers are the usual way out.
  const virtual = ['CONFIG_DRM_VGEM', 'CONFIG_DRM_VKMS'];
  const modules = virtual.filter((o) => ctx.config.state(o) === 'm');
  if (modules.length)
    return reason(
      'module-not-loaded',
      `no DRM device: no GPU driver is bound, and ${modules.join(', ')}=m is not loaded (modprobe vgem / vkms)`,
      modules,
    );
  const present = statPath(ctx, DIR).kind === 'present' ? `${DIR} is empty` : `${DIR} does not exist`;
  return reason(
    'node-absent',
    `${present}: no GPU driver is bound, and no vgem or vkms (${virtual.join(', ')})`,
  );
}

function nodeCheck(ctx: Context, n: NodeInfo): Check {
  const path = n.path.slice(ctx.root.length);
  const kind = n.type === 'render' ? 'render node' : n.type === 'primary' ? 'card' : 'control node';
  const base = {
    id: `drm:${n.name}`,
    group: 'drm' as const,
    title: `DRM ${kind}${n.driver ? ` (${n.driver.name})` : ''}`,
    path,
    config: [DRM],
  };
  if (n.error || !n.driver)
    return unavailable(base, openFailure(path, n.error?.code ?? 'EIO', groupOf(ctx, path)));
  const cap = (v: number | null | undefined) => (v === null || v === undefined ? null : v !== 0);
  const details: DrmCheckDetails = {
    driver: n.driver.name,
    version: `${n.driver.major}.${n.driver.minor}.${n.driver.patchlevel}`,
    date: n.driver.date,
    desc: n.driver.desc,
    nodeType: n.type,
    bus: n.bus
      ? {
          subsystem: n.bus.subsystem,
          id: n.bus.id,
          pciSlot: n.bus.pci?.slot ?? null,
          pciId: n.bus.pci ? `${hex4(n.bus.pci.vendorId)}:${hex4(n.bus.pci.deviceId)}` : null,
        }
      : null,
    prime: n.prime,
    dumbBuffer: cap(n.caps?.DUMB_BUFFER),
    syncobj: cap(n.caps?.SYNCOBJ),
  };
  return available(base, null, details);
}

const hex4 = (n: number) => n.toString(16).padStart(4, '0');
