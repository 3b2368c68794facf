// Discovery: every card and render node under /dev/dri, opened just long enough to ask who drives it.
import { constants, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Fd, KernelError } from '@zcopy/core';
import { type DrmCaps, decodePrimeCaps, type PrimeCaps, readCaps } from './caps.js';
import { type DrmNode, describeNode, nodeTypeOfName, type SysfsOptions } from './node.js';
import { type DrmVersion, readVersion } from './version.js';

export interface ListOptions extends SysfsOptions {
  /** Where the nodes are (default '/dev/dri'). */
  dir?: string;
}

export interface DrmNodeInfo extends DrmNode {
  /** '/dev/dri/card0'. */
  path: string;
  /** The driver; null when the node could not be opened (see `error`). */
  driver: DrmVersion | null;
  /** DRM_CAP_PRIME decoded; null when the node could not be opened. */
  prime: PrimeCaps | null;
  /** Every known cap (null entries: not answered by this driver); null when the node could not be opened. */
  caps: DrmCaps | null;
  /** Why the node could not be opened or queried (EACCES for a user outside the video/render group…). */
  error: KernelError | null;
}

/**
 * Cards and render nodes under /dev/dri, sorted (cards first, then render nodes, by number). A missing
 * directory is an empty list (no DRM driver bound); a node that cannot be opened is listed with `error`.
 */
export function listDrmNodes(options: ListOptions = {}): DrmNodeInfo[] {
  const dir = options.dir ?? '/dev/dri';
  if (typeof dir !== 'string') throw new TypeError('dir must be a string');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const nodes = names
    .filter((n) => nodeTypeOfName(n) !== null)
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b, 'en', { numeric: true }));
  const out: DrmNodeInfo[] = [];
  for (const name of nodes) {
    const path = join(dir, name);
    let node: DrmNode | null;
    try {
      node = describeNode(path, options);
    } catch {
      continue; // vanished between readdir and stat (hot unplug)
    }
    if (!node) continue;
    out.push({ ...node, path, ...probe(path) });
  }
  return out;
}

function rank(name: string): number {
  return nodeTypeOfName(name) === 'primary' ? 0 : 1;
}

function probe(path: string): Pick<DrmNodeInfo, 'driver' | 'prime' | 'caps' | 'error'> {
  try {
    // Opened the way DrmDevice.open does (read-write), without a DrmDevice: discovery stays below device.ts.
    using fd = Fd.open(path, constants.O_RDWR);
    const driver = readVersion(fd.fd);
    const caps = readCaps(fd.fd);
    return {
      driver,
      prime: caps.PRIME === null ? null : decodePrimeCaps(caps.PRIME),
      caps,
      error: null,
    };
  } catch (e) {
    if (e instanceof KernelError) return { driver: null, prime: null, caps: null, error: e };
    throw e;
  }
}
