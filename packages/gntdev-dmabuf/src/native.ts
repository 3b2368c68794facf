// Typed view of the gntdev-dmabuf addon (raw bindings: numbers in, numbers out; no policy here).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BlockingHandle, loadBinding } from '@zcopy/core/internal';

export interface GntdevDmabufBinding {
  expFromRefs(fd: number, flags: number, domid: number, refs: Uint32Array): number;
  /** Resolves to 0 (released), ENOENT or ETIMEDOUT. */
  expWaitReleasedAsync(fd: number, dmabufFd: number, timeoutMs: number): BlockingHandle<number>;
  impToRefs(fd: number, dmabufFd: number, domid: number, count: number): Uint32Array;
  impRelease(fd: number, dmabufFd: number): void;
  constants: Record<
    | 'GNTDEV_DMA_FLAG_WC'
    | 'GNTDEV_DMA_FLAG_COHERENT'
    | 'DOMID_FIRST_RESERVED'
    | 'PAGE_SIZE'
    | 'ENOENT'
    | 'ETIMEDOUT',
    number
  >;
}

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const binding: GntdevDmabufBinding = loadBinding<GntdevDmabufBinding>(
  packageDir,
  'zcopy_gntdev_dmabuf',
);
