// A child process holding the other end of a unix socket pair (its fd 3), running functions this process
// sends it (fixtures/fd-peer.mjs). The child loads the packages' dist/ builds: run `pnpm build` first.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { UnixSocket, type UnixSocketType } from '@zcopy/core';

const here = dirname(fileURLToPath(import.meta.url));
export const packagesDir = resolve(here, '..', '..');

/** What a function run in the child gets: the core's public API, a package loader, its end of the socket. */
export interface PeerContext {
  core: typeof import('@zcopy/core');
  // biome-ignore lint/suspicious/noExplicitAny: the child imports built packages by path
  load(name: string): Promise<any>;
  socket(): UnixSocket;
  /** Kept between calls (objects the child holds on to). */
  state: Record<string, unknown>;
}

export interface FdPeer {
  /** This process's end of the socket. */
  socket: UnixSocket;
  pid: number;
  /** Runs `fn` (its source is sent: it must not close over anything) in the child with `arg`; its result, as JSON. */
  run<A, R>(fn: (ctx: PeerContext, arg: A) => R | Promise<R>, arg?: A): Promise<Awaited<R>>;
  stop(): Promise<number | null>;
}

export function spawnFdPeer(type: UnixSocketType = 'seqpacket'): FdPeer {
  for (const p of ['core'])
    if (!existsSync(join(packagesDir, p, 'dist', 'index.js')))
      throw new Error(`packages/${p}/dist is missing: run \`pnpm build\` before the fd-passing tests`);
  const [mine, theirs] = UnixSocket.pair(type);
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [join(here, 'fixtures', 'fd-peer.mjs'), packagesDir], {
      stdio: ['pipe', 'pipe', 'inherit', theirs.fd],
    });
  } finally {
    theirs.close(); // the child has its own copy (its fd 3)
  }
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  let next = 1;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const msg = JSON.parse(line) as {
      id: number;
      ok: boolean;
      result?: unknown;
      error?: Record<string, string>;
    };
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.ok) p?.resolve(msg.result);
    else p?.reject(Object.assign(new Error(msg.error?.message), msg.error));
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.once('exit', () => {
    for (const p of pending.values()) p.reject(new Error('the peer process exited'));
    pending.clear();
  });
  return {
    socket: mine,
    pid: child.pid!,
    run(fn, arg) {
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.stdin!.write(`${JSON.stringify({ id, code: fn.toString(), arg })}\n`);
      });
    },
    async stop() {
      mine.close();
      if (child.exitCode === null) child.stdin!.end();
      return exited;
    },
  };
}
