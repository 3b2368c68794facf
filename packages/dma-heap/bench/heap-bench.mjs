// The zcopy side of bench/run.mjs: the sequences of heap_bench.c through @zcopy/dma-heap and @zcopy/dma-buf.
//   node heap-bench.mjs <heap name> <seconds per case>
// Prints one JSON object per line: {"case": ..., "ops": N, "seconds": S}. Runs the built packages (dist/).
import { DmaHeap } from '../dist/index.js';

const [heapName = 'system', secondsArg = '1'] = process.argv.slice(2);
const seconds = Number(secondsArg);

// Same shape as TIMED() in heap_bench.c: warm-up, then batches of 10 until the time is up.
function timed(name, op) {
  for (let i = 0; i < 20; i++) op();
  let ops = 0;
  const t0 = process.hrtime.bigint();
  let elapsed;
  do {
    for (let b = 0; b < 10; b++) op();
    ops += 10;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (elapsed < seconds);
  console.log(JSON.stringify({ case: name, ops, seconds: elapsed }));
}

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
