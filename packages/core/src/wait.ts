// The one waiter every zcopy wait is made of: a Promise that settles exactly once — by whoever delivers the
// event (resolve/reject), after timeoutMs (TimeoutError), when the AbortSignal aborts (its reason), or when its
// owner closes (the owner's reason, a ClosedError for fds) — and then undoes everything it set up (timer, abort
// listener, owner subscription, the caller's own registration) whichever way it ended.
import type { Closable } from './closer.js';
import { abortReason, TimeoutError } from './errors.js';

export interface WaitOptions {
  /** Reject with TimeoutError after this many milliseconds (default: wait forever). */
  timeoutMs?: number;
  /** Reject with the signal's reason (an AbortError by default) when it aborts. */
  signal?: AbortSignal;
}

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

/** The settling end of a wait, handed to WaitSpec.start. Only the first call of either counts. */
export interface Waiter<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
}

export interface WaitSpec<T> {
  /** Names the wait in its TimeoutError ("<what> timed out after N ms"). */
  what: string;
  /** The wait settles with the owner's reason when it closes (ClosedError at once if it is closed already). */
  owner?: Closable;
  /**
   * Called once, synchronously, unless the wait is refused first (bad options, signal already aborted, owner
   * closed): register `waiter` where the event will find it. Returns the cleanup, run once when the wait
   * settles, however it settles (also when start itself settled it). A throw rejects the wait.
   */
  start(waiter: Waiter<T>): (() => void) | undefined;
  /**
   * Run right after start, with the cleanup in place: whatever may deliver the event at once (send the request,
   * start a read, tell a pump there is demand). Kept apart from start so that a waiter settled during it is
   * already deregistered when the next event comes: that event is queued, not handed to a settled waiter and lost.
   */
  kick?(): void;
  /** Run after the cleanup when the wait ended by timeout, abort or the owner's close: e.g. cancel a native call. */
  cancel?(): void;
}

/** A Promise that settles once: see WaitSpec. Argument errors reject (they never throw). */
export function waitFor<T>(options: WaitOptions | undefined, spec: WaitSpec<T>): Promise<T> {
  let opts: ReturnType<typeof checkWaitOptions>;
  try {
    opts = checkWaitOptions(options);
  } catch (e) {
    return Promise.reject(e);
  }
  const { timeoutMs, signal } = opts;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let started = false;
    let timer: NodeJS.Timeout | undefined;
    let unsubscribe: (() => void) | undefined;
    let cleanup: (() => void) | undefined;
    const finish = (ok: boolean, value: unknown, cancelled: boolean) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      unsubscribe?.();
      cleanup?.();
      if (cancelled && started) spec.cancel?.();
      if (ok) resolve(value as T);
      else reject(value);
    };
    const onAbort = () => finish(false, abortReason(signal!), true);
    try {
      unsubscribe = spec.owner?.onceClosed((reason) => finish(false, reason, true));
    } catch (e) {
      finish(false, e, false);
      return;
    }
    let undo: (() => void) | undefined;
    try {
      started = true;
      undo = spec.start({ resolve: (v) => finish(true, v, false), reject: (e) => finish(false, e, false) });
    } catch (e) {
      finish(false, e, false);
      return;
    }
    if (settled) {
      undo?.(); // settled inside start: its registration is undone now that it exists
      return;
    }
    cleanup = undo;
    if (spec.kick) {
      try {
        spec.kick();
      } catch (e) {
        finish(false, e, false);
        return;
      }
      if (settled) return;
    }
    if (timeoutMs !== undefined)
      timer = setTimeout(() => finish(false, new TimeoutError(spec.what, timeoutMs), true), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
