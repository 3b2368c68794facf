// A xenstore watch as an async iterable of events. Events are queued from registration on; the connection
// reads for them only while someone awaits one, so an unawaited watch never holds the event loop open.
import { ClosedError, type WaitOptions } from '@zcopy/core';
import { CloseNotifier, checkWaitOptions, type Waiter, waitFor } from '@zcopy/core/internal';

export interface WatchEvent {
  /** The node that changed (or the watched path, for the event every new watch fires once). */
  path: string;
  token: string;
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
  readonly #waiters = new Set<Waiter<WatchEvent>>();
  // Closed with ClosedError when the watch or its connection closes, or with the connection's failure.
  readonly #ended = new CloseNotifier();

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
    return this.#ended.closed;
  }

  /** Events received and not yet taken. */
  get queued(): number {
    return this.#queue.length;
  }

  /** @internal */
  push(e: WatchEvent): void {
    if (this.#ended.closed) return;
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
    this.#ended.close(err);
  }

  /** The next event (queued ones first). */
  next(options?: WaitOptions): Promise<WatchEvent> {
    try {
      checkWaitOptions(options);
    } catch (e) {
      return Promise.reject(e);
    }
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#ended.closed) return Promise.reject(this.#ended.reason);
    return waitFor<WatchEvent>(options, {
      what: `watch ${this.path}`,
      start: (w) => {
        this.#waiters.add(w);
        // Subscribed here, not as the owner: queued events are still handed out after the watch ended.
        const unsubscribe = this.#ended.onceClosed(w.reject);
        return () => {
          unsubscribe();
          this.#waiters.delete(w);
          this.#hooks.demand();
        };
      },
      // The connection may read at once and hand this waiter an event, then queue the rest.
      kick: () => this.#hooks.demand(),
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
    if (this.#ended.closed) return;
    this.end();
    await this.#hooks.unwatch(options);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
