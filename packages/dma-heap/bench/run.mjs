#!/usr/bin/env node
// Benchmark (not a test): dma-heap allocate+mmap+close of 4 KiB, 1 MiB and 8 MiB (1080p RGBA) buffers and the
// CPU-sync bracket, through zcopy and through the same sequence in C, in the same kernel. Prints ops/s and the
// ratio zcopy/C (1.00 = as fast as C). Runs inside the guest, where the heaps are:
//   node scripts/vm/run.mjs -- node packages/dma-heap/bench/run.mjs [--seconds S] [--rounds N] [--heap NAME] [--json]
// Needs the built packages (pnpm build) and gcc (the guest sees the host's through the shared root).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as bench from '../../../scripts/bench/harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const values = bench.benchArgs({
  seconds: { default: '1', number: true },
  // Runs of each side, alternating (harness alternatingOps): the medians go in the table.
  rounds: { default: '3', number: true },
  heap: { default: 'system' },
  count: { default: '100', number: true },
  out: { default: bench.resultsPath('dma-heap-guest') },
});
const { seconds } = values;
const heapPath = `/dev/dma_heap/${values.heap}`;
if (!existsSync(heapPath))
  bench.fail(
    `${heapPath} does not exist: run this inside the VM (node scripts/vm/run.mjs -- node ${join(here, 'run.mjs')})`,
  );
bench.requireBuilt('dma-heap', 'dma-buf', 'core');

const exe = bench.compileC(join(here, 'heap_bench.c'));
const cArgs = [heapPath, seconds];
const zArgs = [join(here, 'heap-bench.mjs'), values.heap, seconds];
// Both bracket rows of the zcopy side compare against the one C bracket.
const cName = (name) => {
  const base = bench.baseCase(name);
  return base === 'withCpuAccess 1 MiB' ? 'sync start+end 1 MiB' : base;
};
const sides = { zcopy: [process.execPath, zArgs], c: [exe, cArgs], cName };
// The buffers of a megabyte and more also with the zcopy process on one CPU (bench.ONE_CPU: what the kernel's
// side of the gap is).
const oneCpu = (name) => /MiB/.test(name) && name.startsWith('alloc');
const { c, zcopy, spread, cpu } = await bench.alternatingOps(values.rounds, { ...sides, oneCpu });
const syscalls = bench.syscallsOfCases(
  [...zcopy.keys()].filter((n) => n === bench.baseCase(n)),
  { ...sides, n: values.count },
);
const meta = {
  bench: '@zcopy/dma-heap',
  where: bench.where('guest (QEMU TCG)'),
  kernel: bench.kernelRelease(),
  heap: values.heap,
  seconds,
  rounds: values.rounds,
};
const rows = bench.ratioReport({
  title: `dma-heap '${values.heap}', ${seconds}s per case, median of ${values.rounds} alternating runs, kernel ${meta.kernel}`,
  unit: 'ops/s',
  rows: [...zcopy].map(([name, z]) => ({
    case: name,
    zcopy: z,
    c: c.get(cName(name)),
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
