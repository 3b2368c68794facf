// A dma-buf for the implicit-fence tests. Until @zcopy/dma-heap is in the repo, allocated from the system heap
// through a test-only native call; the API under test takes any FdLike, as it will take their DmaBuf.
import { Fd } from '@zcopy/core';
import { binding } from '../../src/native.js';

export const SYSTEM_HEAP = '/dev/dma_heap/system';

export function allocDmaBuf(size = 4096): Fd {
  return Fd.adopt(binding.testingHeapAlloc(SYSTEM_HEAP, size));
}
