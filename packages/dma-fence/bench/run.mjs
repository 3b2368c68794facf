#!/usr/bin/env node
// dma-fence benchmark, run inside the guest (needs sw_sync; build first: pnpm build):
//   node packages/dma-fence/bench/run.mjs [--n 2000] [--json]
// 1. Wait latency: a separate process (the C signaller) does SW_SYNC_IOC_INC; we measure from the kernel's
//    signal timestamp (CLOCK_MONOTONIC, the fence's own) to the JS Promise resolving, against a C poll() waiter
//    woken by the same signaller code. 2. merge and info cost per call, JS against C.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const n = Number(args[args.indexOf('--n') + 1]) || 2000;
const asJson = args.includes('--json');

let api;
try {
  api = await import('../dist/index.js');
} catch (e) {
  console.error(`bench: cannot load the built package (${e.message}); run 'pnpm build' first`);
  process.exit(1);
}
const { SwSyncTimeline } = api;

const bin = join(mkdtempSync(join(tmpdir(), 'fence-bench-')), 'fence_bench');
execFileSync(process.env.CC || 'cc', ['-O2', '-o', bin, join(here, 'fence_bench.c')], { stdio: 'inherit' });
const c = (op, count) => JSON.parse(execFileSync(bin, [op, String(count)], { encoding: 'utf8' }).trim());

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

async function jsLatency(count) {
  using tl = SwSyncTimeline.open();
  const signaller = spawn(bin, ['signaller'], { stdio: ['pipe', 'inherit', 'inherit', tl.fd] });
  const lat = [];
  try {
    for (let i = 1; i <= count; i++) {
      using fence = tl.createFence(i);
      const resolved = fence.wait().then(() => process.hrtime.bigint());
      signaller.stdin.write('i');
      const woke = await resolved;
      lat.push(Number(woke - fence.info().fences[0].timestampNs));
    }
  } finally {
    signaller.stdin.end();
    await new Promise((r) => signaller.once('exit', r));
  }
  lat.sort((a, b) => a - b);
  return { op: 'latency', n: count, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

function jsPerOp(op, count, body) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) body();
  return { op, n: count, perOp: Number(process.hrtime.bigint() - t0) / count };
}

function jsMerge(count) {
  using ta = SwSyncTimeline.open();
  using tb = SwSyncTimeline.open();
  using a = ta.createFence(1);
  using b = tb.createFence(1);
  return jsPerOp('merge', count, () => a.merge(b, 'm').close());
}

function jsInfo(count) {
  using tl = SwSyncTimeline.open();
  using f = tl.createFence(1);
  return jsPerOp('info', count, () => f.info());
}

// Warm up both sides (JIT, page cache of the binaries), then measure.
await jsLatency(50);
c('latency', 50);
const jsLat = await jsLatency(n);
const cLat = c('latency', n);
const rows = [
  { what: 'wait latency p50 (ns)', js: jsLat.p50, c: cLat.p50 },
  { what: 'wait latency p99 (ns)', js: jsLat.p99, c: cLat.p99 },
];
jsMerge(200);
rows.push({ what: 'merge per call (ns)', js: jsMerge(n * 5).perOp, c: c('merge', n * 5).perOp });
jsInfo(200);
rows.push({ what: 'info per call (ns)', js: jsInfo(n * 5).perOp, c: c('info', n * 5).perOp });
for (const r of rows) r.ratio = r.js / r.c;

if (asJson) console.log(JSON.stringify({ package: '@zcopy/dma-fence', n, rows }));
else {
  console.log(`@zcopy/dma-fence bench (n=${n}; JS / C ratio, lower is better)`);
  for (const r of rows)
    console.log(
      `  ${r.what.padEnd(24)} js ${Math.round(r.js).toString().padStart(9)}  c ${Math.round(r.c).toString().padStart(9)}  x${r.ratio.toFixed(2)}`,
    );
}
