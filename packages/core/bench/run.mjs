#!/usr/bin/env node
// Core benchmark on the host's real CPU (memfd, eventfd and poll exist on every Linux; no VM needed):
//   node packages/core/bench/run.mjs [--rounds 5] [--seconds 0.5] [--n 2000] [--json] [--out FILE]
// 1. memfd 4 KiB create+map+close and an eventfd wait round trip, ops/s of zcopy and of the same syscalls in C,
//    in alternating rounds (median and spread over the rounds), and the per-call overhead zcopy − C; the same
//    native calls made on the raw binding (rows "[raw binding]") show the floor under the safe API, and the same
//    plus a leak-registry entry ("[raw binding + leak registry]") the floor of the leak safety net.
// 2. Wake latency: a C process stores CLOCK_MONOTONIC in shared memory and wakes the waiter; measured to the
//    moment the waiter runs: a C poll() loop, zcopy's EventFd.wait(), and Node's own fastest fd-readiness path
//    (a 'data' event of a net.Socket on a pipe).
// 3. A threadpool round trip around a poll() of a ready fd: zcopy's waitFdBlocking, its raw pollBlocking, and
//    Node's own threadpool (fs.fstat), against C handing the same poll() to a worker thread (on_thread.h); also
//    with both processes on one CPU ("[both on one CPU]"), where no wakeup crosses CPUs. Each row gives the CPU
//    time per operation of the calling thread (the JS thread; C's caller) beside the process's.
// 4. Syscalls per operation (strace -f -c: n operations minus 0), for zcopy and for C.
// Results go to --out (default docs/bench/core-host.json), from which scripts/bench/readme-table.mjs makes the
// README's table. The machine is shared: read the spread, not one figure.
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as bench from '../../../scripts/bench/harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..');
const values = bench.benchArgs({
  rounds: { default: '5', number: true },
  seconds: { default: '0.5', number: true },
  n: { default: '2000', number: true },
  count: { default: '500', number: true },
  out: { default: join(root, 'docs', 'bench', 'core-host.json') },
  // Measure another build of @zcopy/core (a dist/index.js path), e.g. main's for a before/after comparison.
  core: { default: '' },
});
bench.requireBuilt('core');

const exe = bench.compileC(join(here, 'core_bench.c'));
const js = join(here, 'core-bench.mjs');
const env = values.core ? { ...process.env, ZCOPY_BENCH_CORE: resolve(values.core) } : process.env;
const node = (args) => bench.jsonLines(process.execPath, [js, ...args], { env });
const progress = (msg) => process.stderr.write(`bench: ${msg}\n`);

progress(`ops/s, ${values.rounds} rounds of ${values.seconds}s per case and side`);
const opsRounds = await bench.alternate(values.rounds, {
  c: () => bench.jsonLines(exe, ['ops', values.seconds]),
  zcopy: () => node(['ops', values.seconds]),
});
// The threadpool cases again, both programs under taskset -c 0.
const TP = 'threadpool round trip';
const PINNED = ' [both on one CPU]';
const pin = (file, args) => bench.jsonLines('taskset', ['-c', '0', file, ...args.map(String)], { env });
progress(`threadpool cases on one CPU, ${values.rounds} rounds`);
const pinnedRounds = await bench.alternate(values.rounds, {
  c: () => pin(exe, ['ops', values.seconds, TP]),
  zcopy: () => pin(process.execPath, [js, 'ops', values.seconds, TP]),
});
for (const side of ['c', 'zcopy'])
  opsRounds[side].forEach((lines, i) => {
    lines.push(...pinnedRounds[side][i].map((r) => ({ ...r, case: r.case + PINNED })));
  });
// Per round: case → ops per wall second, and per CPU second of the process (all its threads).
const wall = (side) => opsRounds[side].map((lines) => bench.opsPerSecond(lines));
const cpu = (side) => opsRounds[side].map((lines) => bench.opsPerSecond(lines, { cpu: true }));
// Per round: case → CPU per op, user and system apart, and the calling thread's (cpuPerOp).
const split = (side, name) =>
  bench.medianCpu(opsRounds[side].map((lines) => bench.cpuPerOp(lines).get(name)));
