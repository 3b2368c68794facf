// VM: sw_sync timelines and their fences across processes and threads, passed over unix sockets (SCM_RIGHTS)
// as IGT's sw_sync tests do with a forked child; and the timeline refused at open when the file is not sw_sync.
import { Worker } from 'node:worker_threads';
import { EventFd, openFdCount, UnixSocket, WrongFdError } from '@zcopy/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type FdPeer, packagesDir, spawnFdPeer } from '../../core/test/peer.js';
import { SwSyncTimeline, SyncFile } from '../src/index.js';

let peer: FdPeer | undefined;

/** The child receives one sync_file, waits on it (async, from its own loop), closes it and answers the status. */
const childWaitsForFence = (p: FdPeer) =>
  p.run(async (ctx) => {
    const { SyncFile } = await ctx.load('dma-fence');
    const { fds } = await ctx.socket().receiveFds({ as: [SyncFile], timeoutMs: 10_000 });
    const fence = fds[0] as SyncFile;
    const status = await fence.wait({ timeoutMs: 10_000 });
    fence.close();
    return status;
  });
afterEach(async () => {
  await peer?.stop();
  peer = undefined;
});

describe('a timeline in another process (SCM_RIGHTS)', () => {
  it("the child adopts the timeline it is sent and advances it; the parent's fence signals", async () => {
    peer = spawnFdPeer();
    using tl = SwSyncTimeline.open();
    using f = tl.createFence(2);
    const adopted = peer.run(async (ctx) => {
      const { SwSyncTimeline } = await ctx.load('dma-fence');
      const { fds } = await ctx.socket().receiveFds({ as: [SwSyncTimeline], timeoutMs: 10_000 });
      ctx.state.tl = fds[0];
      return (fds[0] as SwSyncTimeline).constructor.name;
    });
    await peer.socket.sendFds([tl]);
    expect(await adopted).toBe('SwSyncTimeline');
    tl.close(); // the child's fd keeps the timeline alive
    expect(f.status.state).toBe('active');
    const waiting = f.wait({ timeoutMs: 10_000 });
    await peer.run((ctx) => (ctx.state.tl as SwSyncTimeline).inc(1));
    expect(f.status.state).toBe('active');
    await peer.run((ctx) => (ctx.state.tl as SwSyncTimeline).inc(1));
    await expect(waiting).resolves.toEqual({ state: 'signaled' });
  });

  it('the child makes fences on a timeline it was sent and sends them back; the parent waits on them', async () => {
    peer = spawnFdPeer();
    using tl = SwSyncTimeline.open();
    const made = peer.run(async (ctx) => {
      const { SwSyncTimeline } = await ctx.load('dma-fence');
      const sock = ctx.socket();
      const { fds } = await sock.receiveFds({ as: [SwSyncTimeline], timeoutMs: 10_000 });
      const tl = fds[0] as SwSyncTimeline;
      const a = tl.createFence(1, 'child-1');
      const b = tl.createFence(5, 'child-5');
      await sock.sendFds([a, b], { data: 'two fences' });
      a.close();
      b.close();
      tl.close();
      return 'sent';
    });
    await peer.socket.sendFds([tl]);
    const { fds, data } = await peer.socket.receiveFds({ as: [SyncFile, SyncFile], timeoutMs: 10_000 });
    const [a, b] = fds;
    using _a = a;
    using _b = b;
    expect(await made).toBe('sent');
    expect(data.toString()).toBe('two fences');
    expect(a.info().name).toBe('child-1');
    expect(b.info().name).toBe('child-5');
    tl.inc(1);
    await expect(a.wait({ timeoutMs: 5000 })).resolves.toEqual({ state: 'signaled' });
    expect(b.status.state).toBe('active');
    tl.inc(4);
    await expect(b.wait({ timeoutMs: 5000 })).resolves.toEqual({ state: 'signaled' });
  });

  it('a fence sent to a child: the child waits (async) and sees the parent signal it', async () => {
    peer = spawnFdPeer();
    using tl = SwSyncTimeline.open();
    using f = tl.createFence(1);
    const waited = childWaitsForFence(peer);
    await peer.socket.sendFds([f]);
    await new Promise((r) => setTimeout(r, 50));
    tl.inc(1);
    expect(await waited).toEqual({ state: 'signaled' });
  });

  it('the timeline closed everywhere while a child holds its fence: the child sees ENOENT', async () => {
    peer = spawnFdPeer();
    const tl = SwSyncTimeline.open();
    using f = tl.createFence(1);
    const waited = childWaitsForFence(peer);
    await peer.socket.sendFds([f]);
    tl.close();
    expect(await waited).toMatchObject({ state: 'error', code: 'ENOENT' });
  });

  it('a sync_file where the child expects a timeline: WrongFdError there, every fd of the message closed', async () => {
    peer = spawnFdPeer();
    const answer = peer.run(async (ctx) => {
      const { SwSyncTimeline } = await ctx.load('dma-fence');
      const fs = process.getBuiltinModule('node:fs');
      const before = fs.readdirSync('/proc/self/fd').length;
      try {
        await ctx.socket().receiveFds({ as: [SwSyncTimeline, SwSyncTimeline], timeoutMs: 10_000 });
        return { outcome: 'received' };
      } catch (e) {
        const err = e as { name: string; code: string; message: string; cause?: { code?: string } };
        const leaked = fs.readdirSync('/proc/self/fd').length - before;
        return { name: err.name, code: err.code, message: err.message, cause: err.cause?.code, leaked };
      }
    });
    using tl = SwSyncTimeline.open();
    using f = tl.createFence(1);
    await peer.socket.sendFds([tl, f]);
    const r = (await answer) as Record<string, unknown>;
    expect(r).toMatchObject({ name: 'WrongFdError', code: 'ERR_ZCOPY_WRONG_FD', cause: 'ENOTTY', leaked: 0 });
    expect(r.message).toMatch(/is anon_inode:sync_file, not a sw_sync timeline$/);
    // The parent's own fds are untouched.
    tl.inc(1);
    expect(f.status.state).toBe('signaled');
  });
});

