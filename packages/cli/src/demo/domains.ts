// Starting the demo's domUs from dom0 with @zcopy/xen's launcher (the image's kernel and a ramdisk holding this
// package and every package it depends on), and waiting until their agent says it is ready.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootDomU, domainEnd, isDeath, packageClosure } from '@zcopy/xen/domu';
import type { XenStore } from '@zcopy/xenstore';
import { DEMO_PACKAGES } from '../demo-packages.js';
import { Channel } from './channel.js';

const here = dirname(fileURLToPath(import.meta.url));
/** This package's directory (dist/demo → ../..). */
const packageDir = resolve(here, '..', '..');

export interface DomU {
  name: string;
  domid: number;
  channel: Channel;
  ready: unknown;
  /** Why the domain died, by xl's account ('reboot', 'crash', ...), or undefined while it runs or if it ended normally. */
  death(): string | undefined;
  destroy(): Promise<void>;
}

export interface StartOptions {
  type: 'pv' | 'pvh';
  /** The agent, a file of dist/demo. */
  agent: string;
  name: string;
  memMiB?: number;
  readyTimeoutMs?: number;
  /** Boots to try before giving up (a PVH boot under TCG sometimes crashes; see images/README.md). */
  attempts?: number;
  note?: (line: string) => void;
}

export async function startDomU(xs: XenStore, o: StartOptions): Promise<DomU> {
  let channel: Channel | undefined;
  const { domu, domid, ready } = await bootDomU({
    type: o.type,
    name: o.name,
    memMiB: o.memMiB ?? 512,
    // The demo's packages are optional peers of @zcopy/cli (not dependencies): named here, resolved from it.
    include: packageClosure([packageDir, ...DEMO_PACKAGES], packageDir),
    command: [process.execPath, join(here, o.agent)],
    attempts: o.attempts ?? 1,
    note: o.note,
    ready: async (d, gone) => {
      channel = new Channel(xs, await d.domid());
      return channel.receive('ready', o.readyTimeoutMs ?? 300_000, gone);
    },
  });
  const death = () => {
    const end = domainEnd(domu.name);
    return isDeath(end) ? end!.reason : undefined;
  };
  return { name: domu.name, domid, channel: channel!, ready, death, destroy: () => domu.destroy() };
}
