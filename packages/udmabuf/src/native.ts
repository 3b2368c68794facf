// Typed view of the udmabuf addon (raw calls: numbers in, numbers out; no policy here).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBinding } from '@zcopy/core/internal';

export interface UdmabufBinding {
  /** UDMABUF_CREATE (UDMABUF_FLAGS_CLOEXEC) → dma-buf fd. */
  create(devFd: number, memfd: number, offset: number, size: number): number;
  /** UDMABUF_CREATE_LIST (UDMABUF_FLAGS_CLOEXEC) → dma-buf fd; the three arrays run in parallel. */
  createList(devFd: number, memfds: number[], offsets: number[], sizes: number[]): number;
  constants: Record<'F_SEAL_FUTURE_WRITE', number>;
}

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const binding: UdmabufBinding = loadBinding<UdmabufBinding>(packageDir, 'zcopy_udmabuf');