const spread = (xs) => ({
  median: bench.median(xs),
  min: Math.min(...xs),
  max: Math.max(...xs),
});
const caseNames = opsRounds.c[0].map((r) => r.case);
// zcopy-only rows: the raw binding under the safe API (core-bench.mjs; "[raw binding + leak registry]" adds the
// FinalizationRegistry entry every owned fd object has), each against its case's C figure.
// Node's own threadpool ("[Node's threadpool: ...]") is set against the same C case the same way.
const RAW = / \[(?:raw binding[^\]]*|Node's threadpool[^\]]*)\]/;
const rawNames = opsRounds.zcopy[0].map((r) => r.case).filter((n) => RAW.test(n));
const cOf = (name) => name.replace(RAW, '');

progress(`wake latency, ${values.rounds} rounds of ${values.n} wakes per waiter`);
const latRounds = await bench.alternate(values.rounds, {
  c: () => bench.jsonLines(exe, ['latency', values.n])[0],
  zcopy: () => node(['latency', values.n, exe, 'zcopy'])[0],
  node: () => node(['latency', values.n, exe, 'node'])[0],
});

let syscalls;
if (bench.haveStrace()) {
  progress(`syscalls per operation (strace -f -c, ${values.count} operations minus 0)`);
  // Counted once per case: pinning changes no syscall (the "[both on one CPU]" rows show their case's counts).
  syscalls = Object.fromEntries(
    [...caseNames, ...rawNames]
      .filter((name) => !name.endsWith(PINNED))
      .map((name) => [
        name,
        {
          c: bench.syscallsPerOp(exe, (k) => ['count', cOf(name), k], { n: values.count }),
          zcopy: bench.syscallsPerOp(process.execPath, (k) => [js, 'count', name, k], {
            n: values.count,
            env,
          }),
        },
      ]),
  );
} else progress('no strace here: syscall counts left out');

const rows = [...caseNames, ...rawNames].map((name) => {
  const z = spread(wall('zcopy').map((m) => m.get(name)));
  const c = spread(wall('c').map((m) => m.get(cOf(name))));
  const zc = spread(cpu('zcopy').map((m) => m.get(name)));
  const cc = spread(cpu('c').map((m) => m.get(cOf(name))));
  return {
    case: name,
    unit: 'ops/s',
    zcopy: z.median,
    c: c.median,
    ratio: z.median / c.median,
    zcopyRange: [z.min, z.max],
    cRange: [c.min, c.max],
    overheadUs: 1e6 / z.median - 1e6 / c.median,
    // The same per CPU second: what each side costs the machine, less moved by other load than the wall time.
    cpu: {
      zcopy: zc.median,
      c: cc.median,
      ratio: zc.median / cc.median,
      overheadUs: 1e6 / zc.median - 1e6 / cc.median,
    },
    // CPU time per operation, user and system apart, and the calling thread's ("caller").
    cpuSplit: { zcopy: split('zcopy', name), c: split('c', cOf(name)) },
    syscalls: syscalls?.[name.replace(PINNED, '')],
  };
});
// The threadpool rows of zcopy's safe API and raw binding also against Node's own threadpool round trip.
for (const r of rows) {
  if (!r.case.startsWith(TP) || r.case.includes("[Node's threadpool")) continue;
  const pinned = r.case.endsWith(PINNED);
  const nodeName = `${cOf(r.case).replace(PINNED, '')} [Node's threadpool: fs.fstat]${pinned ? PINNED : ''}`;
  const n = rows.find((x) => x.case === nodeName);
  if (!n) continue;
  r.node = n.zcopy;
  r.ratioToNode = r.zcopy / n.zcopy;
  r.nodeWhat = "Node's threadpool (fs.fstat)";
}
const lat = (side, q) => spread(latRounds[side].map((r) => r[q]));
for (const q of ['p50', 'p99']) {
  const z = lat('zcopy', q);
  const c = lat('c', q);
  const n = lat('node', q);
  rows.push({
    case: `eventfd wake latency ${q} (ns)`,
    unit: 'ns',
    zcopy: z.median,
    c: c.median,
    ratio: z.median / c.median,
    node: n.median,
    ratioToNode: z.median / n.median,
    zcopyRange: [z.min, z.max],
    cRange: [c.min, c.max],
    nodeRange: [n.min, n.max],
  });
}

const results = {
  bench: values.core ? `@zcopy/core (${resolve(values.core)})` : '@zcopy/core',
  where: 'host',
  date: new Date().toISOString(),
  kernel: bench.kernelRelease(),
  cpu: `${cpus()[0]?.model ?? 'unknown'} ×${cpus().length}`,
  node: process.version,
  rounds: values.rounds,
  seconds: values.seconds,
  n: values.n,
  rows,
};
bench.writeResults(values.out, results);
if (values.json) console.log(JSON.stringify(results));
else {
  const fmt = (x) => Math.round(x).toLocaleString('en-US');
  console.log(`@zcopy/core on the host (${results.cpu}, kernel ${results.kernel}, ${values.rounds} rounds)`);
  bench.printTable([
    [
      'case',
      'zcopy',
      'C',
      'zcopy/C',
      'zcopy − C',
      'zcopy range',
      'C range',
      'CPU: zcopy/C',
      'zcopy − C',
      'CPU/op zcopy',
      'CPU/op C',
      'zcopy/Node',
      'syscalls zcopy',
      'syscalls C',
    ],
    ...rows
      .filter((r) => r.unit === 'ops/s')
      .map((r) => [
        r.case,
        `${fmt(r.zcopy)}/s`,
        `${fmt(r.c)}/s`,
        r.ratio.toFixed(2),
        `${r.overheadUs.toFixed(2)} µs`,
        r.zcopyRange.map(fmt).join('–'),
        r.cRange.map(fmt).join('–'),
        r.cpu.ratio.toFixed(2),
        `${r.cpu.overheadUs.toFixed(2)} µs`,
        bench.describeCpu(r.cpuSplit?.zcopy),
        bench.describeCpu(r.cpuSplit?.c),
        r.ratioToNode === undefined ? '-' : r.ratioToNode.toFixed(2),
        bench.describeCalls(r.syscalls?.zcopy),
        bench.describeCalls(r.syscalls?.c),
      ]),
  ]);
  console.log();
  bench.printTable([
    ['wake latency', 'zcopy', 'C poll()', 'Node net.Socket', 'zcopy/C', 'zcopy/Node', 'zcopy range'],
    ...rows
      .filter((r) => r.unit === 'ns')
      .map((r) => [
        r.case.replace('eventfd wake latency ', '').replace(' (ns)', ''),
        `${fmt(r.zcopy)} ns`,
        `${fmt(r.c)} ns`,
        `${fmt(r.node)} ns`,
        r.ratio.toFixed(2),
        r.ratioToNode.toFixed(2),
        r.zcopyRange.map(fmt).join('–'),
      ]),
  ]);
  console.log(`results: ${values.out}`);
}
