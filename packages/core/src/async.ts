// Waits that never block the event loop.
// (a) waitFd: uv_poll on the fd, one native poller per fd shared by all its waiters, stopped before the fd closes.
// (b) runBlocking: a blocking call on the threadpool, pinned to its owner so the fd outlives the call.
// Both take timeoutMs and an AbortSignal and settle when their owner is closed.
import { abortReason, type ClosedError, KernelError, TimeoutError } from './errors.js';
import { type FdLike, FdObject, fdOf } from './fd.js';
import { type BlockingHandle, type NativePoller, native } from './native.js';

export interface WaitOptions {
  /** Reject with TimeoutError after this many milliseconds (default: wait forever). */
  timeoutMs?: number;
  /** Reject with the signal's reason (an AbortError by default) when it aborts. */
  signal?: AbortSignal;
}

/** libuv poll events. */
export const PollEvents = {
  READABLE: native.constants.POLLIN,
  WRITABLE: native.constants.POLLOUT,
  PRIORITY: native.constants.POLLPRI,
} as const;

/** Validates WaitOptions (TypeError/RangeError) and returns them normalised. */
export function checkWaitOptions(opts: WaitOptions | undefined): {
  timeoutMs: number | undefined;
  signal: AbortSignal | undefined;
} {
  if (opts === undefined) return { timeoutMs: undefined, signal: undefined };
  if (opts === null || typeof opts !== 'object') throw new TypeError('options must be an object');
  const { timeoutMs, signal } = opts;
  if (timeoutMs !== undefined) {
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs))
      throw new TypeError('timeoutMs must be a number');
    if (timeoutMs < 0 || timeoutMs > 0x7fffffff)
      throw new RangeError(`timeoutMs must be within 0..2^31-1, got ${timeoutMs}`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new TypeError('signal must be an AbortSignal');
  return { timeoutMs, signal };
}

interface Waiter {
  events: number;
  settle(err: unknown, events?: number): void;
}

interface Watch {
  poller: NativePoller;
  waiters: Set<Waiter>;
}

const watches = new Map<number, Watch>();

function dispatch(fd: number, status: number, events: number): void {
  const watch = watches.get(fd);
  if (!watch) return;
  if (status < 0) {
    const err = new KernelError({ errno: -status, syscall: 'poll' });
    for (const w of [...watch.waiters]) w.settle(err);
    return;
  }
  for (const w of [...watch.waiters]) if (events & w.events) w.settle(null, events & w.events);
}

function restart(fd: number, watch: Watch): void {
  if (watch.waiters.size === 0) {
    watch.poller.close();
    watches.delete(fd);
    return;
  }
  let mask = 0;
  for (const w of watch.waiters) mask |= w.events;
  watch.poller.start(mask);
}

function addWaiter(fd: number, waiter: Waiter): void {
  let watch = watches.get(fd);
  if (!watch) {
    watch = {
      poller: new native.Poller(fd, (status, events) => dispatch(fd, status, events)),
      waiters: new Set(),
    };
    watches.set(fd, watch);
  }
  watch.waiters.add(waiter);
  try {
    restart(fd, watch);
  } catch (e) {
    watch.waiters.delete(waiter);
    restart(fd, watch);
    throw e;
  }
}

function removeWaiter(fd: number, waiter: Waiter): void {
  const watch = watches.get(fd);
  if (!watch?.waiters.delete(waiter)) return;
  restart(fd, watch);
}

/** Number of fds with a live native poller (for leak tests). */
export function activePollers(): number {
  return watches.size;
}

/**
 * Resolves with the ready events once `target` polls ready for any of `events`.
 * A target that is an FdObject settles with ClosedError when it is closed.
 */
