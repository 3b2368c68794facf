// The one bench harness every packages/*/bench/run.mjs uses (they keep only their cases): arguments, "is this
// the right machine / is it built", compiling the C side, running both sides in alternating rounds, quantiles,
// the zcopy/C ratio table, and --json. Benchmarks never assert: they print what they measured.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const packagesDir = resolve(import.meta.dirname, '..', '..', 'packages');

/** Prints `bench: msg` on stderr and exits 1. */
export function fail(msg) {
  console.error(`bench: ${msg}`);
  process.exit(1);
}

/** Prints why this is not the place to run the bench and exits 0 (a bench of the wrong VM is not a failure). */
export function skip(msg) {
  console.log(msg);
  process.exit(0);
}

/**
 * Parses the bench's options (node:util parseArgs: { name: { type, default } }) plus --json; numbers given as
 * `number: true` are checked positive (or >= 0 with `min: 0`).
 */
export function benchArgs(options) {
  const spec = { json: { type: 'boolean', default: false } };
  for (const [k, v] of Object.entries(options)) spec[k] = { type: v.type ?? 'string', default: v.default };
  const { values } = parseArgs({ options: spec });
  for (const [k, v] of Object.entries(options)) {
    if (!v.number) continue;
    const n = Number(values[k]);
    if (!(v.min === 0 ? n >= 0 : n > 0))
      fail(`--${k} wants a ${v.min === 0 ? 'non-negative' : 'positive'} number, got ${values[k]}`);
    values[k] = n;
  }
  return values;
}

/** Exits with "run pnpm build first" unless every named package (packages/<name>) has its dist/. */
export function requireBuilt(...names) {
  for (const name of names)
    if (!existsSync(join(packagesDir, name, 'dist', 'index.js')))
      fail(`packages/${name}/dist is missing: run pnpm build first`);
}

/**
 * Compiles the bench's C side with gcc -O2 -Wall and returns the executable's path (in `outDir`, default a
 * fresh temporary directory). `static`: for a domU whose ramdisk has node's libraries only.
 */
