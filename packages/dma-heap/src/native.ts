// Typed view of the dma-heap addon (raw call: numbers in, numbers out; no policy here).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBinding } from '@zcopy/core/internal';

export interface DmaHeapBinding {
  /** DMA_HEAP_IOCTL_ALLOC with fd_flags = accessMode | O_CLOEXEC, heap_flags = 0 → dma-buf fd. */
  alloc(heapFd: number, len: number, accessMode: number): number;
}

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const binding: DmaHeapBinding = loadBinding<DmaHeapBinding>(packageDir, 'zcopy_dma_heap');