export function waitFd(
  target: FdLike,
  events: number,
  options?: WaitOptions,
  what = 'wait',
): Promise<number> {
  let fd: number;
  let opts: ReturnType<typeof checkWaitOptions>;
  try {
    fd = fdOf(target);
    opts = checkWaitOptions(options);
    if (!Number.isInteger(events) || events <= 0)
      throw new RangeError('events must be a non-empty PollEvents mask');
  } catch (e) {
    return Promise.reject(e);
  }
  const { timeoutMs, signal } = opts;
  if (signal?.aborted) return Promise.reject(abortReason(signal));

  return new Promise<number>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let unsubscribe: (() => void) | undefined;
    const onAbort = () => waiter.settle(abortReason(signal!));
    const waiter: Waiter = {
      events,
      settle(err, ready) {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        unsubscribe?.();
        removeWaiter(fd, waiter);
        if (err) reject(err);
        else resolve(ready ?? 0);
      },
    };
    try {
      if (target instanceof FdObject) unsubscribe = target.onceClosed((err) => waiter.settle(err));
      addWaiter(fd, waiter);
    } catch (e) {
      unsubscribe?.();
      settled = true;
      reject(e);
      return;
    }
    if (timeoutMs !== undefined)
      timer = setTimeout(() => waiter.settle(new TimeoutError(what, timeoutMs)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function waitReadable(target: FdLike, options?: WaitOptions): Promise<number> {
  return waitFd(target, PollEvents.READABLE, options, 'waitReadable');
}

export function waitWritable(target: FdLike, options?: WaitOptions): Promise<number> {
  return waitFd(target, PollEvents.WRITABLE, options, 'waitWritable');
}

export interface BlockingOptions extends WaitOptions {
  /** Pinned for the call: its fd stays open until the call returns, and closing it settles the promise. */
  owner?: FdObject;
  /** Names the call in TimeoutError messages. */
  what?: string;
}

/**
 * Runs a native blocking call (a BlockingHandle from an addon) and settles on its result, a timeout, an abort,
 * or the owner's close — whichever comes first. On the last three the call is asked to cancel; a call that
 * cannot cancel finishes on its thread and its result is dropped.
 */
export function runBlocking<T>(start: () => BlockingHandle<T>, options: BlockingOptions = {}): Promise<T> {
  let opts: ReturnType<typeof checkWaitOptions>;
  let unpin: (() => void) | undefined;
  let handle: BlockingHandle<T>;
  try {
    opts = checkWaitOptions(options);
    if (opts.signal?.aborted) return Promise.reject(abortReason(opts.signal));
    unpin = options.owner?.pin();
    handle = start();
  } catch (e) {
    unpin?.();
    return Promise.reject(e);
  }
  const { timeoutMs, signal } = opts;
  const what = options.what ?? 'blocking call';
  const owner = options.owner;

  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let unsubscribe: (() => void) | undefined;
    const finish = (err: unknown, value?: T, cancel = false) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      unsubscribe?.();
      if (cancel) handle.cancel();
      if (err !== undefined) reject(err);
      else resolve(value as T);
    };
    const onAbort = () => finish(abortReason(signal!), undefined, true);
    handle.promise
      .then(
        (v) => finish(undefined, v),
        (e) => finish(e),
      )
      .finally(() => unpin?.());
    if (owner) unsubscribe = owner.onceClosed((err: ClosedError) => finish(err, undefined, true));
    if (timeoutMs !== undefined)
      timer = setTimeout(() => finish(new TimeoutError(what, timeoutMs), undefined, true), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Like waitFd, but poll(2) runs on a threadpool thread: for fds that epoll refuses. The thread also honours
 * the timeout itself, so nothing lingers after a timeout or an abort.
 */
export async function waitFdBlocking(
  target: FdLike,
  pollEvents: number,
  options: WaitOptions = {},
): Promise<number> {
  const fd = fdOf(target);
  const { timeoutMs } = checkWaitOptions(options);
  const revents = await runBlocking(() => native.pollBlocking(fd, pollEvents, timeoutMs ?? -1), {
    ...options,
    owner: target instanceof FdObject ? target : undefined,
    what: 'waitFdBlocking',
  });
  if (revents === 0) throw new TimeoutError('waitFdBlocking', timeoutMs ?? 0);
  return revents;
}

export const PollFlags = {
  IN: native.constants.POLL_IN,
  OUT: native.constants.POLL_OUT,
  ERR: native.constants.POLL_ERR,
  HUP: native.constants.POLL_HUP,
  NVAL: native.constants.POLL_NVAL,
} as const;