export function compileC(source, { name, flags = [], libs = [], outDir, static: isStatic = false } = {}) {
  const dir = outDir ?? mkdtempSync(join(tmpdir(), 'zcopy-bench-'));
  mkdirSync(dir, { recursive: true });
  const exe = join(dir, name ?? source.replace(/^.*\//, '').replace(/\.c$/, ''));
  execFileSync(
    process.env.CC || 'gcc',
    [
      '-O2',
      '-Wall',
      `-I${import.meta.dirname}`,
      ...(isStatic ? ['-static'] : []),
      ...flags,
      '-o',
      exe,
      source,
      ...libs,
    ],
    { stdio: 'inherit' },
  );
  return exe;
}

/** Runs a command and parses its stdout as one JSON object per line. */
export function jsonLines(file, args, options = {}) {
  return execFileSync(file, args.map(String), { encoding: 'utf8', maxBuffer: 64 << 20, ...options })
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** { case, ops, seconds } lines as a Map of case → ops per second (`cpu`: per CPU second, from cpuSeconds). */
export function opsPerSecond(lines, { cpu = false } = {}) {
  return new Map(lines.map((r) => [r.case, r.ops / (cpu ? r.cpuSeconds : r.seconds)]));
}

/**
 * { case, ops, cpuUser, cpuSystem, faults } lines as a Map of case → { user, system, faults }: the process's CPU
 * time per operation in µs, user and kernel apart, and its page faults per operation (lines without the fields
 * are left out). Where a zcopy operation costs more than C's, this says on which side of the syscall boundary:
 * user time is JS, V8 and the addon; system time is the kernel's (in a Xen guest with the hypervisor's on its
 * behalf), for the same syscalls on both sides plus the page faults of each process's own memory.
 */
export function cpuPerOp(lines) {
  return new Map(
    lines
      .filter((r) => r.cpuUser !== undefined && r.cpuSystem !== undefined)
      .map((r) => [
        r.case,
        {
          user: (r.cpuUser * 1e6) / r.ops,
          system: (r.cpuSystem * 1e6) / r.ops,
          faults: r.faults === undefined ? undefined : r.faults / r.ops,
          caller: r.cpuCaller === undefined ? undefined : (r.cpuCaller * 1e6) / r.ops,
        },
      ]),
  );
}

/** The medians of { user, system, faults, caller } values, field by field (undefined if none). */
export function medianCpu(xs) {
  const have = xs.filter(Boolean);
  if (have.length === 0) return undefined;
  const field = (k) => {
    const v = have.map((x) => x[k]).filter((f) => f !== undefined);
    return v.length ? median(v) : undefined;
  };
  return {
    user: median(have.map((x) => x.user)),
    system: median(have.map((x) => x.system)),
    faults: field('faults'),
    caller: field('caller'),
  };
}

/** The q-quantile (0..1) of numbers: the smallest value with at least q of them at or below it. */
export function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export const median = (xs) => quantile(xs, 0.5);

/**
 * Runs each side once per round, the order alternating round by round (A B, B A, …), so that drift in the
 * guest (other guests, TCG's code cache, the balloon) weighs on every side alike. `sides`: { name: async
 * (round) => result }; resolves with { name: [result of each round] }.
 */
export async function alternate(rounds, sides) {
  const names = Object.keys(sides);
  const out = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const n of order) out[n].push(await sides[n](round));
  }
  return out;
}

/**
 * The suffix of a case run with every thread of the zcopy process on one CPU (alternatingOps' oneCpu): in a
 * guest with two vCPUs, V8's own threads (its compiler and GC helpers) run beside the JS thread, and every munmap
 * or mprotect of the process then needs a TLB shootdown on the other vCPU, which under TCG costs far more than
 * on hardware; the C side is one thread. Pinned, the process pays only its own work.
 */
export const ONE_CPU = ' [zcopy on one CPU]';

/** The suffix of a C case run with its threads on one CPU (alternatingOps' cOneCpu). */
export const C_ONE_CPU = ' [C on one CPU]';

/** A case's name without the ONE_CPU suffix. */
export const baseCase = (name) => (name.endsWith(ONE_CPU) ? name.slice(0, -ONE_CPU.length) : name);

/**
 * Both sides' ops/s by case from `rounds` runs of each bench program, alternating (alternate(): C then zcopy,
 * zcopy then C, ...). `zcopy` and `c` are [file, args]; `cName` maps a zcopy case to its C case. Returns
 * { c, zcopy }: case -> median ops/s of the rounds, and `spread`: zcopy case -> [lowest, highest] ratio of a
 * round's zcopy to the same round's C. The guest benches used to run C once and then zcopy once: a drift in the
 * guest over that minute (TCG's code cache, Xen's timer, the host) then fell on one side only. In one Xen dom0
 * (2026-12-01) map+unmap of 2,025 refs made 51, 51, 55, 51, 47, 48, 49 ops per second of C's 8 s loop and 43, 31,
 * 44, 41, 39, 28, 29 in a later 8 s of zcopy's that had made 47, 45, 51, 49, 51, 43, 42 earlier in the same boot.
 * `also` ({ row: zcopy case }) adds rows that set a zcopy case against a second C case (cName(row)), e.g. an
 * async call against C making the same call on a thread (on_thread.h): the same zcopy runs, a second partner.
 * `cOneCpu` (a filter of C case names) runs the C program under `taskset -c 0` too, its kept cases named
 * "<case> [C on one CPU]" (for a C program with threads: C_ONE_CPU).
 */
export async function alternatingOps(
  rounds,
  { zcopy, c, cName: cNameOf = (n) => n, oneCpu, cOneCpu, also = {} },
) {
  const cName = (k) => cNameOf(baseCase(k));
  const side = ([file, args]) => {
    const lines = jsonLines(file, args);
    return { ops: opsPerSecond(lines), cpu: cpuPerOp(lines) };
  };
  // With oneCpu (a filter of case names), the zcopy program also runs under `taskset -c 0`, all its threads on
  // one CPU, and the cases it keeps come back as "<case> [zcopy on one CPU]" against the same C case.
  const onCpu0 = ([file, args]) => ['taskset', ['-c', '0', file, ...args]];
  const withPinned = ([file, args], keep, suffix) => {
    const r = side([file, args]);
    if (!keep) return r;
    const p = side(onCpu0([file, args]));
    for (const [k, v] of p.ops) if (keep(k)) r.ops.set(`${k}${suffix}`, v);
    for (const [k, v] of p.cpu) if (keep(k)) r.cpu.set(`${k}${suffix}`, v);
    return r;
  };
  const zSide = () => {
    const z = withPinned(zcopy, oneCpu, ONE_CPU);
    for (const [row, k] of Object.entries(also)) {
      z.ops.set(row, z.ops.get(k));
      z.cpu.set(row, z.cpu.get(k));
    }
    return z;
  };
  const cSide = () => withPinned(c, cOneCpu, C_ONE_CPU);
  const runs = await alternate(rounds, { c: async () => cSide(), zcopy: async () => zSide() });
  const ops = (rs) => rs.map((r) => r.ops);
  const medians = (maps) => new Map([...maps[0].keys()].map((k) => [k, median(maps.map((m) => m.get(k)))]));
  const spread = new Map(
    [...runs.zcopy[0].ops.keys()].map((k) => {
      const ratios = runs.zcopy.map((z, i) => z.ops.get(k) / runs.c[i].ops.get(cName(k)));
      return [k, [Math.min(...ratios), Math.max(...ratios)]];
    }),
  );
  // Per zcopy case, both sides' CPU time per operation, user and system apart (medians of the rounds).
  const cpu = new Map(
    [...runs.zcopy[0].ops.keys()].map((k) => [
      k,
      {
        zcopy: medianCpu(runs.zcopy.map((r) => r.cpu.get(k))),
        c: medianCpu(runs.c.map((r) => r.cpu.get(cName(k)))),
      },
    ]),
  );
  return { c: medians(ops(runs.c)), zcopy: medians(ops(runs.zcopy)), spread, cpu };
}

/** CPU µs per operation as text: µs below 1,000, ms above. */
function cpuTime(us) {
  return us >= 1000 ? `${(us / 1000).toPrecision(3)} ms` : `${us.toPrecision(3)} µs`;
}

/**
 * A { user, system, faults, caller } per operation (cpuPerOp) as "user + sys, faults, caller", e.g. "1.20 ms +
 * 19.8 ms, 3.1 faults, caller 20.5 ms": caller is the CPU time of the thread that ran the loop, the rest that of
 * the process's other threads (V8's, libuv's, a C bench's worker).
 */
export function describeCpu(x) {
  if (!x) return '-';
  const faults = x.faults === undefined ? '' : `, ${Number(x.faults.toPrecision(2))} faults`;
  const caller = x.caller === undefined ? '' : `, caller ${cpuTime(x.caller)}`;
  return `${cpuTime(x.user)} + ${cpuTime(x.system)}${faults}${caller}`;
}

/** ratioReport's extra columns for rows with `cpuSplit: { zcopy, c }` (alternatingOps' cpu). */
export const cpuSplitColumns = [
  { header: 'CPU/op user + sys, faults zcopy', value: (r) => describeCpu(r.cpuSplit?.zcopy) },
  { header: 'CPU/op user + sys, faults C', value: (r) => describeCpu(r.cpuSplit?.c) },
];

/** ratioReport's extra column for rows with `spread` (alternatingOps): the per-round ratios' range. */
export const spreadColumn = {
  header: 'zcopy/C per round',
  value: (r) => (r.spread ? `${r.spread[0].toFixed(2)}-${r.spread[1].toFixed(2)}` : '-'),
};

/** `uname -r`. */
export function kernelRelease() {
  return execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
}

/** Prints rows (arrays of strings, the first the header) aligned: the first `left` columns left, the rest right. */
export function printTable(table, left = 1) {
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => String(row[i]).length)));
  for (const [i, row] of table.entries()) {
    console.log(
      row
        .map((cell, j) => (j < left ? String(cell).padEnd(widths[j]) : String(cell).padStart(widths[j])))
        .join('  '),
    );
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

const defaultFormat = (n) =>
  n === undefined || Number.isNaN(n) ? '-' : Math.round(n).toLocaleString('en-US');

/**
 * The zcopy/C table: rows { case, zcopy, c } in the unit `unit` ('ops/s', 'µs/op', 'ns'…); ratio = zcopy/c.
 * With json, one JSON line { ...meta, rows } instead (ratios included).
 */
export function ratioReport({
  title,
  unit,
  rows,
  json = false,
  meta = {},
  format = defaultFormat,
  extra = [],
}) {
  const withRatio = rows.map((r) => ({ ...r, ratio: r.zcopy / r.c }));
  if (json) {
    console.log(JSON.stringify({ ...meta, unit, rows: withRatio }));
    return withRatio;
  }
  if (title) console.log(title);
  const extraCols = extra.map((e) => e.header);
  printTable(
    [
      ['case', ...extraCols, `zcopy ${unit}`, `C ${unit}`, 'zcopy/C'],
      ...withRatio.map((r) => [
        r.case,
        ...extra.map((e) => String(e.value(r))),
        format(r.zcopy),
        format(r.c),
        Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : '-',
      ]),
    ],
    1,
  );
  return withRatio;
}

/**
 * Count mode (syscallsPerCase): with ZCOPY_BENCH_CASE and ZCOPY_BENCH_COUNT set, how many times the case `name`
 * runs (0 for the other cases); undefined when timing. The C side's twin is count.h.
 */
export function countMode(name) {
  const which = process.env.ZCOPY_BENCH_CASE;
  const count = process.env.ZCOPY_BENCH_COUNT;
  if (which === undefined || count === undefined) return undefined;
  return which === name ? Number(count) : 0;
}

/**
 * The JS twin of the C benches' TIMED(): a warm-up of at least 20 calls and a quarter of `seconds` (V8 compiles the
 * hot path there: under TCG a compile takes a good part of a second, which a 20-call warm-up left in the timed
 * span of the first cases), then batches of 10 until `seconds` have passed;
 * prints { case, ops, seconds, cpuSeconds, cpuUser, cpuSystem, faults } as one JSON line (what opsPerSecond reads). cpuSeconds is the
 * process's CPU time (user + system, every thread) over the same span: on a shared machine it moves far less than
 * the wall time.
 */
export function timed(name, op, seconds) {
  const counting = countMode(name);
  if (counting !== undefined) {
    for (let i = 0; i < counting; i++) op();
    return;
  }
  const w0 = process.hrtime.bigint();
  for (let i = 0; i < 20; i++) op();
  while (Number(process.hrtime.bigint() - w0) / 1e9 < seconds / 4) op();
  let ops = 0;
  const cpu0 = process.resourceUsage();
  const caller0 = callerCpu();
  const t0 = process.hrtime.bigint();
  let elapsed;
  do {
    for (let b = 0; b < 10; b++) op();
    ops += 10;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (elapsed < seconds);
  console.log(JSON.stringify({ case: name, ops, seconds: elapsed, ...cpuSince(cpu0, caller0) }));
}

// The process's CPU time since ru0 (every thread; process.resourceUsage(), getrusage), in seconds: in all, user
// and system apart; its page faults (minor and major) over the same span; and `cpuCaller`, the CPU time of the
// thread that ran the loop (the JS thread; C's count.h reads its main thread's the same way), which tells the JS
// thread's own work from that of V8's, libuv's and the kernel's threads. Inside a Xen guest both include time
// stolen by the hypervisor while the thread ran (the guest kernels account no steal: PARAVIRT_TIME_ACCOUNTING
// is off), as C's figures do.
function cpuSince(ru0, caller0) {
  const ru = process.resourceUsage();
  const caller = callerCpu();
  const user = (ru.userCPUTime - ru0.userCPUTime) / 1e6;
  const system = (ru.systemCPUTime - ru0.systemCPUTime) / 1e6;
  const faults = ru.minorPageFault + ru.majorPageFault - ru0.minorPageFault - ru0.majorPageFault;
  const out = { cpuSeconds: user + system, cpuUser: user, cpuSystem: system, faults };
  if (caller !== undefined && caller0 !== undefined) out.cpuCaller = caller - caller0;
  return out;
}

/**
 * This thread's CPU time in seconds, or undefined: the scheduler's runtime in ns (/proc/thread-self/schedstat,
 * where the kernel has CONFIG_SCHED_INFO), else utime + stime in clock ticks (/proc/thread-self/stat, 10 ms each:
 * the guest kernels have no schedstat; over a case of a second or more that is a fraction of a percent).
 */
function callerCpu() {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e9;
  } catch {}
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // fields 14 and 15, in USER_HZ (100 on Linux)
  } catch {
    return undefined;
  }
}

