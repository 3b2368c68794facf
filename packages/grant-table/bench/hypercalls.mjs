#!/usr/bin/env node
// Hypercalls per operation, zcopy against libxengnttab (issue #19: where the kernel time of a 2,025-page map+unmap
// goes). Not a test and not a timing: Xen's own trace buffer counts every hypercall dom0 makes (xentrace, event
// class TRC_PV), a figure no machine's noise changes. Each side of bench/run.mjs (gnttab-bench.c through
// libxengnttab, gnttab-bench.mjs through @zcopy/grant-table) runs one case N times and 0 times in count mode
// (ZCOPY_BENCH_CASE/ZCOPY_BENCH_COUNT, as for strace -c); the difference over N is what one operation makes.
// Prints, per hypercall, the calls per operation of both sides and, for the batched ones (mmu_update, mmuext_op,
// multicall, grant_table_op), the entries in their batches. Needs Xen dom0 (x86: dom0 is PV, every page-table
// write is a hypercall):
//   node scripts/vm/run.mjs --mode xen -- node packages/grant-table/bench/hypercalls.mjs [--count N] [--case NAME]
//
// The trace records (xen/include/public/trace.h): a u32 header (event in bits 0-27, the number of u32 extras in
// bits 28-30, bit 31 set when a u64 TSC follows), then the extras. TRC_PV_HYPERCALL_V2 (0x0020100d) and, for each
// call inside a multicall, TRC_PV_HYPERCALL_SUBCALL (0x0020200e) carry the hypercall number in the low 20 bits of
// their first extra (bits 20 and up flag which arguments follow: a count for mmu_update, mmuext_op and multicall;
// the command and the count for grant_table_op). xentrace prefixes each chunk it writes with a record of its own
// (TRC_TRACE_CPU_CHANGE) holding the CPU and the chunk's length; it parses the same way.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDom0 } from '@zcopy/xen';
import * as bench from '../../../scripts/bench/harness.mjs';
import { withSharedFrame } from './frame.mjs';

const here = dirname(fileURLToPath(import.meta.url));
if (!isDom0()) bench.skip('hypercall counts: not Xen dom0; run it in the Xen VM (see this file)');
const values = bench.benchArgs({
  count: { default: '20', number: true },
  case: { default: 'map+unmap 2,025 refs' },
});

const HYPERCALLS = {
  1: 'mmu_update',
  3: 'stack_switch',
  5: 'fpu_taskswitch',
  10: 'update_descriptor',
  12: 'memory_op',
  13: 'multicall',
  14: 'update_va_mapping',
  15: 'set_timer_op',
  17: 'xen_version',
  18: 'console_io',
  20: 'grant_table_op',
  23: 'iret',
  24: 'vcpu_op',
  25: 'set_segment_base',
  26: 'mmuext_op',
  29: 'sched_op',
  32: 'event_channel_op',
  33: 'physdev_op',
  34: 'hvm_op',
  35: 'sysctl',
  36: 'domctl',
};
const GNTTABOP = {
  0: 'map_grant_ref',
  1: 'unmap_grant_ref',
  2: 'setup_table',
  5: 'copy',
  7: 'unmap_and_replace',
};
const HYPERCALL_V2 = 0x0020100d;
const SUBCALL = 0x0020200e;
const LOST_RECORDS = 0x0001f001;

/** Counts hypercalls (and batch entries) by name in a xentrace file. */
function countTrace(file) {
  const b = readFileSync(file);
  const calls = new Map();
  const add = (k, n = 1) => calls.set(k, (calls.get(k) ?? 0) + n);
  let o = 0;
  while (o + 4 <= b.length) {
    const h = b.readUInt32LE(o);
    o += 4;
    const event = h & 0x0fffffff;
    const extras = (h >>> 28) & 7;
    if (h >>> 31) o += 8;
    const d = [];
    for (let i = 0; i < extras && o + 4 <= b.length; i++, o += 4) d.push(b.readUInt32LE(o));
    if (event === LOST_RECORDS) add('(trace records lost: the figures are short)');
    if (event !== HYPERCALL_V2 && event !== SUBCALL) continue;
    const op = d[0] & 0xfffff;
    const name = `${event === SUBCALL ? '  in multicall: ' : ''}${HYPERCALLS[op] ?? `hypercall ${op}`}`;
    add(name);
    const args = d.slice(1);
    // A batch Xen preempts goes on as a continuation: the same hypercall again, traced again, with the count
    // left (and, for mmu_update and mmuext_op, the top bit set: MMU_UPDATE_PREEMPTED). So a continuation counts
    // as a call, grant_table_op's calls are counted by command, and entries only where the top bit is clear.
    if (op === 20 && args.length >= 2) add(`${name} ${GNTTABOP[args[0]] ?? `cmd ${args[0]}`}`);
    else if ((op === 1 || op === 26 || op === 13) && args.length >= 1 && !(args[0] >>> 31))
      add(`${name} entries`, args[0]);
  }
  return calls;
}

await withSharedFrame(async ({ exe, refsFile, work }) => {
  const zName = values.case.startsWith('grant copy') ? `${values.case} (sync)` : values.case;
  const sides = {
    C: [exe, ['0', refsFile, '1'], values.case],
    zcopy: [process.execPath, [join(here, 'gnttab-bench.mjs'), '0', refsFile, '1'], zName],
  };
  // Trace buffers: 256 pages per CPU; xentrace sets them up on its first run.
  const traced = async (cmd, args, name, count) => {
    const file = join(work, `trace-${Date.now()}.bin`);
    const xt = spawn('xentrace', ['-D', '-S', '256', '-e', '0x0020f000', '-s', '50', file], {
      stdio: 'ignore',
    });
    await new Promise((r) => setTimeout(r, 1500));
    execFileSync(cmd, args, {
      env: { ...process.env, ZCOPY_BENCH_CASE: name, ZCOPY_BENCH_COUNT: String(count) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await new Promise((r) => setTimeout(r, 500));
    const ended = new Promise((r) => xt.on('exit', r));
    xt.kill('SIGINT');
    await ended;
    const calls = countTrace(file);
    rmSync(file);
    return calls;
  };
  const perOp = {};
  for (const [side, [cmd, args, name]] of Object.entries(sides)) {
    // Alternating 0 and N twice: the second pair shows how steady the figures are.
    const runs = [];
    for (let round = 0; round < 2; round++)
      runs.push([await traced(cmd, args, name, 0), await traced(cmd, args, name, values.count)]);
    perOp[side] = runs.map(([zero, n]) => {
      const out = new Map();
      for (const k of new Set([...zero.keys(), ...n.keys()]))
        out.set(k, ((n.get(k) ?? 0) - (zero.get(k) ?? 0)) / values.count);
      return out;
    });
  }
  const keys = [
    ...new Set(Object.values(perOp).flatMap((runs) => runs.flatMap((m) => [...m.keys()]))),
  ].sort();
  const f = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));
  console.log(
    `hypercalls per operation, case "${values.case}", ${values.count} operations minus 0 (two runs each)`,
  );
  console.log(`${'hypercall'.padEnd(52)} ${'C'.padStart(17)} ${'zcopy'.padStart(17)}`);
  for (const k of keys) {
    const cell = (side) => perOp[side].map((m) => f(m.get(k) ?? 0)).join(' / ');
    const row = [cell('C'), cell('zcopy')];
    if (row.every((c) => /^(-?0\.00 \/ )*-?0\.00$/.test(c))) continue;
    console.log(`${k.padEnd(52)} ${row[0].padStart(17)} ${row[1].padStart(17)}`);
  }
});
