// vgem fences, for tests: a fence put on a buffer's reservation object by hand and signalled by hand, so
// implicit-fence behaviour (dma-buf poll, sync_file export) can be exercised without a GPU.
import { ClosedError, KernelError } from '@zcopy/core';
import { registerHints } from '@zcopy/core/internal';
import type { GemHandle } from './handles.js';
import { binding } from './native.js';

registerHints('DRM_IOCTL_VGEM_FENCE_ATTACH', {
  EBUSY:
    'the buffer already has an unsignalled fence this one conflicts with (a write fence conflicts with any fence, a read fence with a write fence)',
  ENOENT: 'this vgem fd has no GEM object with this handle',
  EINVAL: 'the only attach flag is VGEM_FENCE_WRITE',
});
registerHints('DRM_IOCTL_VGEM_FENCE_SIGNAL', {
  ENOENT: 'no unsignalled fence with this id on this vgem fd (signalled already, or attached on another fd)',
  ETIMEDOUT: 'the fence had expired: vgem signals a fence itself 10 s after it was attached',
  EINVAL: 'VGEM_FENCE_SIGNAL takes no flags',
});

/** 'read': a shared (read) fence, writers wait for it. 'write': an exclusive (write) fence, everyone waits. */
export type VgemFenceAccess = 'read' | 'write';

/** A fence vgem attached to a buffer; it stays unsignalled until signal() (or for at most 10 s). */
export class VgemFence implements Disposable {
  /** The fence id on the vgem fd. */
  readonly id: number;
  readonly access: VgemFenceAccess;
  readonly #handle: GemHandle;
  #signaled = false;

  private constructor(handle: GemHandle, id: number, access: VgemFenceAccess) {
    this.#handle = handle;
    this.id = id;
    this.access = access;
  }

  /**
   * VGEM_FENCE_ATTACH on a handle of a vgem device (a buffer vgem made, or one it imported: the fence then sits
   * on the exporter's reservation object and every importer sees it). TypeError for any other driver: their
   * driver ioctls share vgem's numbers and would do something else.
   */
  static attach(handle: GemHandle, access: VgemFenceAccess = 'write'): VgemFence {
    if (access !== 'read' && access !== 'write')
      throw new TypeError(`access must be 'read' or 'write', got ${String(access)}`);
    const driver = handle.device.version.name;
    if (driver !== 'vgem') throw new TypeError(`vgem fences need a vgem device, this handle is on ${driver}`);
    const flags = access === 'write' ? binding.VGEM_FENCE_WRITE : 0;
    const id = binding.vgemFenceAttach(handle.device.fd, handle.handle, flags);
    return new VgemFence(handle, id, access);
  }

  /** signal() has been called (the kernel may also have expired it). */
  get signaled(): boolean {
    return this.#signaled;
  }

  /**
   * VGEM_FENCE_SIGNAL. The kernel decides every refusal: KernelError ENOENT for a fence signalled already (vgem
   * forgets a fence once signalled), ETIMEDOUT if vgem had expired it; ClosedError once the device closed.
   */
  signal(): void {
    const device = this.#handle.device;
    if (device.closed) throw new ClosedError('VgemFence');
    try {
      binding.vgemFenceSignal(device.fd, this.id, 0);
    } catch (e) {
      // Expired (ETIMEDOUT) or gone (ENOENT): either way it is signalled now.
      if (e instanceof KernelError && (e.code === 'ETIMEDOUT' || e.code === 'ENOENT')) this.#signaled = true;
      throw e;
    }
    this.#signaled = true;
  }

  /** Signals the fence unless it was, so nothing waits on it for the rest of its 10 s. */
  [Symbol.dispose](): void {
    if (this.#signaled || this.#handle.device.closed) return;
    try {
      this.signal();
    } catch (e) {
      if (!(e instanceof KernelError) || (e.code !== 'ETIMEDOUT' && e.code !== 'ENOENT')) throw e;
    }
  }
}