/** timed() for an async op: each call is awaited (a sync op is awaited too, so both cost the same tick). */
export async function timedAsync(name, op, seconds) {
  const counting = countMode(name);
  if (counting !== undefined) {
    for (let i = 0; i < counting; i++) await op();
    return;
  }
  const w0 = process.hrtime.bigint();
  for (let i = 0; i < 20; i++) await op();
  while (Number(process.hrtime.bigint() - w0) / 1e9 < seconds / 4) await op();
  let ops = 0;
  const cpu0 = process.resourceUsage();
  const caller0 = callerCpu();
  const t0 = process.hrtime.bigint();
  let elapsed;
  do {
    for (let b = 0; b < 10; b++) await op();
    ops += 10;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (elapsed < seconds);
  console.log(JSON.stringify({ case: name, ops, seconds: elapsed, ...cpuSince(cpu0, caller0) }));
}

function straceCounts(file, args, options) {
  const dir = mkdtempSync(join(tmpdir(), 'zcopy-strace-'));
  const out = join(dir, 'counts');
  try {
    execFileSync('strace', ['-f', '-c', '-U', 'calls,name', '-o', out, file, ...args.map(String)], {
      stdio: ['ignore', 'ignore', 'inherit'],
      ...options,
    });
    const counts = {};
    for (const line of readFileSync(out, 'utf8').split('\n')) {
      const m = /^\s*(\d+)\s+(\w+)\s*$/.exec(line);
      if (m && m[2] !== 'total') counts[m[2]] = Number(m[1]);
    }
    return counts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether strace can be run here (syscall counts are left out without it). */
export function haveStrace() {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Syscalls per operation, counted with `strace -f -c`: the run of `argsFor(n)` minus the run of `argsFor(0)`
 * (start-up and exit cancel out), divided by n. Returns { total, calls: { name: perOp } } with the syscalls
 * made at least `min` times per operation (what is left below that is start-up noise: threads, GC).
 */
export function syscallsPerOp(file, argsFor, { n = 500, min = 0.05, envFor, ...options } = {}) {
  const env = (k) => (envFor ? { env: { ...process.env, ...envFor(k) } } : {});
  const zero = straceCounts(file, argsFor(0), { ...options, ...env(0) });
  const full = straceCounts(file, argsFor(n), { ...options, ...env(n) });
  const calls = {};
  let total = 0;
  for (const name of new Set([...Object.keys(zero), ...Object.keys(full)])) {
    const per = ((full[name] ?? 0) - (zero[name] ?? 0)) / n;
    if (Math.abs(per) < min) continue;
    calls[name] = Math.round(per * 100) / 100;
    total += calls[name];
  }
  return { total: Math.round(total * 100) / 100, calls };
}

/**
 * syscallsPerOp of one case of a bench program in count mode (count.h / countMode): the program runs with
 * ZCOPY_BENCH_CASE=name and ZCOPY_BENCH_COUNT=n, then 0.
 */
export function syscallsPerCase(name, file, args, options = {}) {
  return syscallsPerOp(file, () => args, {
    ...options,
    envFor: (k) => ({ ZCOPY_BENCH_CASE: name, ZCOPY_BENCH_COUNT: String(k) }),
  });
}

/** { ioctl: 2, close: 1 } as "ioctl×2 close", sorted by name. */
export function formatCalls(calls) {
  return Object.keys(calls)
    .sort()
    .map((k) => (calls[k] === 1 ? k : `${k}×${calls[k]}`))
    .join(' ');
}

/**
 * Syscalls that are Node's and V8's own, not the operation's: the clock reads of V8's GC tracer and heuristics
 * (a syscall only where the clocksource has no vDSO, as in the TCG guest), JIT code-page permission flips,
 * the platform threads' futexes, madvise of freed pages. Below 0.3 per op an entry is noise of the same kind.
 */
export const runtimeSyscalls = new Set([
  'clock_gettime',
  'mprotect',
  'futex',
  'madvise',
  'sched_yield',
  'brk',
]);

/**
 * A syscallsPerOp result as text: the operation's own syscalls with their sum, then what the runtime added
 * (runtimeSyscalls, and entries under 0.3 per op), e.g. "3: close ioctl×2 (+ runtime: clock_gettime×1.7)".
 */
export function describeCalls(s) {
  if (!s) return '-';
  const own = {};
  const runtime = {};
  for (const [name, per] of Object.entries(s.calls))
    (runtimeSyscalls.has(name) || Math.abs(per) < 0.3 ? runtime : own)[name] = per;
  const total = Math.round(Object.values(own).reduce((a, b) => a + b, 0) * 100) / 100;
  const extra = Object.fromEntries(Object.entries(runtime).filter(([, per]) => per >= 0.05));
  return `${total}: ${formatCalls(own)}${Object.keys(extra).length ? ` (+ runtime: ${formatCalls(extra)})` : ''}`;
}

/**
 * Syscalls per op of every case, both sides (strace -f -c in count mode; {} without strace): `zcopy` and `c` are
 * [file, args] of the two bench programs; `cName` maps a zcopy case to the C case it is measured against, and
 * `also` an alternatingOps row to the zcopy case it repeats.
 */
export function syscallsOfCases(names, { zcopy, c, cName = (n) => n, also = {}, n = 200 }) {
  if (!haveStrace()) {
    console.error('bench: no strace here: syscall counts left out');
    return {};
  }
  return Object.fromEntries(
    names.map((name) => [
      name,
      {
        zcopy: syscallsPerCase(also[name] ?? name, zcopy[0], zcopy[1], { n }),
        c: syscallsPerCase(cName(name), c[0], c[1], { n }),
      },
    ]),
  );
}

/** ratioReport's extra columns for rows with `syscalls: { zcopy, c }`. */
export const syscallColumns = [
  {
    header: 'syscalls zcopy',
    value: (r) => describeCalls(r.syscalls?.zcopy),
  },
  {
    header: 'syscalls C',
    value: (r) => describeCalls(r.syscalls?.c),
  },
];

/**
 * Where a package's bench writes its results by default: docs/bench/<name>.json, or ZCOPY_BENCH_RESULTS_DIR
 * (scripts/bench.mjs sets it in the guest, whose writes elsewhere never reach the host, and copies them back).
 */
export function resultsPath(name) {
  const dir = process.env.ZCOPY_BENCH_RESULTS_DIR || join(packagesDir, '..', 'docs', 'bench');
  return join(dir, `${name}${jitless ? '-jitless' : ''}.json`);
}

/**
 * Whether this run's Node processes (the bench and every zcopy side it starts, which inherit NODE_OPTIONS) run
 * without V8's JIT. Under QEMU TCG, JIT-compiled code is emulated like any other, and V8's compiling and
 * code-page flips cost more there than the interpreter saves; scripts/bench.mjs runs the guest benches once
 * more with NODE_OPTIONS=--jitless so the table shows both.
 */
const jitless =
  /(^|\s)--jitless(\s|$)/.test(process.env.NODE_OPTIONS ?? '') || process.execArgv.includes('--jitless');

/** The results' `where`: `base`, and ", node --jitless" for a jitless run. */
export function where(base) {
  return jitless ? `${base}, node --jitless` : base;
}

/** Writes a bench's results (one JSON document) where the README's table generator reads them. */
export function writeResults(path, results) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}
