// VM: fds passed between processes and threads over unix sockets (SCM_RIGHTS), as the guest kernel does it:
// another process (child_process, the socket its fd 3) and worker threads; a path listened on and connected to;
// MSG_CTRUNC when a message carries more fds than the receiver takes; and hugetlb memfds from the guest's
// reserved huge pages.
import { readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// Functions sent to the child (peer.run) are sent as source: no `using` in them (its helpers would not exist
// there), no references to anything outside them.
import {
  EventFd,
  KernelError,
  Memfd,
  openFdCount,
  receiveFds,
  UnixServer,
  UnixSocket,
  WrongFdError,
} from '../src/index.js';
import { procFdCount } from './helpers.js';
import { type FdPeer, packagesDir, spawnFdPeer } from './peer.js';

let peer: FdPeer | undefined;
afterEach(async () => {
  await peer?.stop();
  peer = undefined;
});

describe('fds across processes (SCM_RIGHTS)', () => {
  it('a memfd sent to a child is the same file there: it writes, the parent reads', async () => {
    peer = spawnFdPeer();
    using m = Memfd.create('shared', { size: 4096 });
    const received = peer.run(async (ctx) => {
      const { fds, data } = await ctx.socket().receiveFds({ as: [ctx.core.Memfd], timeoutMs: 10_000 });
      const m = fds[0];
      const map = m.map();
      map.buffer.write('written by the child');
      map.unmap();
      const out = { data: data.toString(), size: m.size, owned: m.owned };
      m.close();
      return out;
    });
    await peer.socket.sendFds([m], { data: 'take this' });
    expect(await received).toEqual({ data: 'take this', size: 4096, owned: true });
    using map = m.map();
    expect(map.buffer.toString('utf8', 0, 20)).toBe('written by the child');
  });

  it('a child sends fds back: an eventfd it signals later, received as an EventFd and awaited here', async () => {
    peer = spawnFdPeer();
    const sent = peer.run(async (ctx) => {
      const e = ctx.core.EventFd.create();
      ctx.state.e = e;
      await ctx.socket().sendFds([e], { data: 'eventfd' });
      return 'sent';
    });
    const { fds, data } = await peer.socket.receiveFds({ as: [EventFd], timeoutMs: 10_000 });
    using e = fds[0];
    expect(await sent).toBe('sent');
    expect(data.toString()).toBe('eventfd');
    const waiting = e.wait({ timeoutMs: 10_000 });
    await peer.run((ctx) => {
      (ctx.state.e as EventFd).write(42);
    });
    await waiting;
    expect(e.read()).toBe(42n);
  });

  it('MSG_CTRUNC: more fds than the child takes is ERR_ZCOPY_FDS_TRUNCATED there, with no fd left open', async () => {
    peer = spawnFdPeer();
    const before = await peer.run(
      () => process.getBuiltinModule('node:fs').readdirSync('/proc/self/fd').length,
    );
    expect(before).toBeGreaterThan(3);
    const answer = peer.run(async (ctx) => {
      try {
        await ctx.socket().receiveFds({ as: [ctx.core.EventFd], timeoutMs: 10_000 });
        return 'received';
      } catch (e) {
        return (e as { code: string }).code;
      }
    });
    using a = EventFd.create();
    using b = EventFd.create();
    using c = EventFd.create();
    await peer.socket.sendFds([a, b, c]);
    expect(await answer).toBe('ERR_ZCOPY_FDS_TRUNCATED');
    const after = await peer.run(
      () => process.getBuiltinModule('node:fs').readdirSync('/proc/self/fd').length,
    );
    expect(after).toBe(before);
    // The fds the child dropped are gone from its side only: ours are intact.
    a.write(1);
    expect(a.read()).toBe(1n);
  });

  it('a wrong kind in the message: WrongFdError in the child naming the fd, every fd closed', async () => {
    peer = spawnFdPeer();
    const answer = peer.run(async (ctx) => {
      const fs = process.getBuiltinModule('node:fs');
      const before = fs.readdirSync('/proc/self/fd').length;
      try {
        await ctx.socket().receiveFds({ as: [ctx.core.EventFd, ctx.core.Memfd], timeoutMs: 10_000 });
        return { outcome: 'received' };
      } catch (e) {
        const err = e as { name: string; code: string; message: string };
        return {
          name: err.name,
          code: err.code,
          message: err.message,
          leaked: fs.readdirSync('/proc/self/fd').length - before,
        };
      }
    });
    using e = EventFd.create();
    await peer.socket.sendFds([e, e]);
    const r = await answer;
    expect(r).toMatchObject({ name: 'WrongFdError', code: 'ERR_ZCOPY_WRONG_FD', leaked: 0 });
    expect((r as { message: string }).message).toMatch(/is anon_inode:\[eventfd\], not a memfd$/);
  });

  it('a path: the parent listens (UnixServer), the child connects and sends its fd over the connection', async () => {
    peer = spawnFdPeer();
    const path = join(tmpdir(), `zcopy-fd-passing-${process.pid}.sock`);
    using server = UnixServer.listen(path);
    const accepted = server.accept({ timeoutMs: 10_000 });
    const sent = peer.run(async (ctx, p: string) => {
      const s = ctx.core.UnixSocket.connect(p);
      const m = ctx.core.Memfd.create('from-the-child', { size: 8192 });
      await s.sendFds([m], { data: 'over a path' });
      m.close();
      s.close();
      return 'sent';
    }, path);
    using conn = await accepted;
    const { fds, data } = await conn.receiveFds({ as: [Memfd], timeoutMs: 10_000 });
    using m = fds[0];
    expect(await sent).toBe('sent');
    expect(data.toString()).toBe('over a path');
    expect(m.size).toBe(8192);
    expect(readlinkTarget(m.fd)).toBe('/memfd:from-the-child (deleted)');
    // Connecting to a path nobody listens on is the kernel's refusal, with the path.
    expect(() => UnixSocket.connect(`${path}.absent`)).toThrow(
      expect.objectContaining({ name: 'KernelError', code: 'ENOENT', syscall: 'connect' }),
    );
  });

  it('the child exits: the parent sees ERR_ZCOPY_PEER_CLOSED, and sending to it is EPIPE', async () => {
    peer = spawnFdPeer();
    const p = peer;
    peer = undefined;
    const sock = p.socket;
    const stopping = p.run(() => process.exit(0)).catch(() => 'exited');
    await expect(receiveFds(sock, { timeoutMs: 10_000 })).rejects.toMatchObject({
      code: 'ERR_ZCOPY_PEER_CLOSED',
    });
    await stopping;
    using e = EventFd.create();
    await expect(sock.sendFds([e])).rejects.toMatchObject({ name: 'KernelError', code: 'EPIPE' });
    sock.close();
  });
});

describe('fds across worker threads', () => {
  it('a worker adopts one end of a pair and sends back a memfd it made; nothing leaks when it exits', async () => {
    const tracked = openFdCount();
    const fdsBefore = procFdCount();
    const [mine, theirs] = UnixSocket.pair();
    using _mine = mine;
    const fd = theirs.detachFd(); // the worker owns it from here
    const worker = new Worker(
      `
      const { workerData, parentPort } = require('node:worker_threads');
      (async () => {
        const core = await import(workerData.core);
        const s = core.UnixSocket.adopt(workerData.fd);
        const m = core.Memfd.create('from-a-worker', { size: 4096 });
        const map = m.map();
        map.buffer.write('worker');
        map.unmap();
        await s.sendFds([m], { data: 'memfd' });
        m.close();
        const { fds } = await s.receiveFds({ as: [core.EventFd], timeoutMs: 10000 });
        fds[0].write(7);
        fds[0].close();
        s.close();
        parentPort.postMessage('done');
      })().catch((e) => parentPort.postMessage(String(e)));
      `,
      { eval: true, workerData: { fd, core: join(packagesDir, 'core', 'dist', 'index.js') } },
    );
    const done = new Promise((r) => worker.once('message', r));
    const { fds, data } = await mine.receiveFds({ as: [Memfd], timeoutMs: 20_000 });
    using m = fds[0];
    expect(data.toString()).toBe('memfd');
    using map = m.map();
    expect(map.buffer.toString('utf8', 0, 6)).toBe('worker');
    using e = EventFd.create();
    await mine.sendFds([e]);
    expect(await done).toBe('done');
    expect(e.read()).toBe(7n);
    await worker.terminate();
    map.unmap();
    m.close();
    e.close();
    mine.close();
    expect(openFdCount()).toBe(tracked);
    expect(procFdCount()).toBe(fdsBefore);
  });

  it('a worker terminated while it waits for fds: its end is closed by the core, the parent sees the peer close', async () => {
    const [mine, theirs] = UnixSocket.pair();
    using _mine = mine;
    const fd = theirs.detachFd();
    const worker = new Worker(
      `
      const { workerData, parentPort } = require('node:worker_threads');
      (async () => {
        const core = await import(workerData.core);
        const s = core.UnixSocket.adopt(workerData.fd);
        parentPort.postMessage('waiting');
        await s.receiveFds();
      })();
      `,
      { eval: true, workerData: { fd, core: join(packagesDir, 'core', 'dist', 'index.js') } },
    );
    await new Promise((r) => worker.once('message', r));
    await worker.terminate();
    await expect(mine.receiveFds({ timeoutMs: 10_000 })).rejects.toMatchObject({
      code: 'ERR_ZCOPY_PEER_CLOSED',
    });
  });
});

describe('hugetlb memfds (the guest reserves 2 MiB huge pages at boot)', () => {
  const HUGE = 2 * 1024 * 1024;
  let freeBefore: number;
  beforeEach(() => {
    freeBefore = freeHugePages();
  });

  it('the guest has huge pages reserved', () => {
    expect(freeBefore).toBeGreaterThanOrEqual(4);
  });

  it('MFD_HUGETLB: a memfd of 2 MiB pages, sized in them, allocated from the pool and given back at close', () => {
    for (const hugetlb of [true, '2MB'] as const) {
      const m = Memfd.create('huge', { hugetlb, size: 2 * HUGE, seals: ['shrink'] });
      expect(m.hugetlb).toBe(true);
      expect(m.pageSize).toBe(HUGE);
      expect(m.size).toBe(2 * HUGE);
      expect(m.seals).toEqual(['shrink']);
      expect(m.allocatedBytes).toBe(0); // huge pages come from the pool when touched or allocated
      m.allocate();
      expect(m.allocatedBytes).toBe(2 * HUGE);
      expect(freeHugePages()).toBe(freeBefore - 2);
      const map = m.map();
      map.buffer.fill(0x5a, HUGE - 1, HUGE + 1);
      expect(map.buffer[HUGE]).toBe(0x5a);
      map.unmap();
      m.close();
      expect(freeHugePages()).toBe(freeBefore);
    }
    using plain = Memfd.create('plain', { size: 4096 });
    expect(plain.hugetlb).toBe(false);
    expect(plain.pageSize).toBe(4096);
  });

  it("a size that is not a multiple of the huge page: the kernel's EINVAL, with the rule", () => {
    const err = catchError(() => Memfd.create('odd', { hugetlb: true, size: HUGE + 4096 }));
    expect(err).toBeInstanceOf(KernelError);
    expect(err).toMatchObject({ code: 'EINVAL', syscall: 'ftruncate' });
    expect((err as Error).message).toContain('multiple of its huge page size');
  });

  it('more huge pages than the pool has free: fallocate ENOSPC, with the rule', () => {
    using m = Memfd.create('too-big', { hugetlb: true, size: (freeBefore + 1) * HUGE });
    const err = catchError(() => m.allocate());
    expect(err).toMatchObject({ name: 'KernelError', code: 'ENOSPC', syscall: 'fallocate' });
    expect((err as Error).message).toContain('too few free huge pages');
  });

  it('a huge page size the machine does not have: the kernel refuses memfd_create, with the rule', () => {
    const err = catchError(() => Memfd.create('no-such-size', { hugetlb: '16GB' }));
    expect(err).toBeInstanceOf(KernelError);
    expect((err as KernelError).syscall).toBe('memfd_create');
    expect(['EINVAL', 'ENODEV', 'ENOENT']).toContain((err as KernelError).code);
    expect(() => Memfd.create('bad', { hugetlb: '3MB' as never })).toThrow(TypeError);
  });

  it('a hugetlb memfd travels to a child like any other: the child sees the bytes in the same huge page', async () => {
    peer = spawnFdPeer();
    using m = Memfd.create('huge-shared', { hugetlb: true, size: HUGE });
    using map = m.map();
    map.buffer.write('in a huge page', 4096);
    const answer = peer.run(async (ctx) => {
      const { fds } = await ctx.socket().receiveFds({ as: [ctx.core.Memfd], timeoutMs: 10_000 });
      const m = fds[0];
      const map = m.map();
      const text = map.buffer.toString('utf8', 4096, 4096 + 14);
      map.unmap();
      const out = { text, hugetlb: m.hugetlb, pageSize: m.pageSize };
      m.close();
      return out;
    });
    await peer.socket.sendFds([m]);
    expect(await answer).toEqual({ text: 'in a huge page', hugetlb: true, pageSize: HUGE });
  });

  it('Memfd.adopt of a hugetlb memfd is a memfd (its seals answer); of a regular file, a WrongFdError', () => {
    using m = Memfd.create('huge-adopt', { hugetlb: true, size: HUGE });
    using d = Memfd.dup(m);
    expect(d.hugetlb).toBe(true);
    using f = EventFd.create();
    expect(() => Memfd.borrow(f)).toThrow(WrongFdError);
  });
});

function freeHugePages(): number {
  const m = /HugePages_Free:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) : 0;
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

function readlinkTarget(fd: number): string {
  return readlinkSync(`/proc/self/fd/${fd}`);
}
