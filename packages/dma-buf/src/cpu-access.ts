// CPU-access brackets (DMA_BUF_IOCTL_SYNC). Between start and end the exporter keeps the CPU's view of the
// buffer coherent (cache invalidate at start, clean at end); access outside a bracket may read stale lines or
// lose writes on non-coherent hardware, which is the bug behind the ION uncached-buffer thread.
import { binding } from './native.js';

/** What the CPU will do between start and end. */
export type CpuAccess = 'read' | 'write' | 'readwrite';

const { DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_RW, DMA_BUF_SYNC_START, DMA_BUF_SYNC_END } =
  binding.constants;

const accessBits: Record<CpuAccess, number> = {
  read: DMA_BUF_SYNC_READ,
  write: DMA_BUF_SYNC_WRITE,
  readwrite: DMA_BUF_SYNC_RW,
};

/** DMA_BUF_IOCTL_SYNC flags for a bracket edge; TypeError for anything but 'read' | 'write' | 'readwrite'. */
export function syncFlags(access: CpuAccess, edge: 'start' | 'end'): number {
  const bits = Object.hasOwn(accessBits, access) ? accessBits[access] : undefined;
  if (bits === undefined)
    throw new TypeError(`access must be 'read', 'write' or 'readwrite', got ${String(access)}`);
  return bits | (edge === 'start' ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END);
}

/**
 * An open CPU-access bracket. end() (or leaving a `using` block) ends it exactly once; the DmaBuf ends the
 * brackets still open when it is closed.
 */
export class CpuAccessScope implements Disposable {
  readonly access: CpuAccess;
  #end: (() => void) | undefined;

  /** @internal Made by DmaBuf.beginCpuAccess. */
  constructor(access: CpuAccess, end: () => void) {
    this.access = access;
    this.#end = end;
  }

  get active(): boolean {
    return this.#end !== undefined;
  }

  /** Idempotent; a failing end still counts as ended (the kernel has no bracket to retry). */
  end(): void {
    const end = this.#end;
    this.#end = undefined;
    end?.();
  }

  [Symbol.dispose](): void {
    this.end();
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as PromiseLike<unknown>).then === 'function'
  );
}

/**
 * Runs fn inside the scope and ends the scope whatever happens: on return, on throw, and — when fn returns a
 * promise — once that promise settles. fn's own error wins over an error from ending.
 */
export function runScoped<T>(scope: CpuAccessScope, fn: () => T): T {
  let result: T;
  try {
    result = fn();
  } catch (e) {
    endQuietly(scope);
    throw e;
  }
  if (!isThenable(result)) {
    scope.end();
    return result;
  }
  return Promise.resolve(result).then(
    (value) => {
      scope.end();
      return value;
    },
    (err) => {
      endQuietly(scope);
      throw err;
    },
  ) as T;
}

function endQuietly(scope: CpuAccessScope): void {
  try {
    scope.end();
  } catch {
    // the caller's error is the one to report
  }
}
