// Waits that never block the event loop, all made of waitFor (wait.ts).
// (a) waitFd: the fd armed in the core's one epoll set (EPOLLONESHOT, one epoll_ctl per wait), shared by all its
//     waiters, taken out before the fd closes.
// (b) runBlocking: a blocking call on the threadpool, pinned to its owner so the fd outlives the call.
// (c) Pump: a read loop on a non-blocking fd that runs while someone waits for what it reads, and stops
//     polling when nobody does (so an idle object never holds the event loop open).
// All take timeoutMs and an AbortSignal and settle when their owner is closed.
import { abortReason, ClosedError, KernelError, TimeoutError } from './errors.js';
import { closableOf, type FdLike, FdObject, fdOf, pin } from './fd.js';
import { type BlockingHandle, native } from './native.js';
import { checkWaitOptions, type WaitOptions, waitFor } from './wait.js';

export { checkWaitOptions, type WaitOptions } from './wait.js';

/** libuv poll events. */
export const PollEvents = {
  READABLE: native.constants.POLLIN,
  WRITABLE: native.constants.POLLOUT,
  PRIORITY: native.constants.POLLPRI,
} as const;

interface FdWaiter {
  events: number;
  settle(err: unknown, events?: number): void;
}

// One watch per fd with waiters, in the core's reactor (one epoll set for all fds, EPOLLONESHOT per wait).
interface Watch {
  token: number;
  waiters: Set<FdWaiter>;
  /** The events it is armed for (0: not armed: it fired, or is being set up). */
  armed: number;
}

const watches = new Map<number, Watch>();
let nextToken = 0;
// Set while dispatch settles waiters: their cleanups only unregister, dispatch re-arms once at the end.
let dispatching = -1;

function dispatch(fd: number, token: number, status: number, events: number): void {
  const watch = watches.get(fd);
  if (!watch || watch.token !== token) return;
  watch.armed = 0; // EPOLLONESHOT: the kernel disarmed it
  dispatching = fd;
  try {
    if (status < 0) {
      const err = new KernelError({ errno: -status, syscall: 'poll' });
      for (const w of [...watch.waiters]) w.settle(err);
    } else if (watch.waiters.size === 1) {
      for (const w of watch.waiters) if (events & w.events) w.settle(null, events & w.events);
    } else {
      for (const w of [...watch.waiters]) if (events & w.events) w.settle(null, events & w.events);
    }
  } finally {
    dispatching = -1;
  }
  update(fd, watch);
}
native.waitCallback(dispatch);

// Arms the fd for what its waiters want, or lets it go when nobody waits.
function update(fd: number, watch: Watch): void {
  if (watch.waiters.size === 0) {
    if (watch.armed) native.disarm(fd);
    watches.delete(fd);
    return;
  }
  let mask = 0;
  for (const w of watch.waiters) mask |= w.events;
  if (mask === watch.armed) return;
  native.arm(fd, mask, watch.token);
  watch.armed = mask;
}

function addWaiter(fd: number, waiter: FdWaiter): void {
  let watch = watches.get(fd);
  if (!watch) {
    nextToken = (nextToken + 1) >>> 0;
    watch = { token: nextToken, waiters: new Set(), armed: 0 };
    watches.set(fd, watch);
  }
  watch.waiters.add(waiter);
  if (dispatching === fd) return;
  try {
    update(fd, watch);
  } catch (e) {
    watch.waiters.delete(waiter);
    if (watch.waiters.size === 0 && !watch.armed) watches.delete(fd);
    throw e;
  }
}

