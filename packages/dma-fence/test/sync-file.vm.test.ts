// VM: sync_file semantics on real sw_sync timelines (status, info, merge, waits, close).
import { readFileSync } from 'node:fs';
import { activePollers, ClosedError, KernelError, TimeoutError } from '@zcopy/core';
import { afterEach, describe, expect, it } from 'vitest';
import { SwSyncTimeline, SyncFile } from '../src/index.js';
import { syncFileFdCount } from './helpers/fds.js';

const comm = readFileSync('/proc/self/comm', 'utf8').trim();

afterEach(() => {
  expect(activePollers()).toBe(0);
});

describe('one timeline', () => {
  it('a fence per step signals exactly when the timeline reaches it, and wait() resolves then', async () => {
    using tl = SwSyncTimeline.open();
    const fences = [1, 2, 3, 4, 5].map((v) => tl.createFence(v));
    try {
      for (let step = 1; step <= 5; step++) {
        // Before the step: this fence and all later ones are active, and a short wait times out.
        for (let v = step; v <= 5; v++) expect(fences[v - 1]!.status).toEqual({ state: 'active' });
        await expect(fences[step - 1]!.wait({ timeoutMs: 20 })).rejects.toBeInstanceOf(TimeoutError);
        const waiting = fences[step - 1]!.wait({ timeoutMs: 5000 });
        tl.inc(1);
        await expect(waiting).resolves.toEqual({ state: 'signaled' });
        for (let v = 1; v <= 5; v++)
          expect(fences[v - 1]!.status.state).toBe(v <= step ? 'signaled' : 'active');
      }
    } finally {
      for (const f of fences) f.close();
    }
  });

  it('info() names the timeline, driver and signal time of the fence', () => {
    using tl = SwSyncTimeline.open();
    using f = tl.createFence(2);
    const before = f.info();
    expect(before.status).toEqual({ state: 'active' });
    expect(before.fences).toEqual([
      { timeline: comm, driver: 'sw_sync', status: { state: 'active' }, timestampNs: 0n },
    ]);
    // Unnamed: the kernel's "<driver>-<timeline><context>-<seqno>".
    expect(before.name.startsWith(`sw_sync-${comm}`)).toBe(true);
    expect(before.name.slice(`sw_sync-${comm}`.length)).toMatch(/^\d+-2$/);
    expect(f.signaledAtNs).toBeUndefined();
    const t0 = process.hrtime.bigint();
    tl.inc(2);
    const t1 = process.hrtime.bigint();
    const after = f.info();
    expect(after.status).toEqual({ state: 'signaled' });
    // The kernel timestamps on CLOCK_MONOTONIC, the clock of process.hrtime.
    expect(after.fences[0]!.timestampNs).toBeGreaterThanOrEqual(t0);
    expect(after.fences[0]!.timestampNs).toBeLessThanOrEqual(t1);
    expect(f.signaledAtNs).toBe(after.fences[0]!.timestampNs);
  });

  it('createFence(value, name) gives a sync_file of that name holding the one fence', () => {
    using tl = SwSyncTimeline.open();
    const fdsBefore = syncFileFdCount();
    using f = tl.createFence(1, 'frame-1');
    expect(syncFileFdCount()).toBe(fdsBefore + 1); // the unnamed intermediate is closed
    const info = f.info();
    expect(info.name).toBe('frame-1');
    expect(info.fences).toHaveLength(1);
    tl.inc();
    expect(f.status.state).toBe('signaled');
  });

  it('fences on values the timeline already passed are signalled at creation, and waits on them are immediate', async () => {
    using tl = SwSyncTimeline.open();
    tl.inc(10);
    using old = tl.createFence(3);
    using now = tl.createFence(10);
    expect(old.status).toEqual({ state: 'signaled' });
    // Immediate: resolves even with a zero timeout, and no poller is started.
    const p = Promise.all([old.wait({ timeoutMs: 0 }), now.wait({ timeoutMs: 0 })]);
    expect(activePollers()).toBe(0);
    await expect(p).resolves.toEqual([{ state: 'signaled' }, { state: 'signaled' }]);
    expect(old.waitSync({ timeoutMs: 0 })).toEqual({ state: 'signaled' });
  });

  it('waitSync blocks until signalled or times out with TimeoutError', () => {
    using tl = SwSyncTimeline.open();
    using f = tl.createFence(1);
    const t0 = performance.now();
    expect(() => f.waitSync({ timeoutMs: 50 })).toThrow(TimeoutError);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    tl.inc();
    expect(f.waitSync()).toEqual({ state: 'signaled' });
  });
});

