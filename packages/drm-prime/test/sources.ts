// dma-bufs of every exporter the guest has, for the import tests: dumb buffers of each DRM driver (exported, then
// the exporting device closed), system and CMA heap buffers, and udmabufs.
import type { DmaBuf } from '@zcopy/dma-buf';
import { DmaHeap, listHeaps } from '@zcopy/dma-heap';
import { UdmabufDevice } from '@zcopy/udmabuf';
import { type Driver, openDriver } from './devices.js';

export interface Source {
  name: string;
  /** A new dma-buf of `size` bytes (a multiple of 4096) that nothing else holds. */
  make(size: number): DmaBuf;
}

/** A dumb buffer of `driver` exported as a dma-buf; the device and handle are closed before it is returned. */
export function dumbDmaBuf(driver: Driver, size: number): DmaBuf {
  using dev = openDriver(driver);
  using dumb = dev.createDumb({ width: 1024, height: size / 4096, bpp: 32 });
  return dumb.exportDmaBuf();
}

const cmaHeap = listHeaps().find((h) => h !== 'system');

export const sources: Source[] = [
  { name: 'vgem dumb', make: (size) => dumbDmaBuf('vgem', size) },
  { name: 'vkms dumb', make: (size) => dumbDmaBuf('vkms', size) },
  { name: 'virtio_gpu dumb', make: (size) => dumbDmaBuf('virtio_gpu', size) },
  {
    name: 'system heap',
    make(size) {
      using heap = DmaHeap.open('system');
      return heap.allocate(size);
    },
  },
  ...(cmaHeap === undefined
    ? []
    : [
        {
          name: `CMA heap (${cmaHeap})`,
          make(size: number) {
            using heap = DmaHeap.open(cmaHeap);
            return heap.allocate(size);
          },
        },
      ]),
  {
    name: 'udmabuf',
    make(size) {
      using dev = UdmabufDevice.open();
      return dev.allocate(size);
    },
  },
];
