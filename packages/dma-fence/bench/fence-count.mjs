// The zcopy side of the dma-fence syscall counts (run under strace -c by run.mjs, n operations and then 0):
//   node fence-count.mjs cycle|merge|info <n>
// cycle: createFence, SyncFile.wait(), inc, close (the wait is started before the signal, as an application
// would); merge and info as in run.mjs. Prints {op, n, perOp} in ns.
import { SwSyncTimeline } from '../dist/index.js';

const [op, nArg] = process.argv.slice(2);
const n = Number(nArg);
const tl = SwSyncTimeline.open();
const other = SwSyncTimeline.open();
const a = tl.createFence(1 << 30);
const b = other.createFence(1);
const t0 = process.hrtime.bigint();
if (op === 'cycle') {
  for (let i = 1; i <= n; i++) {
    const fence = tl.createFence(i);
    const waited = fence.wait();
    tl.inc(1);
    await waited;
    fence.close();
  }
} else if (op === 'merge') {
  for (let i = 0; i < n; i++) a.merge(b, 'm').close();
} else if (op === 'info') {
  for (let i = 0; i < n; i++) a.info();
} else {
  console.error('usage: fence-count.mjs cycle|merge|info <n>');
  process.exit(2);
}
console.log(JSON.stringify({ op, n, perOp: n > 0 ? Number(process.hrtime.bigint() - t0) / n : 0 }));
for (const f of [a, b, tl, other]) f.close();
