// PRIME: GEM handle → dma-buf fd (export) and dma-buf fd → GEM handle (import), with what the kernel's errnos mean.
import { type FdLike, fdOf } from '@zcopy/core';
import { registerHints, withErrorContext } from '@zcopy/core/internal';
import type { DmaBuf } from '@zcopy/dma-buf';
import { ownNewDmaBuf } from '@zcopy/dma-buf/internal';
import { binding } from './native.js';
import type { DrmOwner } from './owner.js';

export interface PrimeExportOptions {
  /**
   * 'readwrite' (default): DRM_RDWR, the dma-buf can be mapped for writing. 'read': without it.
   * The kernel keeps one dma-buf per buffer and hands out new fds of it on later exports, so the access of the
   * first export (from any fd, or of the dma-buf a buffer was imported from) is the one every export gets.
   */
  access?: 'readwrite' | 'read';
}

registerHints('DRM_IOCTL_PRIME_HANDLE_TO_FD', {
  ENOENT: 'this device fd has no GEM object with this handle (closed, or a handle of another fd)',
  EINVAL: 'the only export flags are DRM_CLOEXEC and DRM_RDWR',
  ENOSYS: 'this driver cannot export buffers (no PRIME export: see DrmDevice.prime())',
});
// Drivers whose import refuses every foreign dma-buf (only buffers they exported themselves come back as handles).
const ownBuffersOnly: Readonly<Record<string, string>> = {
  virtio_gpu:
    'virtio_gpu imports only its own buffers (dma-bufs exported by a virtio_gpu fd of the same device): ' +
    'a foreign dma-buf cannot become a virtio_gpu handle; import it into vgem or a KMS driver such as vkms instead',
};
registerHints('DRM_IOCTL_PRIME_FD_TO_HANDLE', {
  EINVAL: 'the fd is not a dma-buf',
  EBADF: 'the dma-buf fd is not open',
  ENOSYS: 'this driver cannot import buffers (no PRIME import: see DrmDevice.prime())',
  ENODEV: "this driver cannot use the dma-buf's memory (its importer refused a buffer of this exporter)",
});
// An import runs with { primeDriver } as its context: drivers that take only their own buffers say so.
registerHints('DRM_IOCTL_PRIME_FD_TO_HANDLE', {
  ENODEV: ({ context }) =>
    typeof context?.primeDriver === 'string' ? ownBuffersOnly[context.primeDriver] : undefined,
});

function exportFlags(options: PrimeExportOptions): number {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const access = options.access ?? 'readwrite';
  if (access === 'readwrite') return binding.primeFlags.RDWR;
  if (access === 'read') return 0;
  throw new TypeError(`access must be 'readwrite' or 'read', got ${String(access)}`);
}

/** PRIME_HANDLE_TO_FD (DRM_CLOEXEC always) as an owned DmaBuf. */
export function exportHandle(device: DrmOwner, handle: number, options: PrimeExportOptions = {}): DmaBuf {
  const flags = exportFlags(options);
  return ownNewDmaBuf(binding.handleToFd(device.fd, handle, flags));
}

/** PRIME_FD_TO_HANDLE: the handle number (the caller wraps it in a reference). */
export function importHandle(device: DrmOwner, dmabuf: FdLike): number {
  const dmabufFd = fdOf(dmabuf, 'dmabuf');
  const fd = device.fd;
  return withErrorContext({ primeDriver: device.version.name }, () => binding.fdToHandle(fd, dmabufFd));
}
