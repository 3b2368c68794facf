// dma-bufs for the implicit-fence tests, from the project's own allocators: the API under test takes any FdLike,
// so their DmaBuf objects go in as they are.
import type { FdObject } from '@zcopy/core';
import { DmaHeap } from '@zcopy/dma-heap';
import { UdmabufDevice } from '@zcopy/udmabuf';

export interface DmaBufSource {
  kind: string;
  alloc(size?: number): FdObject;
}

export const dmaBufSources: DmaBufSource[] = [
  {
    kind: 'system heap',
    alloc(size = 4096) {
      using heap = DmaHeap.open('system');
      return heap.allocate(size);
    },
  },
  {
    kind: 'udmabuf',
    alloc(size = 4096) {
      using dev = UdmabufDevice.open();
      return dev.allocate(size);
    },
  },
];

export const allocDmaBuf = (size?: number): FdObject => dmaBufSources[0]!.alloc(size);
