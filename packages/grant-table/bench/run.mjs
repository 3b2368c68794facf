#!/usr/bin/env node
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDom0 } from '@zcopy/xen';
import * as bench from '../../../scripts/bench/harness.mjs';
import { withSharedFrame } from './frame.mjs';

const here = dirname(fileURLToPath(import.meta.url));
if (!isDom0())
  bench.skip('grant-table bench: not Xen dom0; run it in the Xen VM (see the header of bench/run.mjs)');
const values = bench.benchArgs({
  seconds: { default: '1', number: true },
  // Runs of each side, alternating (harness alternatingOps): the medians go in the table.
  rounds: { default: '5', number: true }, // a 2,025-page case makes ~50 ops in its second
  // Operations per strace count of the small maps; the 2,025-page cases take a quarter of it.
  count: { default: '200', number: true },
  out: { default: bench.resultsPath('grant-table-xen') },
});
const { seconds } = values;
await withSharedFrame(async ({ exe, refsFile }) => {
  const cArgs = [0, refsFile, seconds];
  const zArgs = [join(here, 'gnttab-bench.mjs'), 0, refsFile, seconds];
  // The three zcopy grant copies (plain, prepared, async) each against the one C copy; a [raw binding] row (the
  // same native calls with no safe API around them: the floor of calling the addon) against its C case.
  // One more row: the async copy against C making the copy on a worker thread that wakes the caller by an eventfd,
  // as libuv's threadpool does (gnttab-bench.c, on_thread.h): what never blocking the caller costs in C itself.
  // And both pinned to one CPU (zcopy's [zcopy on one CPU] run against C's run under taskset): whether the
  // hand-off costs the same when no second vCPU has to be woken.
  const ASYNC = 'grant copy 2,025 pages (async)';
  const C_THREAD = 'grant copy 2,025 pages [copy on a thread]';
  const THREAD = `${ASYNC}, against C on a thread`;
  const THREAD_ONE_CPU = `${THREAD} [both on one CPU]`;
  const PLAN_ASYNC = 'grant copy 2,025 pages (plan, async)';
  const PLAN_THREAD_ONE_CPU = `${PLAN_ASYNC}, against C on a thread [both on one CPU]`;
  const also = {
    [THREAD]: ASYNC,
    [THREAD_ONE_CPU]: `${ASYNC}${bench.ONE_CPU}`,
    [PLAN_THREAD_ONE_CPU]: `${PLAN_ASYNC}${bench.ONE_CPU}`,
  };
  const cOneCpu = (name) => name === C_THREAD;
  const cName = (name) => {
    const base = bench.baseCase(name);
    if (base === THREAD) return C_THREAD;
    if (base === THREAD_ONE_CPU || base === PLAN_THREAD_ONE_CPU) return `${C_THREAD}${bench.C_ONE_CPU}`;
    return base.startsWith('grant copy') ? 'grant copy 2,025 pages' : base.replace(' [raw binding]', '');
  };
  const sides = { zcopy: [process.execPath, zArgs], c: [exe, cArgs], cName, also, cOneCpu };
  // The frame-sized cases also with the zcopy process on one CPU (bench.ONE_CPU): dom0 has two vCPUs.
  const oneCpu = (name) =>
    /^(map\+unmap 2,025 refs|grant copy 2,025 pages \((sync|plan|async|plan, async)\)|Node threadpool reference: .*)$/.test(
      name,
    );
  const { c, zcopy, spread, cpu } = await bench.alternatingOps(values.rounds, { ...sides, oneCpu });
  // Node's own threadpool around a job as long as the copy (gnttab-bench.mjs): not a row of its own (it has no C
  // side), but the reference beside each async copy row: its async/sync ratio against zcopy's.
  const NODE_REF = 'Node threadpool reference: pbkdf2';
  const nodeRef = (suffix) => {
    const sync = zcopy.get(`${NODE_REF} (sync)${suffix}`);
    const async = zcopy.get(`${NODE_REF} (async)${suffix}`);
    return sync && async ? { sync, async, ratio: async / sync } : undefined;
  };
  const asyncNote = (name) => {
    const pinned = name.endsWith(bench.ONE_CPU) || name.endsWith('[both on one CPU]');
    const suffix = pinned ? bench.ONE_CPU : '';
    const ref = nodeRef(suffix);
    const isPlan = name.startsWith(PLAN_ASYNC);
    const own = zcopy.get(`grant copy 2,025 pages (${isPlan ? 'plan' : 'sync'})${suffix}`);
    const self = zcopy.get(`${isPlan ? PLAN_ASYNC : ASYNC}${suffix}`);
    if (!ref || !own || !self) return undefined;
    const f = (x) => x.toFixed(1);
    return (
      `zcopy's async/sync: ${(self / own).toFixed(2)} (${f(self)} against ${f(own)}/s${pinned ? ', one CPU' : ''}); ` +
      `Node's own threadpool around a pbkdf2 as long: ${ref.ratio.toFixed(2)} of its sync call (${f(ref.async)} against ${f(ref.sync)}/s)`
    );
  };
  const names = [...zcopy.keys()].filter((n) => !n.startsWith(NODE_REF));
  const counted = names.filter((n) => n === bench.baseCase(n) && !n.endsWith('[both on one CPU]'));
  const small = counted.filter((n) => !n.includes('2,025'));
  const syscalls = {
    ...bench.syscallsOfCases(small, { ...sides, n: values.count }),
    ...bench.syscallsOfCases(
      counted.filter((n) => !small.includes(n)),
      { ...sides, n: Math.max(1, Math.round(values.count / 4)) },
    ),
  };
  const meta = {
    bench: '@zcopy/grant-table',
    where: bench.where('Xen dom0 (QEMU TCG)'),
    kernel: bench.kernelRelease(),
    seconds,
    rounds: values.rounds,
  };
  const rows = bench.ratioReport({
    title: `grant-table in Xen dom0 (grants shared by dom0 with itself), ${seconds}s per case, median of ${values.rounds} alternating runs, kernel ${meta.kernel}`,
    unit: 'ops/s',
    rows: names.map((name) => ({
      case: name,
      zcopy: zcopy.get(name),
      c: c.get(cName(name)),
      spread: spread.get(name),
      cpuSplit: cpu.get(name),
      syscalls: syscalls[name],
      note: name.includes('async') ? asyncNote(name) : undefined,
    })),
    json: values.json,
    meta,
    format: (n) => (n === undefined ? '-' : n < 100 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US')),
    extra: [
      bench.spreadColumn,
      ...bench.cpuSplitColumns,
      ...bench.syscallColumns,
      { header: 'async against sync, zcopy and Node', value: (r) => r.note ?? '-' },
    ],
  });
  bench.writeResults(values.out, {
    ...meta,
    date: new Date().toISOString(),
    rows: rows.map((r) => ({ unit: 'ops/s', ...r })),
  });
});
