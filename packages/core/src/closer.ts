// The closing side of an owner (an fd, a connection, a watch): whoever waits on it subscribes once and is told
// once, with the reason, when it closes or fails. FdObject keeps one; waitFor and Pump take any Closable.

/** Something whose waiters are settled when it closes. */
export interface Closable {
  /**
   * Calls `listener` once with the reason when this closes; returns the unsubscribe function. Throws the
   * reason at once when it is closed already.
   */
  onceClosed(listener: (reason: unknown) => void): () => void;
}

export class CloseNotifier implements Closable {
  // Made on the first subscription: most fds close without anyone waiting on them.
  #listeners: Set<(reason: unknown) => void> | undefined;
  #make: (() => unknown) | undefined;
  #reason: unknown;

  get closed(): boolean {
    return this.#make !== undefined;
  }

  /** Why it closed (undefined while open). */
  get reason(): unknown {
    if (this.#make && this.#reason === undefined) this.#reason = this.#make();
    return this.#reason;
  }

  onceClosed(listener: (reason: unknown) => void): () => void {
    if (this.#make) throw this.reason;
    this.#listeners ??= new Set();
    const listeners = this.#listeners;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /**
   * Closes once (later calls do nothing) and tells every listener, in subscription order. `reason` may be a
   * function that makes it: it is called only once someone listens or asks (close() of an fd is a hot path).
   */
  close(reason: unknown): void {
    if (this.#make) return;
    this.#make = typeof reason === 'function' ? (reason as () => unknown) : () => reason;
    if (!this.#listeners?.size) return;
    const r = this.reason;
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const l of listeners) l(r);
  }
}
