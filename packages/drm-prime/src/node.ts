// Which DRM node an fd or path is (card / renderD, device number) and the bus device behind it, from sysfs.
import { existsSync, fstatSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** primary: /dev/dri/cardN (modesetting, master); render: /dev/dri/renderDN (unprivileged rendering, PRIME). */
export type DrmNodeType = 'primary' | 'render' | 'control';

export interface DrmPciInfo {
  /** Domain:bus:device.function, e.g. '0000:00:02.0'. */
  slot: string;
  vendorId: number;
  deviceId: number;
  subsystemVendorId: number | null;
  subsystemDeviceId: number | null;
  revision: number | null;
}

export interface DrmBus {
  /** The parent device's bus: 'pci', 'platform', 'virtio', 'usb', … (basename of its sysfs subsystem link). */
  subsystem: string;
  /** The parent device's name on that bus, e.g. '0000:00:02.0', 'vgem', 'virtio0'. */
  id: string;
  /** Its sysfs directory (card and render node of one device share it). */
  sysfsPath: string;
  /** The PCI function the device sits on (itself, or an ancestor such as virtio-gpu's virtio-pci), if any. */
  pci: DrmPciInfo | null;
}

export interface DrmNode {
  /** 'card0', 'renderD128'. */
  name: string;
  type: DrmNodeType;
  major: number;
  minor: number;
  bus: DrmBus | null;
}

export interface SysfsOptions {
  /** Where sysfs is mounted (default '/sys'). */
  sysfs?: string;
}

// Linux dev_t encoding (glibc's gnu_dev_major/minor): 12+20 bits of major, 8+24 bits of minor.
function splitDev(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

/** The device number of the char device behind an fd or path (null if it is not a char device). */
export function charDeviceNumber(target: number | string): { major: number; minor: number } | null {
  const st =
    typeof target === 'number' ? fstatSync(target, { bigint: true }) : statSync(target, { bigint: true });
  return st.isCharacterDevice() ? splitDev(st.rdev) : null;
}

function typeOf(name: string): DrmNodeType | null {
  if (/^card\d+$/.test(name)) return 'primary';
  if (/^renderD\d+$/.test(name)) return 'render';
  if (/^controlD\d+$/.test(name)) return 'control';
  return null;
}

// Without sysfs: the kernel's fixed minor ranges (64 per type).
function nameFromMinor(minor: number): { name: string; type: DrmNodeType } {
  if (minor >= 128) return { name: `renderD${minor}`, type: 'render' };
  if (minor >= 64) return { name: `controlD${minor}`, type: 'control' };
  return { name: `card${minor}`, type: 'primary' };
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

function readHex(file: string): number | null {
  const t = readText(file);
  if (t === null) return null;
  const n = Number.parseInt(t, 16);
  return Number.isNaN(n) ? null : n;
}

function subsystemOf(dir: string): string | null {
  try {
    return basename(readlinkSync(join(dir, 'subsystem')));
  } catch {
    return null;
  }
}

function pciInfo(dir: string): DrmPciInfo | null {
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    if (subsystemOf(d) !== 'pci') continue;
    const vendorId = readHex(join(d, 'vendor'));
    const deviceId = readHex(join(d, 'device'));
    if (vendorId === null || deviceId === null) return null;
    return {
      slot: basename(d),
      vendorId,
      deviceId,
      subsystemVendorId: readHex(join(d, 'subsystem_vendor')),
      subsystemDeviceId: readHex(join(d, 'subsystem_device')),
      revision: readHex(join(d, 'revision')),
    };
  }
  return null;
}

function busOf(nodeDir: string): DrmBus | null {
  const devLink = join(nodeDir, 'device');
  if (!existsSync(devLink)) return null;
  const sysfsPath = realpathSync(devLink);
  return {
    subsystem: subsystemOf(sysfsPath) ?? 'unknown',
    id: basename(sysfsPath),
    sysfsPath,
    pci: pciInfo(sysfsPath),
  };
}

/** Describe the DRM node behind an fd or a path; null when it is not a char device. */
export function describeNode(target: number | string, options: SysfsOptions = {}): DrmNode | null {
  const num = charDeviceNumber(target);
  if (!num) return null;
  const sysfs = options.sysfs ?? '/sys';
  let nodeDir: string | null = null;
  try {
    nodeDir = realpathSync(join(sysfs, 'dev', 'char', `${num.major}:${num.minor}`));
  } catch {
    // sysfs not mounted, or a device number sysfs does not know
  }
  // Prefer sysfs's name; else the path's own name (a node made with mknod elsewhere); else the minor ranges.
  const named = (n: string) => {
    const t = typeOf(n);
    return t ? { name: n, type: t } : null;
  };
  const { name, type } =
    (nodeDir ? named(basename(nodeDir)) : null) ??
    (typeof target === 'string' ? named(basename(target)) : null) ??
    nameFromMinor(num.minor);
  return { name, type, major: num.major, minor: num.minor, bus: nodeDir ? busOf(nodeDir) : null };
}

/** Node type from a /dev/dri entry name (null for anything else there, such as by-path/). */
export function nodeTypeOfName(name: string): DrmNodeType | null {
  return typeOf(name);
}
