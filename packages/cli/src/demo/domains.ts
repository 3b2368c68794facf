// Starting the demo's domUs from dom0 with the repo's scripts/vm/xen-domu.sh (the image's kernel and a ramdisk
// holding the packages), and waiting until their agent says it is ready.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TimeoutError } from '@zcopy/core';
import type { XenStore } from '@zcopy/xenstore';
import { Channel } from './channel.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
/** packages/ of the repo this file was built in (dist/demo → ../../..). */
export const packagesDir = resolve(here, '..', '..', '..');
const domuScript = join(packagesDir, '..', 'scripts', 'vm', 'xen-domu.sh');
// What the agents import: cli and every package it reaches (node_modules links stay relative).
const includes = [
  'cli',
  'core',
  'dma-buf',
  'dma-fence',
  'drm-prime',
  'drm-kms',
  'grant-table',
  'gntdev-dmabuf',
  'balloon-dma',
  'xenstore',
];

class DomainGone extends Error {}

/** Rejects with DomainGone once the domain no longer exists (crashed during boot: on_crash=destroy). */
async function whenGone(name: string, signal: AbortSignal): Promise<never> {
  for (;;) {
    await new Promise((r) => setTimeout(r, 3000));
    if (signal.aborted) return new Promise<never>(() => {});
    const alive = await run('xl', ['domid', name]).then(
      () => true,
      () => false,
    );
    if (!alive && !signal.aborted) throw new DomainGone(`domain ${name} went away before it was ready`);
  }
}

export interface DomU {
  name: string;
  domid: number;
  channel: Channel;
  ready: unknown;
  destroy(): Promise<void>;
}

async function consoleTail(name: string): Promise<string> {
  const text = await readFile(`/var/log/xen/console/guest-${name}.log`, 'utf8').catch(() => '');
  return text.split('\n').slice(-25).join('\n');
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
  const attempts = o.attempts ?? 1;
  for (let attempt = 1; ; attempt++) {
    const name = attempts > 1 ? `${o.name}-${attempt}` : o.name;
    const args = ['start', '--type', o.type, '--mem', String(o.memMiB ?? 512), '--name', name];
    for (const p of includes) args.push('--include', join(packagesDir, p));
    args.push('--', process.execPath, join(here, o.agent));
    await run(domuScript, args);
    const destroy = () =>
      run('xl', ['destroy', name]).then(
        () => {},
        () => {},
      );
    const gone = new AbortController();
    try {
      // Inside the retry: a guest that crashes at once is gone before its domid is read.
      const domid = await run('xl', ['domid', name]).then(
        (r) => Number(r.stdout.trim()),
        () => {
          throw new DomainGone(`domain ${name} went away right after xl create`);
        },
      );
      const channel = new Channel(xs, domid);
      const receiving = channel.receive('ready', o.readyTimeoutMs ?? 180_000, gone.signal);
      receiving.catch(() => {}); // the loser of the race below rejects unobserved once `gone` aborts
      const ready = await Promise.race([receiving, whenGone(name, gone.signal)]);
      return { name, domid, channel, ready, destroy };
    } catch (e) {
      const tail = await consoleTail(name);
      await destroy();
      if (!(e instanceof TimeoutError || e instanceof DomainGone) || attempt >= attempts)
        throw new Error(
          `domU ${name} (${o.type}) never became ready: ${String(e)}\n--- its console ---\n${tail}`,
        );
      o.note?.(
        `domU ${name} did not come up (${String(e)}); booting it again. Its console ended:\n${tail.split('\n').slice(-5).join('\n')}`,
      );
    } finally {
      gone.abort();
    }
  }
}
