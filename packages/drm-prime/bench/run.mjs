#!/usr/bin/env node
// Benchmark (not a test): dumb buffer create + PRIME export + import (vkms → vgem) + close, create + map +
// destroy, and handle → fd → handle round trips, through zcopy and through libdrm in C, in the same kernel.
// Prints ops/s and the ratio zcopy/C (1.00 = as fast as C). Runs inside the guest, where the drivers are:
//   node scripts/vm/run.mjs -- node packages/drm-prime/bench/run.mjs [--seconds S] [--rounds N] [--json]
// Needs the built packages (pnpm build), gcc and libdrm-dev (the guest sees the host's through the shared root).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as bench from '../../../scripts/bench/harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const values = bench.benchArgs({
  seconds: { default: '1', number: true },
  // Runs of each side, alternating (harness alternatingOps): the medians go in the table.
  rounds: { default: '3', number: true },
  count: { default: '100', number: true },
  out: { default: bench.resultsPath('drm-prime-guest') },
});
const { seconds } = values;
bench.requireBuilt('drm-prime', 'dma-buf', 'core');

const { listDrmNodes } = await import('../dist/index.js');
const nodes = listDrmNodes();
const find = (driver, type) => nodes.find((n) => n.driver?.name === driver && n.type === type)?.path;
const kmsPath = find('vkms', 'primary');
const vgemPath = find('vgem', 'render');
if (!kmsPath || !vgemPath)
  bench.fail(
    `needs vkms and vgem (found ${nodes.map((n) => `${n.path}:${n.driver?.name}`).join(', ') || 'no DRM nodes'}): ` +
      `run this inside the VM (node scripts/vm/run.mjs -- node ${join(here, 'run.mjs')})`,
  );

const exe = bench.compileC(join(here, 'prime_bench.c'), {
  flags: ['-I/usr/include/libdrm'],
  libs: ['-ldrm'],
});
const cArgs = [kmsPath, vgemPath, seconds];
const zArgs = [join(here, 'prime-bench.mjs'), kmsPath, vgemPath, seconds];
const sides = { zcopy: [process.execPath, zArgs], c: [exe, cArgs] };
const { c, zcopy, spread, cpu } = await bench.alternatingOps(values.rounds, sides);
const syscalls = bench.syscallsOfCases([...zcopy.keys()], { ...sides, n: values.count });
const meta = {
  bench: '@zcopy/drm-prime',
  where: bench.where('guest (QEMU TCG)'),
  kernel: bench.kernelRelease(),
  kms: kmsPath,
  vgem: vgemPath,
  seconds,
  rounds: values.rounds,
};
const rows = bench.ratioReport({
  title: `drm-prime: vkms ${kmsPath} → vgem ${vgemPath}, ${seconds}s per case, median of ${values.rounds} alternating runs, kernel ${meta.kernel}`,
  unit: 'ops/s',
  rows: [...zcopy].map(([name, z]) => ({
    case: name,
    zcopy: z,
    c: c.get(name),
    spread: spread.get(name),
    cpuSplit: cpu.get(name),
    syscalls: syscalls[name],
  })),
  json: values.json,
  meta,
  extra: [bench.spreadColumn, ...bench.cpuSplitColumns, ...bench.syscallColumns],
});
bench.writeResults(values.out, {
  ...meta,
  date: new Date().toISOString(),
  rows: rows.map((r) => ({ unit: 'ops/s', ...r })),
});
