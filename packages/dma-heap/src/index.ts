export { DMA_HEAP_DIR, DmaHeap, type HeapAccess, type HeapAllocateOptions, listHeaps } from './dma-heap.js';
