// The fd-owning base every zcopy object extends.
// Owned fds are closed by close()/[Symbol.dispose]; borrowed fds never are. A FinalizationRegistry is the
// safety net: an owned object collected without close() gets its fd closed and a process warning naming its type.

import { type Closable, CloseNotifier } from './closer.js';
import { ClosedError, ZcopyError } from './errors.js';
import { native } from './native.js';

/** Anything that stands for an fd: a number (borrowed by the callee) or an object with an `fd`. */
export type FdLike = number | { readonly fd: number };

/** The fd number of `target`, checked: TypeError/RangeError for wrong JS arguments, ClosedError after close. */
export function fdOf(target: FdLike, name = 'fd'): number {
  if (typeof target === 'number') {
    if (!Number.isInteger(target)) throw new TypeError(`${name} must be an integer fd, got ${target}`);
    if (target < 0 || target > 0x7fffffff)
      throw new RangeError(`${name} must be a non-negative fd, got ${target}`);
    return target;
  }
  if (target !== null && typeof target === 'object' && 'fd' in target) return fdOf(target.fd, name);
  throw new TypeError(`${name} must be an fd number or an object with an fd, got ${typeof target}`);
}

interface LeakRecord {
  fd: number;
  /** The object's class: its name is read only for the warning (Function.prototype.name is a getter call). */
  type: { readonly name: string };
}

const leaks = new FinalizationRegistry<LeakRecord>(({ fd, type: { name: type } }) => {
  try {
    native.close(fd);
  } catch {
    // already gone: nothing left to leak
  }
  process.emitWarning(
    `a ${type} (fd ${fd}) was garbage-collected without close(); zcopy closed its fd. ` +
      'Call close() or declare it with `using`.',
    { type: 'ZcopyLeakWarning', code: 'ZCOPY_FD_LEAK' },
  );
});

export interface FdObjectOptions {
  /** true: this object closes the fd; false: the fd belongs to someone else and is never closed here. */
  owned: boolean;
}

// Set by FdObject's static block: they reach its private state for the functions below.
let onceClosedOf: (obj: FdObject, listener: (err: unknown) => void) => () => void;
let pinOf: (obj: FdObject) => () => void;

export abstract class FdObject implements Disposable {
  #fd: number;
  #closed = false;
  #pins = 0;
  #closeDeferred = false;
  // Made by the first waiter (onceClosed): most fds close without anyone waiting on them.
  #closing: CloseNotifier | undefined;
  readonly owned: boolean;

