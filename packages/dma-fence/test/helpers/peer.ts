// Another process holding one of our fds (as its fd 3), answering commands: see fixtures/fence-peer.cjs.
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { FdLike } from '@zcopy/core';
import { fdOf } from '@zcopy/core';

const here = dirname(fileURLToPath(import.meta.url));
export const addonPath = join(here, '..', '..', 'build', 'Release', 'zcopy_dma_fence.node');

export interface Peer {
  /** Sends one command and resolves with its one-line answer. */
  ask(command: string): Promise<string>;
  /** The child's pid. */
  pid: number;
  stop(): Promise<void>;
}

export function spawnPeer(target: FdLike): Peer {
  const child: ChildProcess = spawn(
    process.execPath,
    [join(here, '..', 'fixtures', 'fence-peer.cjs'), addonPath],
    {
      stdio: ['pipe', 'pipe', 'inherit', fdOf(target)],
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  return {
    pid: child.pid!,
    ask(command) {
      return new Promise((resolve, reject) => {
        waiting.push(resolve);
        child.stdin!.write(`${command}\n`, (err) => err && reject(err));
      });
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin!.end();
      });
    },
  };
}
