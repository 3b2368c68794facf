#!/usr/bin/env node
// dma-fence benchmark, run inside the guest (needs sw_sync; build first: pnpm build):
//   node packages/dma-fence/bench/run.mjs [--n 2000] [--json]
// 1. Wait latency: a separate process (the C signaller) does SW_SYNC_IOC_INC; we measure from the kernel's
//    signal timestamp (CLOCK_MONOTONIC, the fence's own) to the JS Promise resolving, against a C poll() waiter
//    woken by the same signaller code. 2. merge and info cost per call, JS against C.
import { execFileSync, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as bench from '../../../scripts/bench/harness.mjs';

const { benchArgs, compileC, quantile, ratioReport } = bench;

const here = dirname(fileURLToPath(import.meta.url));
const {
  n,
  json: asJson,
  count,
  out,
} = benchArgs({
  n: { default: '2000', number: true },
  count: { default: '100', number: true },
  out: { default: bench.resultsPath('dma-fence-guest') },
});

let api;
let core;
try {
  api = await import('../dist/index.js');
  core = await import('@zcopy/core');
} catch (e) {
  console.error(`bench: cannot load the built package (${e.message}); run 'pnpm build' first`);
  process.exit(1);
}
const { SwSyncTimeline } = api;

const bin = compileC(join(here, 'fence_bench.c'));
const c = (op, count) => JSON.parse(execFileSync(bin, [op, String(count)], { encoding: 'utf8' }).trim());

// (No `using` here: plain .mjs on Node 20 has no explicit resource management.)
// waitFor(fence) is the JS wait under test: SyncFile.wait(), or core's bare uv_poll wait as the floor under it.
async function jsLatency(count, waitFor = (fence) => fence.wait()) {
  const tl = SwSyncTimeline.open();
  const signaller = spawn(bin, ['signaller'], { stdio: ['pipe', 'inherit', 'inherit', tl.fd] });
  const lat = [];
  try {
    for (let i = 1; i <= count; i++) {
      const fence = tl.createFence(i);
      const resolved = waitFor(fence).then(() => process.hrtime.bigint());
      signaller.stdin.write('i');
      const woke = await resolved;
      lat.push(Number(woke - fence.info().fences[0].timestampNs));
      fence.close();
    }
  } finally {
    signaller.stdin.end();
    if (signaller.exitCode === null && signaller.signalCode === null)
      await new Promise((r) => signaller.once('exit', r));
    tl.close();
  }
  return { op: 'latency', n: count, p50: quantile(lat, 0.5), p99: quantile(lat, 0.99) };
}

function jsPerOp(op, count, body) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) body();
  return { op, n: count, perOp: Number(process.hrtime.bigint() - t0) / count };
}

// Runs body(fences...) on `count` timelines with one active fence each, then closes them all.
function withFences(count, body) {
  const tls = Array.from({ length: count }, () => SwSyncTimeline.open());
  const fences = tls.map((tl) => tl.createFence(1));
  try {
    return body(...fences);
  } finally {
    for (const f of [...fences, ...tls]) f.close();
  }
}

const jsMerge = (count) => withFences(2, (a, b) => jsPerOp('merge', count, () => a.merge(b, 'm').close()));
const jsInfo = (count) => withFences(1, (f) => jsPerOp('info', count, () => f.info()));

const progress = (msg) => process.stderr.write(`bench: ${msg}\n`);

// Warm up both sides (JIT, page cache of the binaries), then measure.
progress('warm-up');
await jsLatency(50);
c('latency', 50);
progress('wait latency');
const jsLat = await jsLatency(n);
const floorLat = await jsLatency(n, (fence) => core.waitReadable(fence));
const cLat = c('latency', n);
const rows = [
  { case: 'wait latency p50 (ns)', zcopy: jsLat.p50, c: cLat.p50 },
  { case: 'wait latency p99 (ns)', zcopy: jsLat.p99, c: cLat.p99 },
  { case: 'core waitReadable p50 (ns)', zcopy: floorLat.p50, c: cLat.p50 },
];
progress('merge and info');
jsMerge(200);
rows.push({ case: 'merge per call (ns)', zcopy: jsMerge(n * 5).perOp, c: c('merge', n * 5).perOp });
jsInfo(200);
rows.push({ case: 'info per call (ns)', zcopy: jsInfo(n * 5).perOp, c: c('info', n * 5).perOp });

// A fence's whole life (create, wait, signal, close) and merge/info: time per op from the same programs the
// syscall counts run (fence-count.mjs and fence_bench), so the two columns describe one sequence.
const countJs = join(here, 'fence-count.mjs');
const jsOp = (op, k) => bench.jsonLines(process.execPath, [countJs, op, k])[0].perOp;
progress('fence life cycle');
jsOp('cycle', 200);
rows.push({ case: 'create+wait+signal+close per op (ns)', zcopy: jsOp('cycle', n), c: c('cycle', n).perOp });
const syscalls = bench.haveStrace()
  ? Object.fromEntries(
      [
        ['create+wait+signal+close per op (ns)', 'cycle'],
        ['merge per call (ns)', 'merge'],
        ['info per call (ns)', 'info'],
      ].map(([name, op]) => [
        name,
        {
          zcopy: bench.syscallsPerOp(process.execPath, (k) => [countJs, op, k], { n: count }),
          c: bench.syscallsPerOp(bin, (k) => [op, k], { n: count }),
        },
      ]),
    )
  : {};
for (const r of rows) r.syscalls = syscalls[r.case];
const meta = {
  bench: '@zcopy/dma-fence',
  where: bench.where('guest (QEMU TCG)'),
  kernel: bench.kernelRelease(),
  n,
};
const reported = ratioReport({
  title: `@zcopy/dma-fence bench (n=${n}; zcopy/C ratio, lower is better)`,
  unit: 'ns',
  rows,
  json: asJson,
  meta,
  extra: bench.syscallColumns,
});
bench.writeResults(out, {
  ...meta,
  date: new Date().toISOString(),
  rows: reported.map((r) => ({ unit: 'ns', ...r })),
});
