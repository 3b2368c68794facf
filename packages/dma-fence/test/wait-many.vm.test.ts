// VM: waits on many fences, many waiters, the event loop while waiting, and fd hygiene over many cycles.
import { activePollers, openFdCount, TimeoutError } from '@zcopy/core';
import { afterEach, describe, expect, it } from 'vitest';
import { SwSyncTimeline, type SyncFile, waitAll, waitAny } from '../src/index.js';
import { procFdCount } from './helpers/fds.js';
import { spawnPeer } from './helpers/peer.js';

afterEach(() => {
  expect(activePollers()).toBe(0);
});

function closeAll(fences: SyncFile[]) {
  for (const f of fences) f.close();
}

describe('waitAny', () => {
  it('resolves with the fence that signals while waiting, across timelines', async () => {
    const tls = [SwSyncTimeline.open(), SwSyncTimeline.open(), SwSyncTimeline.open()];
    const fences = tls.map((tl) => tl.createFence(1));
    try {
      const any = waitAny(fences, { timeoutMs: 5000 });
      setTimeout(() => tls[1]!.inc(), 20);
      const r = await any;
      expect(r.index).toBe(1);
      expect(r.fence).toBe(fences[1]);
      expect(r.status).toEqual({ state: 'signaled' });
      expect(fences[0]!.status.state).toBe('active');
    } finally {
      closeAll(fences);
      for (const tl of tls) tl.close();
    }
  });

  it('of fences that signalled before the call, picks the earliest signal, not the lowest index', async () => {
    const tls = [SwSyncTimeline.open(), SwSyncTimeline.open(), SwSyncTimeline.open()];
    const fences = tls.map((tl) => tl.createFence(1));
    try {
      tls[2]!.inc();
      tls[0]!.inc();
      expect(fences[2]!.signaledAtNs!).toBeLessThan(fences[0]!.signaledAtNs!);
      const r = await waitAny(fences, { timeoutMs: 0 });
      expect(r.index).toBe(2);
    } finally {
      closeAll(fences);
      for (const tl of tls) tl.close();
    }
  });

  it('reports a fence signalled with an error, and times out when nothing signals', async () => {
    const a = SwSyncTimeline.open();
    using b = SwSyncTimeline.open();
    using fa = a.createFence(1);
    using fb = b.createFence(1);
    await expect(waitAny([fa, fb], { timeoutMs: 30 })).rejects.toBeInstanceOf(TimeoutError);
    const any = waitAny([fb, fa]);
    a.close();
    await expect(any).resolves.toMatchObject({ index: 1, status: { state: 'error', code: 'ENOENT' } });
  });

  it('takes raw fd numbers too', async () => {
    using tl = SwSyncTimeline.open();
    using f = tl.createFence(1);
    const any = waitAny([f.fd]);
    tl.inc();
    await expect(any).resolves.toMatchObject({ index: 0, fence: f.fd });
  });
});

