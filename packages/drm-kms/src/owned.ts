// Kernel objects created through a KmsDevice (framebuffers, property blobs): ids that live on the device fd.
// close() releases the id (RMFB, DESTROYPROPBLOB); closing the fd releases every one in the kernel, so then the
// objects are only marked closed. A FinalizationRegistry releases the id of an object dropped without close().
import { ClosedError } from '@zcopy/core';

/** What an owned object needs of its device. */
export interface KmsObjectOwner {
  /** The device fd; throws ClosedError once closed. */
  readonly fd: number;
  /** True once the device (or the fd under it) is closed. */
  readonly closed: boolean;
  /** @internal */
  track(obj: KmsObject): void;
  /** @internal */
  untrack(obj: KmsObject): void;
}

interface LeakRecord {
  owner: KmsObjectOwner;
  id: number;
  type: string;
  release: (fd: number, id: number) => void;
}

const leaks = new FinalizationRegistry<LeakRecord>(({ owner, id, type, release }) => {
  if (owner.closed) return;
  try {
    release(owner.fd, id);
  } catch {
    // already released by the kernel: nothing left to leak
  }
  process.emitWarning(
    `a ${type} (id ${id}) was garbage-collected without close(); zcopy released it. ` +
      'Call close() or declare it with `using`.',
    { type: 'ZcopyLeakWarning', code: 'ZCOPY_KMS_OBJECT_LEAK' },
  );
});

export abstract class KmsObject implements Disposable {
  readonly #owner: KmsObjectOwner;
  readonly #id: number;
  readonly #release: (fd: number, id: number) => void;
  readonly #token = {};
  #closed = false;

  protected constructor(owner: KmsObjectOwner, id: number, release: (fd: number, id: number) => void) {
    this.#owner = owner;
    this.#id = id;
    this.#release = release;
    owner.track(this);
    leaks.register(this, { owner, id, type: new.target.name, release }, this.#token);
  }

  /** The kernel object id; ClosedError after close() or once the device closed. */
  get id(): number {
    if (this.closed) throw new ClosedError(this.constructor.name);
    return this.#id;
  }

  get closed(): boolean {
    return this.#closed || this.#owner.closed;
  }

  /** Idempotent: releases the id in the kernel (unless the device fd is gone, which released it already). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    leaks.unregister(this.#token);
    this.#owner.untrack(this);
    if (!this.#owner.closed) this.#release(this.#owner.fd, this.#id);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * @internal The device is closing: releases the id through `fd` when the fd stays open (a borrowed device),
   * or only marks it closed when the fd closes too (which frees the id in the kernel).
   */
  invalidate(fd?: number): void {
    if (this.#closed) return;
    this.#closed = true;
    leaks.unregister(this.#token);
    if (fd === undefined) return;
    try {
      this.#release(fd, this.#id);
    } catch {
      // removed already (e.g. by another user of the fd): nothing left to release
    }
  }
}
