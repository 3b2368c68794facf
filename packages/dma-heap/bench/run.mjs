#!/usr/bin/env node
// Benchmark (not a test): dma-heap allocate+mmap+close of 4 KiB, 1 MiB and 8 MiB (1080p RGBA) buffers and the
// CPU-sync bracket, through zcopy and through the same sequence in C, in the same kernel. Prints ops/s and the
// ratio zcopy/C (1.00 = as fast as C). Runs inside the guest, where the heaps are:
//   node scripts/vm/run.mjs -- node packages/dma-heap/bench/run.mjs [--seconds S] [--heap NAME] [--json]
// Needs the built packages (pnpm build) and gcc (the guest sees the host's through the shared root).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1' },
    heap: { type: 'string', default: 'system' },
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
if (!(seconds > 0)) throw new Error(`--seconds wants a positive number, got ${values.seconds}`);
const heapPath = `/dev/dma_heap/${values.heap}`;

function fail(msg) {
  console.error(`bench: ${msg}`);
  process.exit(1);
}
if (!existsSync(heapPath))
  fail(
    `${heapPath} does not exist: run this inside the VM (node scripts/vm/run.mjs -- node ${join(here, 'run.mjs')})`,
  );
for (const pkg of ['dma-heap', 'dma-buf', 'core'])
  if (!existsSync(join(here, '..', '..', pkg, 'dist', 'index.js')))
    fail(`packages/${pkg}/dist is missing: run pnpm build first`);

const parse = (out) =>
  new Map(
    out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .map((r) => [r.case, r.ops / r.seconds]),
  );

const work = mkdtempSync(join(tmpdir(), 'zcopy-bench-'));
let c;
let zcopy;
try {
  const exe = join(work, 'heap_bench');
  execFileSync('gcc', ['-O2', '-Wall', '-o', exe, join(here, 'heap_bench.c')], { stdio: 'inherit' });
  c = parse(execFileSync(exe, [heapPath, String(seconds)], { encoding: 'utf8' }));
  zcopy = parse(
    execFileSync(process.execPath, [join(here, 'heap-bench.mjs'), values.heap, String(seconds)], {
      encoding: 'utf8',
    }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

// Both bracket rows of the zcopy side compare against the one C bracket.
const cFor = (name) => c.get(name === 'withCpuAccess 1 MiB' ? 'sync start+end 1 MiB' : name);
const rows = [...zcopy].map(([name, z]) => ({ case: name, zcopy: z, c: cFor(name), ratio: z / cFor(name) }));

if (values.json) {
  console.log(JSON.stringify({ heap: values.heap, seconds, rows }));
} else {
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  const table = [
    ['case', 'zcopy ops/s', 'C ops/s', 'zcopy/C'],
    ...rows.map((r) => [r.case, fmt(r.zcopy), fmt(r.c), r.ratio.toFixed(2)]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  console.log(
    `dma-heap '${values.heap}', ${seconds}s per case, kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}`,
  );
  for (const [i, row] of table.entries()) {
    console.log(
      row.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]) : cell.padStart(widths[j]))).join('  '),
    );
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}
