// What the checks read about this machine: paths (under an optional fake root), opens, mounts, Xen facts.
import { readFileSync, statSync } from 'node:fs';
import { Fd } from '@zcopy/core';
import { CAPABILITIES_PATH, DEVXEN, GUEST_TYPE_PATH, isDom0 } from '@zcopy/xen';
import type { KernelConfig } from './kconfig.js';
import type { XenInfo } from './report.js';

export interface Context {
  /** Prefix for every path ('' on a real system; a fake tree in tests). */
  root: string;
  /** Node's process.arch, or the one a test gives. */
  arch: string;
  config: KernelConfig;
  xen: XenInfo;
  /** debugfs mount point, or null. */
  debugfs: string | null;
}

export type PathState = { kind: 'present' } | { kind: 'absent' } | { kind: 'error'; errno: string };

/** stat a path: present, absent (ENOENT/ENOTDIR), or why it could not be looked at (EACCES: e.g. debugfs as a user). */
export function statPath(ctx: Context, path: string): PathState {
  try {
    statSync(ctx.root + path, { bigint: true }); // bigint: the path may be a socket (nodejs/node#51142, see core's charDeviceOf)
    return { kind: 'present' };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    return code === 'ENOENT' || code === 'ENOTDIR' ? { kind: 'absent' } : { kind: 'error', errno: code };
  }
}

/** Open and close a node; null on success, else the errno name. */
export function tryOpen(ctx: Context, path: string, flags: number): string | null {
  try {
    Fd.open(ctx.root + path, flags).close();
    return null;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    throw e;
  }
}

/** A small text file (sysfs, procfs), trimmed; null if it cannot be read. */
export function readText(ctx: Context, path: string): string | null {
  try {
    return readFileSync(ctx.root + path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Read a file, or the errno name of the failure. */
export function readTextOrErrno(ctx: Context, path: string): { text: string } | { errno: string } {
  try {
    return { text: readFileSync(ctx.root + path, 'utf8').trim() };
  } catch (e) {
    return { errno: (e as NodeJS.ErrnoException).code ?? 'EIO' };
  }
}

// /proc/mounts escapes spaces and the like as \ooo.
const unescapeMount = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

/** Where debugfs is mounted (the conventional /sys/kernel/debug first), or null. */
export function findDebugfs(root: string): string | null {
  let mounts: string;
  try {
    mounts = readFileSync(`${root}/proc/mounts`, 'utf8');
  } catch {
    return null;
  }
  const points = mounts
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[2] === 'debugfs' && f[1])
    .map((f) => unescapeMount(f[1]!));
  return points.includes('/sys/kernel/debug') ? '/sys/kernel/debug' : (points[0] ?? null);
}

// XENFEAT_auto_translated_physmap (xen/interface/features.h): bit 2 of feature submap 0.
const XENFEAT_AUTO_TRANSLATED_PHYSMAP = 2;

/** Xen feature submap 0 (the last 8 hex digits of /sys/hypervisor/properties/features), null if unknown. */
export function readXenFeatures(root: string): number | null {
  const features = readText({ root } as Context, '/sys/hypervisor/properties/features');
  return features && /^[0-9a-f]+$/i.test(features) ? Number.parseInt(features.slice(-8), 16) : null;
}

/**
 * Xen facts from /sys/hypervisor (CONFIG_XEN_SYS_HYPERVISOR), /proc/xen (xenfs), /dev/xen and the balloon.
 * features is the submaps as hex, highest first, 8 digits each: submap 0 is the last 8.
 */
export function readXenInfo(root: string): XenInfo {
  const ctx = { root } as Context;
  const type = readText(ctx, '/sys/hypervisor/type');
  const caps = readText(ctx, CAPABILITIES_PATH);
  // Not /sys/bus/xen: a Xen-enabled kernel registers it on bare metal too. These exist only in a domain.
  const domain =
    type === 'xen' ||
    caps !== null ||
    statPath(ctx, DEVXEN).kind === 'present' ||
    statPath(ctx, '/sys/devices/system/xen_memory').kind === 'present';
  if (!domain) return { domain: false, guestType: null, dom0: false, autoTranslated: null };
  const guestType = readText(ctx, GUEST_TYPE_PATH) || null;
  let autoTranslated: boolean | null = null;
  const submap0 = readXenFeatures(root);
  if (submap0 !== null) autoTranslated = (submap0 & (1 << XENFEAT_AUTO_TRANSLATED_PHYSMAP)) !== 0;
  else if (guestType === 'PV') autoTranslated = false;
  else if (guestType === 'PVH' || guestType === 'HVM' || guestType === 'Xen') autoTranslated = true;
  return { domain, guestType, dom0: isDom0(root + CAPABILITIES_PATH), autoTranslated };
}

/** The name of the group owning `path` (from /etc/group), or null for root's group or when unknown. */
export function groupOf(ctx: Context, path: string): string | null {
  let gid: number;
  try {
    gid = statSync(ctx.root + path).gid;
  } catch {
    return null;
  }
  if (gid === 0) return null;
  const groups = readText(ctx, '/etc/group') ?? '';
  for (const line of groups.split('\n')) {
    const [name, , id] = line.split(':');
    if (name && Number(id) === gid) return name;
  }
  return String(gid);
}
