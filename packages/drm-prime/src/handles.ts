// GEM handles, reference counted per device fd.
// The kernel names a buffer on a DRM fd by a u32 handle, and it does not count them: importing a dma-buf this fd
// already holds (a second import, or the import of a buffer this fd exported) returns the SAME handle, and one
// GEM_CLOSE frees it for every holder; the next buffer then gets the same number. So each GemHandle here is one
// reference, the references of one kernel handle are counted in the HandleTable of its fd, and GEM_CLOSE runs
// when the last reference closes. A handle closed twice, or by a stale copy of its number, cannot happen.
import { ClosedError } from '@zcopy/core';
import { registerHints } from '@zcopy/core/internal';
import type { DmaBuf } from '@zcopy/dma-buf';
import { binding } from './native.js';
import type { DrmOwner } from './owner.js';
import { exportHandle, type PrimeExportOptions } from './prime.js';

registerHints('DRM_IOCTL_GEM_CLOSE', {
  EINVAL:
    'this fd has no GEM object with this handle: it was closed outside zcopy (a raw GEM_CLOSE or a library on the same fd)',
});

/**
 * The handles one device fd holds through zcopy, with their reference counts. Shared by every DrmDevice object
 * on that fd (an owner and its borrowers); killed when the owner closes the fd, which frees them all in the kernel.
 */
export class HandleTable {
  readonly fd: number;
  readonly #refs = new Map<number, number>();
  readonly #holders = new Set<WeakRef<GemHandle>>();
  #dead = false;
  /** DrmDevice objects using this table. */
  users = 0;

  constructor(fd: number) {
    this.fd = fd;
  }

  /** The device fd is closed: every handle is gone with it. */
  get dead(): boolean {
    return this.#dead;
  }

  /** Kernel handles held (each with at least one reference), ascending. */
  handles(): number[] {
    return [...this.#refs.keys()].sort((a, b) => a - b);
  }

  /** References held on `handle` (0 if none). */
  refs(handle: number): number {
    return this.#refs.get(handle) ?? 0;
  }

  /** @internal */
  acquire(handle: number, holder: WeakRef<GemHandle>): void {
    this.#refs.set(handle, (this.#refs.get(handle) ?? 0) + 1);
    this.#holders.add(holder);
  }

  /** @internal Drops one reference; GEM_CLOSE when it was the last (and the fd is still open). */
  release(handle: number, holder: WeakRef<GemHandle>): void {
    this.#holders.delete(holder);
    if (this.#dead) return;
    const n = this.#refs.get(handle) ?? 0;
    if (n > 1) {
      this.#refs.set(handle, n - 1);
      return;
    }
    this.#refs.delete(handle);
    binding.gemClose(this.fd, handle);
  }

  /** Live handle objects (for device close). */
  holders(): GemHandle[] {
    const out: GemHandle[] = [];
    for (const ref of this.#holders) {
      const h = ref.deref();
      if (h) out.push(h);
    }
    return out;
  }

  /** @internal The fd is being closed: mark every handle object closed, without ioctls. */
  kill(): void {
    if (this.#dead) return;
    this.#dead = true;
    for (const h of this.holders()) h.invalidate();
    this.#holders.clear();
    this.#refs.clear();
  }
}

interface LeakRecord {
  table: HandleTable;
  handle: number;
  holder: WeakRef<GemHandle>;
  type: string;
  // Keeps the device (so its fd) alive until this record is processed: its own leak finalizer cannot close the
  // fd first, so the GEM_CLOSE below never reaches a reused fd number.
  device: DrmOwner;
}

const leaks = new FinalizationRegistry<LeakRecord>(({ table, handle, holder, type, device }) => {
  if (table.dead || device.closed) return;
  try {
    table.release(handle, holder);
  } catch {
    // closed elsewhere already: nothing left to leak
  }
  process.emitWarning(
    `a ${type} (GEM handle ${handle} on fd ${table.fd}) was garbage-collected without close(); zcopy released it. ` +
      'Call close() or declare it with `using`.',
    { type: 'ZcopyLeakWarning', code: 'ZCOPY_GEM_HANDLE_LEAK' },
  );
});

/**
 * One reference to a GEM handle of a device fd. close() drops this reference; the kernel handle is closed
 * (GEM_CLOSE) when the last reference on the fd closes, so a buffer imported twice stays valid until both are
 * closed. Made by DrmDevice.importDmaBuf(), DrmDevice.createDumb() and clone().
 */
export class GemHandle implements Disposable {
  readonly device: DrmOwner;
  readonly #table: HandleTable;
  readonly #handle: number;
  readonly #holder: WeakRef<GemHandle>;
  readonly #token = {};
  #closed = false;

  /** @internal Takes one reference on `handle` in `table`. */
  constructor(device: DrmOwner, table: HandleTable, handle: number) {
    this.device = device;
    this.#table = table;
    this.#handle = handle;
    this.#holder = new WeakRef(this);
    table.acquire(handle, this.#holder);
    leaks.register(this, { table, handle, holder: this.#holder, type: new.target.name, device }, this.#token);
  }

  /** The kernel's handle number on the device fd; ClosedError after close() (or once the device closed). */
  get handle(): number {
    if (this.closed) throw new ClosedError(this.constructor.name);
    return this.#handle;
  }

  /** Closed by close(), or by closing the device fd (which frees every handle on it). */
  get closed(): boolean {
    return this.#closed || this.#table.dead;
  }

  /** References open on this kernel handle on this fd, this one included (0 once closed). */
  get refs(): number {
    return this.closed ? 0 : this.#table.refs(this.#handle);
  }

  /** Another reference to the same handle, closed independently. */
  clone(): GemHandle {
    return new GemHandle(this.device, this.#table, this.handle);
  }

  /**
   * PRIME_HANDLE_TO_FD: the buffer as a new dma-buf fd (DRM_CLOEXEC; DRM_RDWR unless `access: 'read'`). The
   * DmaBuf holds its own reference to the buffer: it stays valid after this handle and the device close.
   */
  exportDmaBuf(options?: PrimeExportOptions): DmaBuf {
    return exportHandle(this.device, this.handle, options);
  }

  /** Idempotent. Drops this reference; the last one on the fd closes the kernel handle. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    leaks.unregister(this.#token);
    try {
      this.onClose();
    } finally {
      if (!this.#table.dead) this.#table.release(this.#handle, this.#holder);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Subclass hook, run once when this reference closes or its device closes. */
  protected onClose(): void {}

  /** @internal The device fd is closing: the kernel frees the handle itself. */
  invalidate(): void {
    if (this.#closed) return;
    this.#closed = true;
    leaks.unregister(this.#token);
    this.onClose();
  }
}
