// A xenstore watch as an async iterable of events. Events are queued from registration on; the connection
// reads for them only while someone awaits one, so an unawaited watch never holds the event loop open.
import { abortReason, ClosedError, checkWaitOptions, TimeoutError, type WaitOptions } from '@zcopy/core';

export interface WatchEvent {
  /** The node that changed (or the watched path, for the event every new watch fires once). */
  path: string;
  token: string;
}

interface Waiter {
  resolve(e: WatchEvent): void;
  reject(err: unknown): void;
}

interface WatchHooks {
  unwatch(options: WaitOptions | undefined): Promise<void>;
  /** Tells the connection that someone now waits (or no longer does). */
  demand(): void;
}

export class XenStoreWatch implements AsyncIterable<WatchEvent>, AsyncDisposable {
  readonly path: string;
  readonly token: string;
  readonly #hooks: WatchHooks;
  readonly #queue: WatchEvent[] = [];
  readonly #waiters = new Set<Waiter>();
  #ended: Error | undefined;

  /** @internal */
  constructor(path: string, token: string, hooks: WatchHooks) {
    this.path = path;
    this.token = token;
    this.#hooks = hooks;
  }

  /** @internal true while someone awaits an event. */
  get demanded(): boolean {
    return this.#waiters.size > 0;
  }

  get closed(): boolean {
    return this.#ended !== undefined;
  }

  /** Events received and not yet taken. */
  get queued(): number {
    return this.#queue.length;
  }

  /** @internal */
  push(e: WatchEvent): void {
    if (this.#ended) return;
    const w = this.#waiters.values().next().value;
    if (w) w.resolve(e);
    else this.#queue.push(e);
  }

  /** @internal The connection closed (ClosedError for waiters) or failed (its error). */
  end(): void {
    this.fail(new ClosedError('XenStoreWatch'));
  }

  /** @internal */
  fail(err: Error): void {
    if (this.#ended) return;
    this.#ended = err;
    for (const w of [...this.#waiters]) w.reject(err);
  }

  /** The next event (queued ones first). */
  next(options?: WaitOptions): Promise<WatchEvent> {
    let opts: ReturnType<typeof checkWaitOptions>;
    try {
      opts = checkWaitOptions(options);
    } catch (e) {
      return Promise.reject(e);
    }
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#ended) return Promise.reject(this.#ended);
    const { timeoutMs, signal } = opts;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<WatchEvent>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiters.delete(waiter);
        this.#hooks.demand();
      };
      const waiter: Waiter = {
        resolve: (e) => {
          done();
          resolve(e);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      const onAbort = () => waiter.reject(abortReason(signal!));
      this.#waiters.add(waiter);
      if (timeoutMs !== undefined)
        timer = setTimeout(() => waiter.reject(new TimeoutError(`watch ${this.path}`, timeoutMs)), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#hooks.demand();
    });
  }

  /** Waits for an event whose path satisfies `match` (others are dropped). */
  async until(match: (e: WatchEvent) => boolean, options?: WaitOptions): Promise<WatchEvent> {
    const deadline = options?.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
    for (;;) {
      const left = deadline === undefined ? undefined : Math.max(0, deadline - Date.now());
      const e = await this.next({ signal: options?.signal, timeoutMs: left });
      if (match(e)) return e;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WatchEvent, void, undefined> {
    for (;;) {
      try {
        yield await this.next();
      } catch (e) {
        if (e instanceof ClosedError) return;
        throw e;
      }
    }
  }

  /** Unregisters the watch (XS_UNWATCH); iterators end. Idempotent. */
  async close(options?: WaitOptions): Promise<void> {
    if (this.#ended) return;
    this.end();
    await this.#hooks.unwatch(options);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