describe('merge', () => {
  it('two points on one timeline: one active fence, signalled at the later point', async () => {
    using tl = SwSyncTimeline.open();
    using a = tl.createFence(2);
    using b = tl.createFence(5);
    using m = a.merge(b, 'both');
    const info = m.info();
    expect(info.name).toBe('both');
    expect(info.fences).toHaveLength(1); // per timeline only the latest point is kept
    expect(info.fences[0]!.status.state).toBe('active');
    tl.inc(2);
    expect(a.status.state).toBe('signaled');
    expect(m.status.state).toBe('active');
    await expect(m.wait({ timeoutMs: 20 })).rejects.toBeInstanceOf(TimeoutError);
    const waiting = m.wait({ timeoutMs: 5000 });
    tl.inc(3);
    await expect(waiting).resolves.toEqual({ state: 'signaled' });
    expect(b.status.state).toBe('signaled');
  });

  it('a fence merged with itself is the same single fence', () => {
    using tl = SwSyncTimeline.open();
    using f = tl.createFence(1);
    using m = f.merge(f);
    expect(m.info().fences).toHaveLength(1);
    expect(m.status.state).toBe('active');
    tl.inc();
    expect(m.status.state).toBe('signaled');
    expect(m.signaledAtNs).toBe(f.signaledAtNs);
  });

  it('three timelines merged: the active count steps down as each signals, and the merge signals last', async () => {
    const tls = [SwSyncTimeline.open(), SwSyncTimeline.open(), SwSyncTimeline.open()];
    const fences = tls.map((tl, i) => tl.createFence(i + 1));
    try {
      using ab = fences[0]!.merge(fences[1]!);
      using abc = ab.merge(fences[2]!, 'abc');
      const active = () => abc.info().fences.filter((f) => f.status.state === 'active').length;
      expect(abc.info().fences).toHaveLength(3);
      expect(active()).toBe(3);
      const order = [2, 0, 1];
      for (const [k, i] of order.entries()) {
        tls[i]!.inc(i + 1);
        expect(active()).toBe(2 - k);
        expect(abc.status.state).toBe(k < 2 ? 'active' : 'signaled');
      }
      await expect(abc.wait({ timeoutMs: 0 })).resolves.toEqual({ state: 'signaled' });
      // The merge signalled when its last fence did.
      expect(abc.signaledAtNs).toBe(fences[1]!.signaledAtNs);
    } finally {
      for (const f of fences) f.close();
      for (const tl of tls) tl.close();
    }
  });

  it('merging already-signalled fences gives a signalled sync_file', () => {
    using tl = SwSyncTimeline.open();
    using a = tl.createFence(1);
    using b = tl.createFence(2);
    tl.inc(2);
    using m = a.merge(b);
    expect(m.status.state).toBe('signaled');
  });

  it('merge with an fd that is not a sync_file: KernelError ENOENT that says so, no fd leaked', () => {
    using tl = SwSyncTimeline.open();
    using f = tl.createFence(1);
    const before = syncFileFdCount();
    let err: unknown;
    try {
      f.merge(tl);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelError);
    expect(err).toMatchObject({ code: 'ENOENT', request: 'SYNC_IOC_MERGE' });
    expect((err as Error).message).toMatch(/not a sync_file/);
    expect(syncFileFdCount()).toBe(before);
  });
});

describe('closing', () => {
  it('closing the timeline signals its pending fences with ENOENT, which status and wait report', async () => {
    const tl = SwSyncTimeline.open();
    using done = tl.createFence(1);
    using pending = tl.createFence(5);
    tl.inc();
    const waiting = pending.wait({ timeoutMs: 5000 });
    tl.close();
    const expected = { state: 'error', errno: 2, code: 'ENOENT' };
    await expect(waiting).resolves.toEqual(expected);
    expect(pending.status).toEqual(expected);
    expect(pending.info().fences[0]!.status).toEqual(expected);
    expect(done.status).toEqual({ state: 'signaled' }); // signalled before the close: untouched
    expect(pending.waitSync({ timeoutMs: 0 })).toEqual(expected);
  });

  it('closing a SyncFile settles its pending waits with ClosedError and stops their poller', async () => {
    using tl = SwSyncTimeline.open();
    const f = tl.createFence(1);
    const waits = [f.wait(), f.wait({ timeoutMs: 10_000 })];
    expect(activePollers()).toBe(1);
    f.close();
    for (const w of waits) await expect(w).rejects.toBeInstanceOf(ClosedError);
    expect(() => f.status).toThrow(ClosedError);
  });

  it('an AbortSignal rejects the wait with its reason', async () => {
    using tl = SwSyncTimeline.open();
    using f = tl.createFence(1);
    const ac = new AbortController();
    const p = f.wait({ signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    await expect(f.wait({ signal: AbortSignal.abort(new Error('stop')) })).rejects.toThrow('stop');
  });

  it('adopt/borrow/dup of a sync_file fd keep to their ownership', () => {
    using tl = SwSyncTimeline.open();
    using f = tl.createFence(1);
    const before = syncFileFdCount();
    const d = SyncFile.dup(f);
    expect(syncFileFdCount()).toBe(before + 1);
    const b = SyncFile.borrow(d.fd);
    b.close(); // borrowed: the fd stays open
    expect(syncFileFdCount()).toBe(before + 1);
    tl.inc();
    expect(d.status.state).toBe('signaled');
    const raw = d.detachFd();
    const adopted = SyncFile.adopt(raw);
    adopted.close();
    expect(syncFileFdCount()).toBe(before);
  });
});
