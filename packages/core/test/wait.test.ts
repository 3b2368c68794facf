// The one waiter (waitFor) and the one read loop (Pump) every package builds its waits on: their edge cases,
// tested once here — abort before start, timeout against close, close with many waiters, an owner dropped
// without close().
import { describe, expect, it } from 'vitest';
import { activePollers, ClosedError, EventFd, TimeoutError } from '../src/index.js';
import { CloseNotifier, closableOf, Pump, type Waiter, waitFor } from '../src/internal.js';
import { collectGarbage } from './helpers.js';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

/** A waitFor whose waiter and cleanup the test can see. */
function tracked<T>(options: Parameters<typeof waitFor>[0], owner?: CloseNotifier) {
  const state = { started: 0, cleaned: 0, cancelled: 0, waiter: undefined as Waiter<T> | undefined };
  const promise = waitFor<T>(options, {
    what: 'test wait',
    owner,
    start(w) {
      state.started++;
      state.waiter = w;
      return () => state.cleaned++;
    },
    cancel: () => state.cancelled++,
  });
  return { promise, state };
}

describe('waitFor', () => {
  it('resolves from its waiter, and cleans up once', async () => {
    const { promise, state } = tracked<number>({ timeoutMs: 5000 });
    expect(state.started).toBe(1);
    state.waiter!.resolve(7);
    state.waiter!.reject(new Error('late')); // only the first settle counts
    await expect(promise).resolves.toBe(7);
    expect(state).toMatchObject({ cleaned: 1, cancelled: 0 });
  });

  it('abort before start: rejects with the reason and never starts', async () => {
    const { promise, state } = tracked({ signal: AbortSignal.abort(new Error('stop')) });
    await expect(promise).rejects.toThrow('stop');
    expect(state).toMatchObject({ started: 0, cleaned: 0, cancelled: 0 });
    const def = tracked({ signal: AbortSignal.abort() });
    await expect(def.promise).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('a closed owner refuses the wait before start', async () => {
    const owner = new CloseNotifier();
    owner.close(new ClosedError('Owner'));
    const { promise, state } = tracked({}, owner);
    await expect(promise).rejects.toBeInstanceOf(ClosedError);
    expect(state.started).toBe(0);
  });

  it('bad options reject (never throw) before start', async () => {
    const { promise, state } = tracked({ timeoutMs: -1 });
    await expect(promise).rejects.toBeInstanceOf(RangeError);
    const t = tracked({ signal: {} as AbortSignal });
    await expect(t.promise).rejects.toBeInstanceOf(TypeError);
    expect(state.started + t.state.started).toBe(0);
  });

  it('abort during the wait: the reason, cleanup and cancel once', async () => {
    const ac = new AbortController();
    const { promise, state } = tracked({ signal: ac.signal });
    ac.abort();
    ac.abort();
    await expect(promise).rejects.toMatchObject({ name: 'AbortError' });
    expect(state).toMatchObject({ cleaned: 1, cancelled: 1 });
  });

  it('timeout: TimeoutError naming the wait', async () => {
    const { promise, state } = tracked({ timeoutMs: 10 });
    const err = await promise.catch((e: Error) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe('test wait timed out after 10 ms');
    expect(state).toMatchObject({ cleaned: 1, cancelled: 1 });
  });

  it('timeout against close in the same turn: settles once, with whichever came first', async () => {
    for (const closeFirst of [true, false]) {
      const owner = new CloseNotifier();
      // Timers of the same delay fire in the order they were made: the close is made before or after the wait.
      const close = () => setTimeout(() => owner.close(new ClosedError('Owner')), 5);
      if (closeFirst) close();
      const { promise, state } = tracked({ timeoutMs: 5 }, owner);
      const outcome = promise.catch((e) => e);
      if (!closeFirst) close();
      await tick(30);
      const err = await outcome;
      expect(err).toBeInstanceOf(closeFirst ? ClosedError : TimeoutError);
      expect(state).toMatchObject({ cleaned: 1, cancelled: 1 });
    }
  });

  it('close while N waiters: every one rejects with the reason, each cleaned up once', async () => {
    const owner = new CloseNotifier();
    const waits = Array.from({ length: 50 }, () => tracked({ timeoutMs: 10_000 }, owner));
    const reason = new ClosedError('Owner');
    owner.close(reason);
    owner.close(new Error('second close is ignored'));
    for (const w of waits) {
      await expect(w.promise).rejects.toBe(reason);
      expect(w.state).toMatchObject({ cleaned: 1, cancelled: 1 });
    }
  });

  it('start that settles at once still has its registration undone; a throwing start rejects', async () => {
    let undone = 0;
    const p = waitFor<number>(undefined, {
      what: 'sync',
      start(w) {
        w.resolve(1);
        return () => undone++;
      },
    });
    await expect(p).resolves.toBe(1);
    expect(undone).toBe(1);
    await expect(
      waitFor(undefined, {
        what: 'boom',
        start() {
          throw new RangeError('bad');
        },
      }),
    ).rejects.toBeInstanceOf(RangeError);
  });

  it('a waiter settled by its own kick is deregistered at once: the next event is queued, not lost', async () => {
    // A registry like a watch's: events go to the first waiter, else to a queue.
    const waiters = new Set<Waiter<number>>();
    const queue: number[] = [];
    const push = (e: number) => {
      const w = waiters.values().next().value;
      if (w) w.resolve(e);
      else queue.push(e);
    };
    const next = () =>
      waitFor<number>(undefined, {
        what: 'next',
        start(w) {
          waiters.add(w);
          return () => waiters.delete(w);
        },
        // Like a read that finds three events already there.
        kick: () => {
          for (const e of [1, 2, 3]) push(e);
        },
      });
    await expect(next()).resolves.toBe(1);
    expect(queue).toEqual([2, 3]);
    expect(waiters.size).toBe(0);
  });

  it('an fd as owner: closing it settles the wait with its ClosedError', async () => {
    const e = EventFd.create();
    const onFd = waitFor(undefined, { what: 'fd', owner: closableOf(e), start: () => undefined });
    e.close();
    await expect(onFd).rejects.toThrow('EventFd is closed');
  });
});

describe('Pump', () => {
  function pumpOn(e: EventFd) {
    const got: bigint[] = [];
    const failures: unknown[] = [];
    let demand = 0;
    const pump = new Pump(e, {
      needed: () => demand > 0,
      read: () => {
        got.push(e.read());
        demand--;
        pump.update();
      },
      failed: (err) => failures.push(err),
    });
    return {
      pump,
      got,
      failures,
      want: () => {
        demand++;
        pump.update();
      },
    };
  }

  it('reads while someone waits and stops polling when nobody does', async () => {
    using e = EventFd.create();
    const p = pumpOn(e);
    p.pump.update();
    expect(p.pump.running).toBe(false); // nobody needs it: no poller
    expect(activePollers()).toBe(0);
    p.want();
    expect(p.pump.running).toBe(true);
    await tick();
    expect(activePollers()).toBe(1);
    e.write(3);
    await tick(20);
    expect(p.got).toEqual([3n]);
    expect(p.pump.running).toBe(false);
    expect(activePollers()).toBe(0);
  });

  it('close of the owner stops it without calling failed()', async () => {
    const e = EventFd.create();
    const p = pumpOn(e);
    p.want();
    await tick();
    e.close();
    await tick(10);
    expect(p.pump.running).toBe(false);
    expect(p.failures).toEqual([]);
    expect(activePollers()).toBe(0);
  });

  it('a read that throws goes to failed() once; the pump stops unless still needed', async () => {
    using e = EventFd.create();
    const failures: unknown[] = [];
    const pump = new Pump(e, {
      needed: () => failures.length === 0,
      read: () => {
        throw new Error('bad read');
      },
      failed: (err) => failures.push(err),
      readFirst: true,
    });
    pump.update();
    await tick(20);
    expect(failures.map(String)).toEqual(['Error: bad read']);
    expect(pump.running).toBe(false);
    expect(activePollers()).toBe(0);
  });

  it('GC of an unclosed owner: its fd is closed with a leak warning, and no poller is left behind', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => {
      if (w.code === 'ZCOPY_FD_LEAK') warnings.push(w.message);
    };
    process.on('warning', onWarning);
    try {
      await (async () => {
        const e = EventFd.create();
        const p = pumpOn(e);
        p.want();
        e.write(1);
        await tick(20);
        expect(p.got).toEqual([1n]); // used, then dropped with its pump idle
        const w = tracked({}, undefined);
        w.state.waiter!.resolve(undefined);
        await w.promise;
      })();
      await collectGarbage(10);
      await tick(20);
      expect(warnings.some((m) => m.includes('EventFd'))).toBe(true);
      expect(activePollers()).toBe(0);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
