import { describe, expect, it } from 'vitest';
import {
  activePollers,
  ClosedError,
  EventFd,
  KernelError,
  Memfd,
  PollEvents,
  PollFlags,
  TimeoutError,
  waitFd,
  waitFdBlocking,
  waitReadable,
  waitWritable,
} from '../src/index.js';
import { native } from '../src/internal.js';

describe('waitFd (uv_poll)', () => {
  it('resolves when the fd becomes readable, without blocking the loop', async () => {
    using e = EventFd.create();
    // The fd becomes readable only after the event loop has run a timer five times during the wait: a wait that
    // blocked the loop would never see it (and time out). No clock involved, so load cannot make it flaky.
    let ticks = 0;
    const ticker = setInterval(() => {
      if (++ticks === 5) e.write(7);
    }, 1);
    const events = await waitReadable(e, { timeoutMs: 10_000 });
    clearInterval(ticker);
    expect(events & PollEvents.READABLE).toBeTruthy();
    expect(e.read()).toBe(7n);
    expect(ticks).toBeGreaterThanOrEqual(5);
    expect(activePollers()).toBe(0);
  });

  it('resolves at once for an fd that is already ready (a pipe with data, writable eventfd)', async () => {
    using e = EventFd.create(1);
    await expect(waitReadable(e.fd)).resolves.toBe(PollEvents.READABLE);
    await expect(waitWritable(e)).resolves.toBe(PollEvents.WRITABLE);
  });

  it('rejects with TimeoutError', async () => {
    using e = EventFd.create();
    const err = await waitReadable(e, { timeoutMs: 30 }).catch((x) => x);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.code).toBe('ETIMEDOUT');
    expect(activePollers()).toBe(0);
  });

  it('rejects with the AbortSignal reason, before and during the wait', async () => {
    using e = EventFd.create();
    const ac = new AbortController();
    const p = waitReadable(e, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    await expect(waitReadable(e, { signal: AbortSignal.abort(new Error('stop')) })).rejects.toThrow('stop');
    expect(activePollers()).toBe(0);
  });

  it('settles every pending wait with ClosedError when the owner closes, poller stopped first', async () => {
    const e = EventFd.create();
    const waits = [
      waitReadable(e),
      waitReadable(e, { timeoutMs: 10_000 }),
      waitFd(e, PollEvents.READABLE | PollEvents.PRIORITY),
    ];
    expect(activePollers()).toBe(1); // one poller per fd, shared by its waiters
    e.close();
    for (const w of waits) await expect(w).rejects.toBeInstanceOf(ClosedError);
    expect(activePollers()).toBe(0);
  });

  it('many waiters on one fd all resolve from one poller', async () => {
    using e = EventFd.create();
    const waits = Array.from({ length: 100 }, () => waitReadable(e, { timeoutMs: 5000 }));
    expect(activePollers()).toBe(1);
    e.write(1);
    await expect(Promise.all(waits)).resolves.toHaveLength(100);
    expect(activePollers()).toBe(0);
  });

  it('epoll refuses regular files: a KernelError that points to the blocking wait', async () => {
    using m = Memfd.create('regular', { size: 10 });
    const err = await waitReadable(m).catch((x) => x);
    expect(err).toBeInstanceOf(KernelError);
    expect(err.code).toBe('EPERM');
    expect(err.message).toContain('blocking wait');
    expect(activePollers()).toBe(0);
  });

  it('wrong arguments are TypeError/RangeError', async () => {
    using e = EventFd.create();
    await expect(waitReadable(e, { timeoutMs: -1 })).rejects.toBeInstanceOf(RangeError);
    await expect(waitReadable(e, { timeoutMs: '5' as unknown as number })).rejects.toBeInstanceOf(TypeError);
    await expect(waitReadable(e, { signal: {} as AbortSignal })).rejects.toBeInstanceOf(TypeError);
    await expect(waitFd(e, 0)).rejects.toBeInstanceOf(RangeError);
  });
});

describe('waitFdBlocking (threadpool)', () => {
  it('resolves when ready, with the event loop free meanwhile', async () => {
    using e = EventFd.create();
    setTimeout(() => e.write(1), 30);
    const revents = await waitFdBlocking(e, PollFlags.IN, { timeoutMs: 5000 });
    expect(revents & PollFlags.IN).toBeTruthy();
  });

  it('a call’s cancel stops that call only, and is one function shared by every call (no function per call)', async () => {
    using e = EventFd.create();
    const a = native.pollBlocking(e.fd, PollFlags.IN, -1);
    const b = native.pollBlocking(e.fd, PollFlags.IN, 10_000);
    expect(a.cancel).toBe(b.cancel);
    expect(a.id).not.toBe(b.id);
    a.cancel();
    await expect(a.promise).rejects.toMatchObject({ name: 'KernelError', code: 'ECANCELED' });
    e.write(1);
    await expect(b.promise).resolves.toBe(PollFlags.IN);
    // Settled calls are off the registry: a late cancel, or one called without its handle, does nothing.
    a.cancel();
    b.cancel();
    const detached = b.cancel;
    expect(() => detached()).not.toThrow();
    // The threadpool has 4 threads: 8 cancelled polls that never ended would leave none for this one.
    e.read(); // not readable again
    const many = Array.from({ length: 8 }, () => native.pollBlocking(e.fd, PollFlags.IN, -1));
    for (const h of many) h.cancel();
    const settled = await Promise.allSettled(many.map((h) => h.promise));
    expect(settled.map((r) => (r.status === 'rejected' ? (r.reason as KernelError).code : r.value))).toEqual(
      Array(8).fill('ECANCELED'),
    );
    await expect(waitFdBlocking(e, PollFlags.OUT, { timeoutMs: 5000 })).resolves.toBe(PollFlags.OUT);
  });

  it('works on a regular file, which epoll refuses', async () => {
    using m = Memfd.create('regular', { size: 10 });
    await expect(waitFdBlocking(m, PollFlags.IN)).resolves.toBe(PollFlags.IN);
  });

  it('rejects on timeout, on abort, and when the owner is closed', async () => {
    const e = EventFd.create();
    await expect(waitFdBlocking(e, PollFlags.IN, { timeoutMs: 30 })).rejects.toBeInstanceOf(TimeoutError);
    const ac = new AbortController();
    const aborted = waitFdBlocking(e, PollFlags.IN, { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    const closing = waitFdBlocking(e, PollFlags.IN);
    setTimeout(() => e.close(), 20);
    await expect(closing).rejects.toBeInstanceOf(ClosedError);
  });

  it('close during a blocking call defers the real close until the call returns', async () => {
    const e = EventFd.create();
    const fd = e.fd;
    const p = waitFdBlocking(e, PollFlags.IN).catch((x) => x);
    e.close();
    expect(await p).toBeInstanceOf(ClosedError);
    // The call was cancelled through its cancel fd and only then was the fd closed: no other fd got its number.
    await new Promise((r) => setTimeout(r, 20));
    const { readdirSync } = await import('node:fs');
    expect(readdirSync('/proc/self/fd').map(Number)).not.toContain(fd);
  });
});