  protected constructor(fd: number, options: FdObjectOptions) {
    this.#fd = fdOf(fd);
    this.owned = options.owned;
    // The object is its own unregister token (held weakly): no extra allocation per fd.
    if (this.owned) leaks.register(this, { fd: this.#fd, type: new.target }, this);
  }

  /** The fd number; throws ClosedError after close(). */
  get fd(): number {
    if (this.#closed) throw new ClosedError(this.constructor.name);
    return this.#fd;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Idempotent. Settles every pending wait with ClosedError (their pollers stop first), runs the subclass's
   * cleanup (e.g. unmapping), then closes an owned fd — after any blocking call still using it has returned.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    leaks.unregister(this);
    // The error is made only when someone waits: close() is a hot path.
    if (this.#closing) this.#closing.close(() => new ClosedError(this.constructor.name));
    this.onClose();
    if (!this.owned) return;
    if (this.#pins > 0) this.#closeDeferred = true;
    else native.close(this.#fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Give up ownership: the fd stays open and is the caller's to close. */
  detachFd(): number {
    const fd = this.fd;
    if (!this.owned)
      throw new TypeError(`${this.constructor.name} borrows fd ${fd}: there is nothing to detach`);
    if (this.#pins > 0)
      throw new ZcopyError('ERR_ZCOPY_BUSY', `${this.constructor.name} has calls in flight on fd ${fd}`);
    native.release(fd);
    leaks.unregister(this);
    this.#closed = true;
    this.onClose();
    return fd;
  }

  /** Subclass hook, run once by close() before the fd is closed. */
  protected onClose(): void {}

  static {
    onceClosedOf = (obj, listener) => {
      if (obj.#closed) throw new ClosedError(obj.constructor.name);
      obj.#closing ??= new CloseNotifier();
      return obj.#closing.onceClosed(listener);
    };
    pinOf = (obj) => {
      if (obj.#closed) throw new ClosedError(obj.constructor.name);
      obj.#pins++;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        obj.#pins--;
        if (obj.#pins === 0 && obj.#closeDeferred) {
          obj.#closeDeferred = false;
          native.close(obj.#fd);
        }
      };
    };
  }
}

/**
 * Calls `listener` once, with a ClosedError, when `obj` is closed; returns the unsubscribe function.
 * ClosedError at once when it is closed already. (For addon authors: @zcopy/core/internal.)
 */
export function onceClosed(obj: FdObject, listener: (err: unknown) => void): () => void {
  return onceClosedOf(obj, listener);
}

/**
 * Keeps `obj`'s fd open while a blocking call uses it: close() then settles waiters at once but closes the fd
 * only once every pin is released. Returns the unpin function (idempotent).
 */
export function pin(obj: FdObject): () => void {
  return pinOf(obj);
}

/** An FdObject as a Closable (what waitFor and Pump take as an owner). */
export function closableOf(obj: FdObject): Closable {
  return { onceClosed: (listener) => onceClosedOf(obj, listener) };
}

/** A plain owned or borrowed fd. */
export class Fd extends FdObject {
  /** open(2) a path (O_CLOEXEC always added); a failure is a KernelError with `path`. */
  static open(path: string, flags: number, mode?: number): Fd {
    if (typeof path !== 'string') throw new TypeError('path must be a string');
    return new Fd(native.open(path, flags, mode), { owned: true });
  }

  /** Take ownership of an fd opened elsewhere (another library, SCM_RIGHTS, a child process). */
  static adopt(fd: number): Fd {
    return new Fd(native.adopt(fdOf(fd)), { owned: true });
  }

  /** Use an fd someone else owns and will close. */
  static borrow(fd: number): Fd {
    return new Fd(fdOf(fd), { owned: false });
  }

  /** An owned duplicate (F_DUPFD_CLOEXEC) of any fd. */
  static dup(target: FdLike): Fd {
    return new Fd(native.dup(fdOf(target)), { owned: true });
  }

  /** Bytes ready to read (FIONREAD). */
  bytesReadable(): number {
    return native.fionread(this.fd);
  }
}

/**
 * Takes a new fd the kernel just returned (from an ioctl, an open): `adopt` wraps it, then `setup` (optional)
 * finishes the object. Whatever fails closes what exists by then — the bare fd, or the object — and rethrows,
 * so a new fd is never leaked.
 */
export function adoptOrClose<T extends Disposable>(
  fd: number,
  adopt: (fd: number) => T,
  setup?: (obj: T) => void,
): T {
  let obj: T;
  try {
    obj = adopt(fd);
  } catch (e) {
    closeQuietly(fd);
    throw e;
  }
  if (setup) {
    try {
      setup(obj);
    } catch (e) {
      obj[Symbol.dispose]();
      throw e;
    }
  }
  return obj;
}

/** adoptOrClose for several new fds at once (negative entries are skipped): all or none, every fd accounted for. */
export function adoptAllOrClose<T extends Disposable>(fds: readonly number[], adopt: (fd: number) => T): T[] {
  const out: T[] = [];
  let failure: { error: unknown } | undefined;
  for (const fd of fds) {
    if (fd < 0) continue;
    if (failure) {
      closeQuietly(fd);
      continue;
    }
    try {
      out.push(adoptOrClose(fd, adopt));
    } catch (e) {
      failure = { error: e };
    }
  }
  if (failure) {
    for (const obj of out) obj[Symbol.dispose]();
    throw failure.error;
  }
  return out;
}

function closeQuietly(fd: number): void {
  try {
    native.close(fd);
  } catch {
    // not ours to report: the adopt failure is
  }
}
