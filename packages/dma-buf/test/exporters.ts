// dma-bufs for the VM tests of this package. The allocators live in packages that depend on this one, so they
// are imported by path (a package dependency would be a cycle).
export { DmaHeap, listHeaps } from '../../dma-heap/src/index.js';
export { createSealedMemfd, UdmabufDevice } from '../../udmabuf/src/index.js';