describe('a timeline in a worker thread', () => {
  it('a worker receives the timeline over a socket pair and advances it from its own event loop', async () => {
    const tracked = openFdCount();
    const [mine, theirs] = UnixSocket.pair();
    const fd = theirs.detachFd();
    const worker = new Worker(
      `
      const { workerData, parentPort } = require('node:worker_threads');
      (async () => {
        const core = await import(workerData.core);
        const { SwSyncTimeline } = await import(workerData.fence);
        const s = core.UnixSocket.adopt(workerData.fd);
        const { fds } = await s.receiveFds({ as: [SwSyncTimeline], timeoutMs: 10000 });
        setTimeout(() => { fds[0].inc(3); fds[0].close(); s.close(); parentPort.postMessage('advanced'); }, 50);
      })().catch((e) => parentPort.postMessage(String(e)));
      `,
      {
        eval: true,
        workerData: {
          fd,
          core: `${packagesDir}/core/dist/index.js`,
          fence: `${packagesDir}/dma-fence/dist/index.js`,
        },
      },
    );
    const tl = SwSyncTimeline.open();
    using f = tl.createFence(3);
    await mine.sendFds([tl]);
    tl.close();
    const said = new Promise((r) => worker.once('message', r));
    await expect(f.wait({ timeoutMs: 10_000 })).resolves.toEqual({ state: 'signaled' });
    expect(await said).toBe('advanced');
    await worker.terminate();
    mine.close();
    f.close();
    expect(openFdCount()).toBe(tracked);
  });
});

describe('the timeline refused at open when it is the wrong file', () => {
  it('open(/dev/null) fails there, not at the first createFence: WrongFdError naming /dev/null, closed again', () => {
    const tracked = openFdCount();
    let err: unknown;
    try {
      SwSyncTimeline.open('/dev/null');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WrongFdError);
    expect(err).toMatchObject({ code: 'ERR_ZCOPY_WRONG_FD', expected: 'a sw_sync timeline' });
    expect((err as Error).message).toMatch(
      /^fd \d+ is \/dev\/null \(char 1:3, mem\/null\), not a sw_sync timeline$/,
    );
    expect((err as Error).cause).toMatchObject({
      name: 'KernelError',
      code: 'ENOTTY',
      request: 'SW_SYNC_IOC_INC',
    });
    expect(openFdCount()).toBe(tracked);
    // Another debugfs file is not a timeline either.
    expect(() => SwSyncTimeline.open('/sys/kernel/debug/sync/info')).toThrow(
      /is \/sys\/kernel\/debug\/sync\/info, not a sw_sync timeline/,
    );
  });

  it('adopt, borrow and dup: a real timeline is taken (inc(0) probes it, no fence moves); anything else refused', () => {
    using tl = SwSyncTimeline.open();
    using f = tl.createFence(1);
    using d = SwSyncTimeline.dup(tl);
    using b = SwSyncTimeline.borrow(tl);
    expect(b.owned).toBe(false);
    expect(f.status.state).toBe('active'); // the probes advanced nothing
    b.inc(1);
    expect(f.status.state).toBe('signaled');
    using g = d.createFence(3); // the same timeline: at 1 now
    tl.inc(2);
    expect(g.status.state).toBe('signaled');
    using e = EventFd.create();
    expect(() => SwSyncTimeline.adopt(e.fd)).toThrow(WrongFdError);
    expect(() => SwSyncTimeline.borrow(f)).toThrow(/is anon_inode:sync_file, not a sw_sync timeline/);
    expect(() => SyncFile.adopt(tl.fd)).toThrow(/is \/sys\/kernel\/debug\/sync\/sw_sync, not a sync_file/);
    const raw = SwSyncTimeline.dup(tl).detachFd();
    using adopted = SwSyncTimeline.adopt(raw);
    expect(adopted.owned).toBe(true);
  });

  it('a dup keeps the timeline alive after the original is closed (fences stay active, not ENOENT)', () => {
    const tl = SwSyncTimeline.open();
    using f = tl.createFence(1);
    const d = SwSyncTimeline.dup(tl);
    tl.close();
    expect(f.status.state).toBe('active');
    d.close();
    expect(f.status).toMatchObject({ state: 'error', code: 'ENOENT' });
  });
});
