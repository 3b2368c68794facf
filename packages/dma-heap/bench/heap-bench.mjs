// The zcopy side of bench/run.mjs: the sequences of heap_bench.c through @zcopy/dma-heap and @zcopy/dma-buf.
//   node heap-bench.mjs <heap name> <seconds per case>
// Prints one JSON object per line: {"case": ..., "ops": N, "seconds": S}. Runs the built packages (dist/).
import { timed as timedCase } from '../../../scripts/bench/harness.mjs';
import { DmaHeap } from '../dist/index.js';

const [heapName = 'system', secondsArg = '1'] = process.argv.slice(2);
const seconds = Number(secondsArg);

const timed = (name, op) => timedCase(name, op, seconds);

const heap = DmaHeap.open(heapName);
const allocMapClose = (size) => () => {
  const buf = heap.allocate(size);
  const m = buf.mmap();
  m.buffer[0] = 1;
  buf.close(); // unmaps m, then closes the fd
};

timed('alloc+mmap+close 4 KiB', allocMapClose(4096));
timed('alloc+mmap+close 1 MiB', allocMapClose(1 << 20));
timed('alloc+mmap+close 8 MiB', allocMapClose(8 << 20));

const buf = heap.allocate(1 << 20);
timed('sync start+end 1 MiB', () => {
  buf.syncStart('readwrite');
  buf.syncEnd('readwrite');
});
timed('withCpuAccess 1 MiB', () => buf.withCpuAccess('readwrite', () => {}));
buf.close();
heap.close();
