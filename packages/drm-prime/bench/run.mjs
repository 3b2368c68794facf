#!/usr/bin/env node
// Benchmark (not a test): dumb buffer create + PRIME export + import (vkms → vgem) + close, create + map +
// destroy, and handle → fd → handle round trips, through zcopy and through libdrm in C, in the same kernel.
// Prints ops/s and the ratio zcopy/C (1.00 = as fast as C). Runs inside the guest, where the drivers are:
//   node scripts/vm/run.mjs -- node packages/drm-prime/bench/run.mjs [--seconds S] [--json]
// Needs the built packages (pnpm build), gcc and libdrm-dev (the guest sees the host's through the shared root).
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
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
if (!(seconds > 0)) throw new Error(`--seconds wants a positive number, got ${values.seconds}`);

function fail(msg) {
  console.error(`bench: ${msg}`);
  process.exit(1);
}
for (const pkg of ['drm-prime', 'dma-buf', 'core'])
  if (!existsSync(join(here, '..', '..', pkg, 'dist', 'index.js')))
    fail(`packages/${pkg}/dist is missing: run pnpm build first`);

const { listDrmNodes } = await import('../dist/index.js');
const nodes = listDrmNodes();
const find = (driver, type) => nodes.find((n) => n.driver?.name === driver && n.type === type)?.path;
const kmsPath = find('vkms', 'primary');
const vgemPath = find('vgem', 'render');
if (!kmsPath || !vgemPath)
  fail(
    `needs vkms and vgem (found ${nodes.map((n) => `${n.path}:${n.driver?.name}`).join(', ') || 'no DRM nodes'}): ` +
      `run this inside the VM (node scripts/vm/run.mjs -- node ${join(here, 'run.mjs')})`,
  );

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
  const exe = join(work, 'prime_bench');
  execFileSync(
    'gcc',
    ['-O2', '-Wall', '-I/usr/include/libdrm', '-o', exe, join(here, 'prime_bench.c'), '-ldrm'],
    { stdio: 'inherit' },
  );
  c = parse(execFileSync(exe, [kmsPath, vgemPath, String(seconds)], { encoding: 'utf8' }));
  zcopy = parse(
    execFileSync(process.execPath, [join(here, 'prime-bench.mjs'), kmsPath, vgemPath, String(seconds)], {
      encoding: 'utf8',
    }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

const rows = [...zcopy].map(([name, z]) => ({
  case: name,
  zcopy: z,
  c: c.get(name),
  ratio: z / c.get(name),
}));

if (values.json) {
  console.log(JSON.stringify({ kms: kmsPath, vgem: vgemPath, seconds, rows }));
} else {
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  const table = [
    ['case', 'zcopy ops/s', 'C ops/s', 'zcopy/C'],
    ...rows.map((r) => [r.case, fmt(r.zcopy), fmt(r.c), r.ratio.toFixed(2)]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  console.log(
    `drm-prime: vkms ${kmsPath} → vgem ${vgemPath}, ${seconds}s per case, kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}`,
  );
  for (const [i, row] of table.entries()) {
    console.log(
      row.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]) : cell.padStart(widths[j]))).join('  '),
    );
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}