describe('waitAll', () => {
  it('resolves once every fence has signalled, with each status', async () => {
    const tls = [SwSyncTimeline.open(), SwSyncTimeline.open()];
    const fences = [tls[0]!.createFence(1), tls[1]!.createFence(2)];
    try {
      let settled = false;
      const all = waitAll(fences, { timeoutMs: 5000 }).finally(() => {
        settled = true;
      });
      tls[0]!.inc();
      await new Promise((r) => setTimeout(r, 30));
      expect(settled).toBe(false);
      tls[1]!.inc(2);
      await expect(all).resolves.toEqual([{ state: 'signaled' }, { state: 'signaled' }]);
    } finally {
      closeAll(fences);
      for (const tl of tls) tl.close();
    }
  });

  it('times out as a whole, stopping every per-fence wait', async () => {
    using tl = SwSyncTimeline.open();
    const fences = [tl.createFence(1), tl.createFence(2)];
    try {
      tl.inc();
      const err = await waitAll(fences, { timeoutMs: 30 }).catch((e) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect(err.message).toContain('waitAll');
    } finally {
      closeAll(fences);
    }
  });
});

describe('scale and the event loop', () => {
  it('1,000 concurrent waits on 1,000 fences all resolve, in timeline order', async () => {
    using tl = SwSyncTimeline.open();
    const fences = Array.from({ length: 1000 }, (_, i) => tl.createFence(i + 1));
    try {
      const order: number[] = [];
      const waits = fences.map((f, i) => f.wait({ timeoutMs: 20_000 }).then(() => order.push(i)));
      expect(activePollers()).toBe(1000);
      tl.inc(500);
      await Promise.all(waits.slice(0, 500));
      expect(order).toHaveLength(500);
      expect(fences[500]!.status.state).toBe('active');
      tl.inc(500);
      await Promise.all(waits);
      expect(new Set(order).size).toBe(1000);
      expect(order.slice(0, 500).every((i) => i < 500)).toBe(true);
    } finally {
      closeAll(fences);
    }
  });

  it('1,000 concurrent waits on one fence share one poller and all resolve', async () => {
    using tl = SwSyncTimeline.open();
    using f = tl.createFence(1);
    const waits = Array.from({ length: 1000 }, () => f.wait({ timeoutMs: 20_000 }));
    expect(activePollers()).toBe(1);
    tl.inc();
    const results = await Promise.all(waits);
    expect(results.every((s) => s.state === 'signaled')).toBe(true);
  });

  it('timers keep firing during a long wait on a fence another process signals', async () => {
    using tl = SwSyncTimeline.open();
    using f = tl.createFence(1);
    const peer = spawnPeer(tl);
    try {
      expect(await peer.ask('inc-later 600 1')).toBe('scheduled');
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 10);
      const t0 = performance.now();
      const status = await f.wait({ timeoutMs: 10_000 });
      const elapsed = performance.now() - t0;
      clearInterval(ticker);
      expect(status).toEqual({ state: 'signaled' });
      expect(elapsed).toBeGreaterThanOrEqual(300);
      // A free loop ticks about every 10 ms; a blocked one could not tick at all until the wait returned.
      expect(ticks).toBeGreaterThan(elapsed / 10 / 4);
    } finally {
      await peer.stop();
    }
  });

  it('waitSync, by contrast, holds the thread: no timer fires however long it waits', async () => {
    using tl = SwSyncTimeline.open();
    using f = tl.createFence(1);
    const peer = spawnPeer(tl);
    try {
      expect(await peer.ask('inc-later 400 1')).toBe('scheduled');
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 10);
      const t0 = performance.now();
      expect(f.waitSync({ timeoutMs: 10_000 })).toEqual({ state: 'signaled' });
      const elapsed = performance.now() - t0;
      const during = ticks;
      clearInterval(ticker);
      expect(elapsed).toBeGreaterThanOrEqual(200);
      expect(during).toBe(0);
    } finally {
      await peer.stop();
    }
  });

  it('no fd growth over 10,000 create/merge/wait/close cycles', async () => {
    using tl = SwSyncTimeline.open();
    // Warm up lazily-opened fds (vitest, the addon) before counting.
    tl.createFence(0).close();
    const procBefore = procFdCount();
    const trackedBefore = openFdCount();
    let timeline = 0;
    for (let i = 1; i <= 10_000; i++) {
      const a = tl.createFence(i);
      const b = tl.createFence(i + 1);
      const m = a.merge(b, 'm');
      if (i % 1000 === 0) {
        // Every 1000th merge is waited on through a poller; the others are closed active or already signalled.
        const w = m.wait({ timeoutMs: 10_000 });
        tl.inc(i + 1 - timeline);
        timeline = i + 1;
        expect(await w).toEqual({ state: 'signaled' });
      }
      a.close();
      b.close();
      m.close();
    }
    expect(procFdCount()).toBe(procBefore);
    expect(openFdCount()).toBe(trackedBefore);
  }, 180_000);
});
