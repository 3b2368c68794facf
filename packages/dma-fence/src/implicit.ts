// Implicit fences of a dma-buf (the fences its users attached to its reservation object), for any dma-buf fd:
// @zcopy/dma-buf's DmaBuf, a udmabuf, a heap buffer, a DRM PRIME export, or a plain fd number.
import { type FdLike, fdOf, PollEvents, type WaitOptions, waitFd } from '@zcopy/core';
import { binding } from './native.js';
import { ownNewSyncFile, type SyncFile } from './sync-file.js';

/**
 * What the caller is about to do with the buffer.
 * - 'read': a reader must wait for the writers (export gives the write fences; import adds a read fence).
 * - 'write' / 'readwrite': a writer must wait for everyone (export gives all fences; import adds a write fence).
 */
export type DmaBufAccess = 'read' | 'write' | 'readwrite';

function syncFlags(access: DmaBufAccess): number {
  const { DMA_BUF_SYNC_READ: R, DMA_BUF_SYNC_WRITE: W } = binding.constants;
  switch (access) {
    case 'read':
      return R;
    case 'write':
      return W;
    case 'readwrite':
      return R | W;
    default:
      throw new TypeError(`access must be 'read', 'write' or 'readwrite', got ${String(access)}`);
  }
}

/**
 * A SyncFile snapshot of the fences `access` must wait for (DMA_BUF_IOCTL_EXPORT_SYNC_FILE). With no such
 * fence it is an already-signalled stub. Fences added later are not in it.
 */
export function exportSyncFile(dmabuf: FdLike, access: DmaBufAccess): SyncFile {
  const flags = syncFlags(access);
  return ownNewSyncFile(binding.exportSyncFile(fdOf(dmabuf, 'dmabuf'), flags));
}

/**
 * Attaches the fences of `fence` (any sync_file fd) to the dma-buf (DMA_BUF_IOCTL_IMPORT_SYNC_FILE):
 * 'read' as a read fence (writers will wait for it), 'write'/'readwrite' as a write fence (everyone will).
 */
export function importSyncFile(dmabuf: FdLike, fence: FdLike, access: DmaBufAccess): void {
  const flags = syncFlags(access);
  binding.importSyncFile(fdOf(dmabuf, 'dmabuf'), fdOf(fence, 'fence'), flags);
}

function pollEventsFor(access: DmaBufAccess): { uv: number; poll: number } {
  syncFlags(access);
  // dma-buf poll: POLLIN once no write fence is pending (safe to read), POLLOUT once no fence at all is.
  return access === 'read'
    ? { uv: PollEvents.READABLE, poll: binding.constants.POLLIN }
    : { uv: PollEvents.WRITABLE, poll: binding.constants.POLLOUT };
}

/**
 * Resolves once the dma-buf's implicit fences allow `access` (poll on the dma-buf fd, via uv_poll): 'read' waits
 * for the writers, 'write'/'readwrite' for every user. A DmaBuf-like FdObject settles with ClosedError on close.
 */
export async function waitIdle(dmabuf: FdLike, access: DmaBufAccess, options?: WaitOptions): Promise<void> {
  const { uv } = pollEventsFor(access);
  await waitFd(dmabuf, uv, options, `waitIdle(${access})`);
}

/** Whether `access` could start now without waiting (a poll with timeout 0; never blocks). */
export function isIdle(dmabuf: FdLike, access: DmaBufAccess): boolean {
  const { poll } = pollEventsFor(access);
  return (binding.poll(fdOf(dmabuf, 'dmabuf'), poll, 0) & poll) !== 0;
}