function removeWaiter(fd: number, waiter: FdWaiter): void {
  const watch = watches.get(fd);
  if (!watch?.waiters.delete(waiter)) return;
  if (dispatching !== fd) update(fd, watch);
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
  return waitFor<number>(opts, {
    what,
    owner: target instanceof FdObject ? closableOf(target) : undefined,
    start(w) {
      const waiter: FdWaiter = {
        events,
        settle: (err, ready) => (err ? w.reject(err) : w.resolve(ready ?? 0)),
      };
      addWaiter(fd, waiter);
      return () => removeWaiter(fd, waiter);
    },
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

export interface RunBlockingOptions<T, R = T> extends BlockingOptions {
  /**
   * A result that arrives after the wait was given up (timeout, abort, the owner's close) goes here, e.g. to
   * close the fds the call made; without it, it is dropped.
   */
  late?: (value: T) => void;
  /**
   * Turns the call's result into the promise's value on the JS thread (a throw rejects): a caller's own
   * conversion without a second promise and await around this one.
   */
  map?: (value: T) => R;
}

/**
 * Runs a native blocking call (a BlockingHandle from an addon) and settles on its result, a timeout, an abort,
 * or the owner's close — whichever comes first. On the last three the call is asked to cancel; a call that
 * cannot cancel finishes on its thread and its result is dropped.
 */
export function runBlocking<T, R = T>(
  start: () => BlockingHandle<T>,
  options: RunBlockingOptions<T, R> = {},
): Promise<R> {
  let opts: ReturnType<typeof checkWaitOptions>;
  let unpin: (() => void) | undefined;
  let handle: BlockingHandle<T>;
  try {
    opts = checkWaitOptions(options);
    if (opts.signal?.aborted) return Promise.reject(abortReason(opts.signal));
    unpin = options.owner ? pin(options.owner) : undefined;
    handle = start();
  } catch (e) {
    unpin?.();
    return Promise.reject(e);
  }
  const { late, map } = options;
  return waitFor<R>(opts, {
    what: options.what ?? 'blocking call',
    owner: options.owner ? closableOf(options.owner) : undefined,
    start(w) {
      let given = false;
      // One reaction on the native promise, and the owner unpinned in it once the call is over, whichever way:
      // every promise and microtask more is paid on each call.
      handle.promise.then(
        (v) => {
          try {
            if (given) late?.(v);
            else w.resolve(map ? map(v) : (v as unknown as R));
          } catch (e) {
            if (given) throw e; // late()'s own failure stays unhandled, as before
            w.reject(e); // map() refused the result
          } finally {
            unpin?.();
          }
        },
        (e) => {
          unpin?.();
          w.reject(e);
        },
      );
      return () => {
        given = true;
      };
    },
    cancel: () => handle.cancel(),
  });
}

/**
 * Like waitFd, but poll(2) runs on a threadpool thread: for fds that epoll refuses. The thread also honours
 * the timeout itself, so nothing lingers after a timeout or an abort.
 */
export function waitFdBlocking(
  target: FdLike,
  pollEvents: number,
  options: WaitOptions = {},
): Promise<number> {
  let fd: number;
  let timeoutMs: number | undefined;
  try {
    fd = fdOf(target);
    ({ timeoutMs } = checkWaitOptions(options));
  } catch (e) {
    return Promise.reject(e);
  }
  return runBlocking(() => native.pollBlocking(fd, pollEvents, timeoutMs ?? -1), {
    ...options,
    owner: target instanceof FdObject ? target : undefined,
    what: 'waitFdBlocking',
    map: (revents: number) => {
      if (revents === 0) throw new TimeoutError('waitFdBlocking', timeoutMs ?? 0);
      return revents;
    },
  });
}

export const PollFlags = {
  IN: native.constants.POLL_IN,
  OUT: native.constants.POLL_OUT,
  ERR: native.constants.POLL_ERR,
  HUP: native.constants.POLL_HUP,
  NVAL: native.constants.POLL_NVAL,
} as const;

export interface PumpSpec {
  /** True while someone waits for what the fd brings (a request in flight, a waiter, a listener). */
  needed(): boolean;
  /** Reads what the fd has, without blocking, and hands it out; called each time it polls readable. */
  read(): void;
  /**
   * poll or read failed (not the owner's close: its waiters hear of that through their own owner). The loop
   * has ended; after this returns it starts again only if it is still needed.
   */
  failed(err: unknown): void;
  /** Read once before the first poll, for data that arrived while nobody read (default false). */
  readFirst?: boolean;
}

/**
 * A demand-driven read loop on a non-blocking fd: call update() whenever demand changes (a wait starts or
 * settles); it polls while spec.needed() and stops (its poller closed) as soon as nobody needs it.
 */
export class Pump {
  readonly #target: FdObject;
  readonly #spec: PumpSpec;
  #run: AbortController | undefined;

  constructor(target: FdObject, spec: PumpSpec) {
    this.#target = target;
    this.#spec = spec;
  }

  /** Whether the read loop is running. */
  get running(): boolean {
    return this.#run !== undefined;
  }

  /** Starts the loop when it is needed and not running; stops it when it is no longer needed. */
  update(): void {
    if (this.#target.closed || !this.#spec.needed()) {
      this.stop();
      return;
    }
    if (this.#run) return;
    const run = new AbortController();
    this.#run = run;
    this.#loop(run.signal)
      .catch((e) => {
        if (run.signal.aborted || e instanceof ClosedError) return;
        if (this.#run === run) this.#run = undefined;
        this.#spec.failed(e);
        this.update();
      })
      .finally(() => {
        if (this.#run !== run) return;
        this.#run = undefined;
        if (!run.signal.aborted) this.update();
      });
  }

  /** Stops the loop (its poll wait is aborted and the poller closes). */
  stop(): void {
    this.#run?.abort();
    this.#run = undefined;
  }

  async #loop(signal: AbortSignal): Promise<void> {
    if (this.#spec.readFirst) this.#spec.read();
    while (!signal.aborted) {
      await waitReadable(this.#target, { signal });
      if (signal.aborted) return;
      this.#spec.read();
    }
  }
}
