#!/usr/bin/env node
// The whole test suite, as `npm test` and CI run it:
//   1. static checks (typecheck, lint), host tests (vitest project 'host'), then the packaging suite
//      (test/packaging: tarballs, npm/pnpm installs, x64 and arm64-under-qemu smoke): alongside everything below
//   2. the guest images are built or found (with progress), before anything that has a timeout
//   3. then two lanes of guests at once, each guest on one host core:
//      bare lane: the VM runner's own tests (test/rig, node --test: real guests, panicking and hung ones too),
//        the image smoke check (the kernel's own selftests for sync, udmabuf and dma-heaps), the VM tests
//        (vitest project 'vm', inside our kernel under QEMU), then the Xen VM tests (vitest project 'xen' in
//        dom0 of a Xen guest) but the PV display backend's
//      Xen lane: the PV display backend's Xen tests, then the demo's smoke run (scripts/demo.mjs: every step
//        passes and every PNG is written)
//   4. arm64 (the seeds' hardware), one guest at a time: its images built or found, then the runner's arm64 tests
//      (test/rig-arm64), the kernel selftests, the VM tests and the Xen VM tests (the rest, then the PV display
//      backend's) in arm64 guests, then the arm64 demo (`demo.mjs --arch arm64`: the frontend-allocated direction's
//      backend in arm64 dom0, where the seeds put it). Every arch-specific expectation is in the test itself; a
//      test that cannot run on arm64 is skipped with the reason in its title and listed after the table.
// Last line: "N passed, N failed" over every suite. A VM suite that did not run is a failure, never a pass.
// Flags (quick local runs; CI passes none): --host-only (skip 2-4), --vm-only (skip 1), --x64-only (skip 4),
// --arm64-only (skip 2-3).
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const outDir = join(root, 'out', 'test');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const results = []; // { suite, passed, failed, skipped, note }
let broken = false;

// Where the time goes on the machine's cores (issue #15): the whole machine's busy CPU time over each phase's wall
// time. Busy is every process's user, nice, system, irq and softirq time from /proc/stat (USER_HZ 100; a QEMU
// guest's time is in user), so the host suites running alongside count in whichever phase they ran. A phase that
// keeps every core busy is at the floor of its work on this machine: only less work makes it shorter.
const cores = availableParallelism();
const cpuSecs = () => {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  // steal: time the hypervisor under this machine gave our vCPUs to others (ready to run, not running)
  return { busy: (user + nice + system + irq + softirq) / 100, steal: (steal ?? 0) / 100 };
};
const phases = []; // { phase, secs, busy, steal }: seconds
let phaseMark = { t: Date.now(), ...cpuSecs() };
function endPhase(phase) {
  const now = { t: Date.now(), ...cpuSecs() };
  phases.push({
    phase,
    secs: (now.t - phaseMark.t) / 1000,
    busy: now.busy - phaseMark.busy,
    steal: now.steal - phaseMark.steal,
  });
  phaseMark = now;
}

function vitestCounts(file) {
  if (!existsSync(file)) return undefined;
  const r = JSON.parse(readFileSync(file, 'utf8'));
  return { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests };
}

// A suite's wall time runs from `since` (default: the end of the previous record(), or the start) to `until`
// (default: now; the suites of the concurrent lanes pass their own end).
let mark = Date.now();
const RETRY = /zcopy-retry: (.*)$/; // how every boot retry announces itself (runner, domU launchers)
/** Retry announcements in a console log or captured output: a retried boot, file or stalled run is counted,
 *  never silent. */
const retriesIn = (text) =>
  (text ?? '')
    .split('\n')
    .map((l) => RETRY.exec(l)?.[1])
    .filter(Boolean);

function record(suite, counts, exitStatus, note = '', retries = [], since = mark, until = Date.now()) {
  const secs = Math.round((until - since) / 1000);
  mark = Date.now();
  if (!counts) {
    results.push({ suite, passed: 0, failed: 1, skipped: 0, secs, retries, note: note || 'did not run' });
    broken = true;
    return;
  }
  if (exitStatus !== 0 && counts.failed === 0) {
    counts.failed = 1; // the runner failed outside any single test (collection error, crash)
    note ||= `exited with ${exitStatus}`;
  }
  results.push({ suite, ...counts, secs, retries, note });
}

/** node --test's TAP summary ("# pass N", "# fail N", ...), or undefined when there is none. */
function tapCounts(file) {
  const tap = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const n = (k) => Number(tap.match(new RegExp(`^# ${k} (\\d+)$`, 'm'))?.[1] ?? Number.NaN);
  if (Number.isNaN(n('pass'))) return undefined;
  return { passed: n('pass'), failed: n('fail') + (n('cancelled') || 0), skipped: n('skipped') + n('todo') };
}

/**
 * Each failed test of a suite, with why: printed after the summary table, so the tail of a CI log (all a CI
 * page may keep of it) names the failing tests and their errors, not only their count.
 */
const failedTests = []; // { suite, name, detail }
const clip = (text, head = 6, tail = 30) => {
  const l = text.trimEnd().split('\n');
  return l.length <= head + tail + 1
    ? l
    : [...l.slice(0, head), `[... ${l.length - head - tail} lines ...]`, ...l.slice(-tail)];
};

/** node --test TAP: each "not ok" test (not its parents, which only say a subtest failed) and its error. */
function tapFailures(suite, file) {
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i]);
    if (!m) continue;
    const ind = m[1];
    const block = [];
    for (i++; i < lines.length && lines[i] !== `${ind}  ...`; i++) block.push(lines[i].slice(ind.length + 2));
    if (block.some((l) => l === "failureType: 'subtestsFailed'")) continue;
    const detail = [];
    for (let j = 0; j < block.length; j++) {
      const f = /^(location|error|expected|actual|code): ?(.*)$/.exec(block[j]);
      if (!f) continue;
      if (f[2] === '|-' || f[2] === '>-') {
        const body = [];
        for (j++; j < block.length && block[j].startsWith('  '); j++) body.push(block[j].slice(2));
        j--;
        detail.push(`${f[1]}:`, ...clip(body.join('\n')).map((l) => `  ${l}`));
      } else detail.push(`${f[1]}: ${f[2]}`);
    }
    failedTests.push({ suite, name: m[2], detail });
  }
}

/** A vitest JSON report's failed tests and their messages. */
function vitestFailures(suite, file) {
  if (!existsSync(file)) return;
  const r = JSON.parse(readFileSync(file, 'utf8'));
  for (const f of r.testResults ?? []) {
    for (const t of f.assertionResults ?? [])
      if (t.status === 'failed')
        failedTests.push({
          suite,
          name: `${relative(root, f.name)} > ${t.fullName ?? t.title}`,
          // vitest's own frames say nothing (a timeout's message is only "STACK_TRACE_ERROR" there): the
          // duration and the frames in the project's files do.
          detail: [
            `after ${((t.duration ?? 0) / 1000).toFixed(1)} s`,
            ...clip(
              (t.failureMessages ?? [])
                .join('\n')
                .split('\n')
                .filter((l) => !/^\s+at .*node_modules/.test(l))
                .join('\n'),
              10,
              20,
            ),
          ],
        });
    // A file that failed outside its tests (collection, a hook): its message.
    if (f.status === 'failed' && !(f.assertionResults ?? []).some((t) => t.status === 'failed'))
      failedTests.push({ suite, name: relative(root, f.name), detail: clip(f.message ?? '', 10, 20) });
  }
}

/** The slowest test files of a vitest JSON report, for the time table. */
function slowestFiles(file, n = 5) {
  if (!existsSync(file)) return [];
  const r = JSON.parse(readFileSync(file, 'utf8'));
  return r.testResults
    .map((t) => ({ file: relative(root, t.name), secs: Math.round((t.endTime - t.startTime) / 1000) }))
    .sort((a, b) => b.secs - a.secs)
    .slice(0, n);
}
const timings = {}; // suite -> slowest files
const skippedTests = []; // [suite, "file > title"] of each test a VM suite skipped (the title says why)

const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');

/** Runs a command to its end; with `log`, its output goes to that file instead of ours. */
function runAsync(cmd, argv, log) {
  return new Promise((done) => {
    const out = log ? openSync(log, 'a') : 'inherit';
    if (log) writeFileSync(log, `\n$ ${cmd} ${argv.join(' ')}\n`, { flag: 'a' });
    else console.error(`\n[test] $ ${cmd} ${argv.join(' ')}`);
    const child = spawn(cmd, argv, { cwd: root, stdio: ['ignore', out, out] });
    child.on('close', (status) => {
      if (log) closeSync(out);
      done({ status });
    });
  });
}

/**
 * Static checks and host tests. Alongside the VM suites (their output kept in a log and shown only if they
 * fail): a bare guest runs single-threaded TCG on one core, and these use the other. Resolves to their rows.
 */
async function hostSuites(log) {
  const rows = [];
  let t0 = Date.now();
  const tc = await runAsync(
    process.execPath,
    [join(root, 'scripts', 'turbo.mjs'), 'run', 'typecheck', '--output-logs=errors-only'],
    log,
  );
  const lint = await runAsync(join(root, 'node_modules', '.bin', 'biome'), ['check', '.'], log);
  rows.push([
    'static (typecheck, lint)',
    {
      passed: (tc.status === 0) + (lint.status === 0),
      failed: (tc.status !== 0) + (lint.status !== 0),
      skipped: 0,
    },
    0,
    t0,
    Date.now(),
  ]);
  t0 = Date.now();
  const host = await runAsync(
    process.execPath,
    [
      vitest,
      'run',
      '--project',
      'host',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${join(outDir, 'host.json')}`,
    ],
    log,
  );
  timings.host = slowestFiles(join(outDir, 'host.json'));
  rows.push(['host', vitestCounts(join(outDir, 'host.json')), host.status, t0, Date.now()]);
  vitestFailures('host', join(outDir, 'host.json'));
  // Packaging (test/packaging): pack every package (the arm64 addons cross-built), check the tarballs, install
  // them with npm and pnpm, smoke x64 and arm64 (qemu-user), type-check a consumer, dry-run the release.
  t0 = Date.now();
  const tap = join(outDir, 'packaging.tap');
  const pkg = await runAsync(
    process.execPath,
    [
      '--test',
      '--test-reporter=spec',
      '--test-reporter-destination=stderr',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      join(root, 'test', 'packaging', 'packaging.test.mjs'),
    ],
    log,
  );
  rows.push(['packaging (tarballs, installs)', tapCounts(tap), pkg.status, t0, Date.now()]);
  tapFailures('packaging (tarballs, installs)', tap);
  if (log && rows.some(([, c, st]) => !c || c.failed || st)) {
    console.error(`\n[test] static/host checks failed; their output (${log}):`);
    console.error(readFileSync(log, 'utf8'));
  }
  return rows;
}
const recordHost = (rows) => {
  for (const [suite, counts, status, t0, t1] of rows) record(suite, counts, status, '', [], t0, t1);
};

let hostJob; // the static/host rows, when they run alongside the VM suites
if (!args.has('--vm-only')) {
  if (args.has('--host-only')) recordHost(await hostSuites());
  else {
    const log = join(outDir, 'static-host.log');
    console.error(`\n[test] static checks and host tests run alongside the VM suites (output: ${log})`);
    hostJob = hostSuites(log);
  }
}

// Guest images (kernel, initramfs, Xen, domU base, selftests) are built or found here, before any suite that has
// a timeout: a cold kernel build must never count against a test's time. Their progress goes to stderr.
let imagesOk = true;
if (!args.has('--host-only') && !args.has('--arm64-only')) {
  const { ensureImages, imagePath } = await import('./vm/images.mjs');
  const t0 = Date.now();
  console.error('\n[test] guest images: building or finding them (cached in ~/.cache/zcopy)');
  try {
    await ensureImages('bare');
    await ensureImages('xen');
    await imagePath('build-selftests.sh');
    console.error(`[test] guest images ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    record('guest images (build/find)', { passed: 0, failed: 0, skipped: 0 }, 0);
    endPhase('x86 images');
  } catch (e) {
    imagesOk = false;
    console.error(`[test] guest images failed: ${e.message}`);
    record('guest images', undefined, 1, 'build failed: no VM suite can run');
  }
}

/** Runner self-tests (test/rig, test/rig-arm64: node --test): TAP summary lines "# pass N" / "# fail N". */
async function rigSuite(dir = 'rig', label = 'VM runner (test/rig)') {
  const t0 = Date.now();
  const rigDir = join(root, 'test', dir);
  const rigFiles = existsSync(rigDir)
    ? readdirSync(rigDir)
        .filter((f) => f.endsWith('.test.mjs'))
        .map((f) => join(rigDir, f))
    : [];
  if (!rigFiles.length) return [label, undefined, 1, 'no runner tests found', [], t0, Date.now()];
  const tap = join(outDir, `${dir}.tap`);
  const rig = await runAsync(process.execPath, [
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    '--test-reporter-destination=stderr',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...rigFiles,
  ]);
  tapFailures(label, tap);
  return [label, tapCounts(tap), rig.status, '', [], t0, Date.now()];
}

/** Image smoke check: the kernel's own selftests in the guest. */
async function selftestsSuite(arch = 'x64') {
  const t0 = Date.now();
  const label = `${arch === 'arm64' ? 'arm64: ' : ''}kernel selftests (in VM)`;
  if (!existsSync(join(root, 'scripts', 'vm', 'selftests.mjs')))
    return [label, undefined, 1, 'scripts/vm/selftests.mjs missing', [], t0, Date.now()];
  const file = join(outDir, `selftests${arch === 'arm64' ? '-arm64' : ''}.json`);
  const st = await runAsync(process.execPath, [
    join(root, 'scripts', 'vm', 'selftests.mjs'),
    '--arch',
    arch,
    '--json',
    file,
  ]);
  const j = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  const counts = j ? { passed: j.passed, failed: j.failed, skipped: j.skipped ?? 0 } : undefined;
  return [label, counts, st.status, '', j?.retries ?? [], t0, Date.now()];
}

/**
 * A vitest project inside a guest (bare kernel, or dom0 of the Xen guest), results written to a host directory
 * the runner shares into the guest at the same path. `log`: the guest console goes there instead of ours
 * (its last lines are shown if the suite fails).
 */
async function vmSuite(
  project,
  mode,
  label,
  log,
  { name = project, filters = [], arch = 'x64', timeoutMs = 30 * 60_000 } = {},
) {
  const t0 = Date.now();
  const { runInVm } = await import('./vm/runner.mjs');
  // The results file must be inside the directory shared writable into the guest.
  const vmOut = join(outDir, name);
  const json = join(vmOut, 'results.json');
  mkdirSync(vmOut, { recursive: true });
  console.error(
    `\n[test] ${label}: vitest --project ${project}, ${mode} guest${log ? ` (console: ${log})` : ''}`,
  );
  const vm = await runInVm({
    mode,
    arch,
    cwd: root,
    outDir: vmOut,
    quiet: Boolean(log),
    timeoutMs,
    // vitest redraws its summary every second on the guest's console: 3 minutes of silence is a guest frozen
    // under TCG (images/README.md). The runner looks inside it, ends it and runs the suite once more, announced.
    silenceMs: 3 * 60_000,
    progress: (m) => console.error(`[vm ${mode}] ${m}`),
    // The Xen suite goes through xen-suite.mjs: a file that failed while one of its domUs died (by xl's
    // account) runs once more, announced with a zcopy-retry: line.
    command:
      project === 'xen'
        ? [process.execPath, join(root, 'scripts', 'vm', 'xen-suite.mjs'), '--json', json, ...filters]
        : [
            process.execPath,
            vitest,
            'run',
            '--project',
            project,
            '--reporter=default',
            '--reporter=json',
            `--outputFile.json=${json}`,
            ...filters,
          ],
  });
  if (log) writeFileSync(log, vm.consoleLog);
  const counts = vitestCounts(json);
  // domU kernel BUG reports (xen-suite.mjs): unexpected ones fail the suite (its exit status) and are named
  // here; those a test declared (a stock driver's known defect, driven on purpose) are noted.
  // Not anchored at the line's start: vitest's last terminal codes (e.g. ESC[?25h) can come first.
  const domUBugs = vm.consoleLog.match(/zcopy-kernel-bug: domU \S+: .*$/gm) ?? [];
  const expectedBugs = vm.consoleLog.match(/zcopy-kernel-bug-expected: domU \S+: .*$/gm) ?? [];
  const failure = vm.ok
    ? ''
    : domUBugs.length
      ? `${domUBugs.length} domU kernel BUG report(s), first: ${domUBugs[0].replace(/^zcopy-kernel-bug: /, '')}; ` +
        `console: ${join(vmOut, 'console.log')}`
      : `guest ${vm.reason}${vm.exitCode != null ? ` (exit ${vm.exitCode})` : ''}${
          vm.kernelBugs ? `: ${vm.kernelBugs.split('\n')[0]}` : ''
        }; console: ${join(vmOut, 'console.log')}`;
  const retries = retriesIn(vm.consoleLog);
  // Tests a suite skipped, with the reason in their titles (xen-suite.mjs prints them): listed after the table.
  for (const t of vm.consoleLog.match(/zcopy-skipped: .*$/gm) ?? [])
    skippedTests.push([label, t.replace(/^zcopy-skipped: /, '')]);
  const bugNote = expectedBugs.length
    ? `${expectedBugs.length} domU(s) with BUG reports their tests declared (stock driver defects): ${join(vmOut, 'console.log')}`
    : '';
  timings[label] = slowestFiles(json);
  vitestFailures(label, json);
  if (!vm.ok) {
    const lines = log ? vm.jobOutput : vm.consoleLog;
    console.error(
      `\n[test] ${label} failed; last lines:\n${lines.trimEnd().split('\n').slice(-60).join('\n')}`,
    );
  }
  if (counts && counts.passed + counts.failed === 0)
    return [label, undefined, 1, `the ${project} suite ran no test`, retries, t0, Date.now()];
  return [label, counts, vm.ok ? 0 : (vm.exitCode ?? 1), failure || bugNote, retries, t0, Date.now()];
}

/**
 * The main job, as the README's first command runs it: each step of both directions counts as one test, and
 * each picture it must write as one more (a PNG of the display's size). Its output goes to `log`.
 */
async function demoSuite(log, arch = 'x64') {
  const t0 = Date.now();
  const demoOut = join(outDir, arch === 'arm64' ? 'demo-arm64' : 'demo');
  const argv = [
    join(root, 'scripts', 'demo.mjs'),
    ...(arch === 'arm64' ? ['--arch', 'arm64'] : []),
    '--out',
    demoOut,
  ];
  console.error(`\n[test] $ node ${['scripts/demo.mjs', ...argv.slice(1)].join(' ')} (output: ${log})`);
  const demo = await runAsync(process.execPath, argv, log);
  const output = existsSync(log) ? readFileSync(log, 'utf8') : '';
  const demoRetries = retriesIn(output);
  const summaryFile = join(demoOut, 'demo.json');
  let counts;
  if (existsSync(summaryFile)) {
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
    const pngOk = (f) => {
      if (!existsSync(f)) return false;
      const b = readFileSync(f);
      return b.subarray(1, 4).toString() === 'PNG' && b.readUInt32BE(16) > 0 && b.readUInt32BE(20) > 0;
    };
    const pictures = ['backend-allocated.png', 'frontend-allocated.png', 'stock-guest.png'].map((f) =>
      pngOk(join(demoOut, f)),
    );
    const ok = summary.steps.filter((x) => x.ok).length + pictures.filter(Boolean).length;
    const bad = summary.steps.filter((x) => !x.ok).length + pictures.filter((x) => !x).length;
    counts = { passed: ok, failed: bad, skipped: 0 };
  }
  if (!counts || counts.failed || demo.status)
    console.error(`\n[test] the demo failed; its output:\n${output}`);
  return [
    `${arch === 'arm64' ? 'arm64: ' : ''}demo smoke run (Xen)`,
    counts,
    demo.status,
    '',
    demoRetries,
    t0,
    Date.now(),
  ];
}

// Two lanes of guests at once. Each guest keeps to one host core: a bare guest runs single-threaded TCG, and the
// Xen guest's hypervisor runs on one CPU (maxcpus=1, images/README.md). The bare lane streams the output of the
// runner tests, selftests and the bare VM suite; the Xen guests and the demo write theirs to logs in out/test
// and print progress, and their output when they fail. The static/host checks run alongside both.
// The Xen suite is split in two guests to even the lanes: the PV display backend's files (stock guests running
// modetest: minutes of domU boots and flips) in the Xen lane before the demo, the rest at the end of the bare
// lane. Both go through xen-suite.mjs, each with its own results and console log.
const pvDisplay = existsSync(join(root, 'packages', 'pv-display'));
const xenShard = (which, log) =>
  which === 'pv-display'
    ? vmSuite('xen', 'xen', 'Xen VM: pv-display (dom0)', log, {
        name: 'xen-pv-display',
        filters: ['packages/pv-display/'],
      })
    : vmSuite('xen', 'xen', 'Xen VM (vitest in dom0)', log, {
        filters: pvDisplay ? ['--exclude', 'packages/pv-display/**'] : [],
      });
/**
 * Runs two lanes of suites at once (each a function resolving to its rows, one suite after another) and records
 * their rows. The CPU phases: both lanes, then the one left.
 */
async function twoLanes(name, bare, xen) {
  let left = 2;
  const done = (lane) => (rows) => {
    if (--left === 1) endPhase(`${name}, both lanes (the ${lane} lane ended first)`);
    return rows;
  };
  const xenRows = xen().then(done('Xen'));
  const bareRows = await bare().then(done('bare'));
  for (const [suite, counts, status, note, retries, t0, t1] of [...bareRows, ...(await xenRows)])
    record(suite, counts, status, note, retries, t0, t1);
  endPhase(`${name}, one lane left`);
}

if (!args.has('--host-only') && !args.has('--arm64-only') && imagesOk) {
  process.env.ZCOPY_VM_SLOTS ??= '2'; // the two lanes: one slot each (a slot is a guest on one core)
  await twoLanes(
    'x86 suites',
    async () => {
      const rows = [
        await rigSuite(),
        await selftestsSuite(),
        await vmSuite('vm', 'bare', 'VM (vitest in guest)'),
      ];
      if (pvDisplay) rows.push(await xenShard('rest', join(outDir, 'xen-console.log')));
      return rows;
    },
    async () => [
      pvDisplay
        ? await xenShard('pv-display', join(outDir, 'xen-pv-display-console.log'))
        : await xenShard('rest', join(outDir, 'xen-console.log')),
      await demoSuite(join(outDir, 'demo.log')),
    ],
  );
}

// arm64, the seeds' hardware (images/README.md, "arm64 guests"): the same suites in arm64 guests, after the x86
// lanes, one guest at a time. Its images (a cross-built kernel, arm64 Debian userland, the arm64 addons) are built
// or found first, outside any timeout. One at a time kept only 1.15 of the 2 cores busy (warm run, 2026-12-01
// 19:46: 18m06s busy in 15m42s; the PV display guests 0.5-1.0, waiting on flips and frontends), but two lanes of
// arm64 guests (ZCOPY_ARM64_LANES=2, as for x86) were no faster: 15m52s at 1.90 cores, 29m57s busy (the 20:30
// run). Each guest has two vCPU threads (MTTCG); four on two cores spend the idle core and more, most likely on
// vCPUs that spin while the one they wait for is descheduled. --x64-only leaves arm64 out (quick local runs; CI
// never passes it).
const ARM64_LANES = Number(process.env.ZCOPY_ARM64_LANES ?? 1);
if (!args.has('--host-only') && !args.has('--x64-only')) {
  const { ensureImages, imagePath } = await import('./vm/images.mjs');
  const t0 = Date.now();
  console.error('\n[test] arm64 guest images: building or finding them (cached in ~/.cache/zcopy)');
  let arm64Ok = true;
  try {
    await ensureImages('bare', 'arm64');
    await ensureImages('xen', 'arm64');
    await imagePath('build-selftests.sh', ['arm64']);
    console.error(`[test] arm64 guest images ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    record('arm64: guest images', { passed: 0, failed: 0, skipped: 0 }, 0, '', [], t0);
    endPhase('arm64 images');
  } catch (e) {
    arm64Ok = false;
    console.error(`[test] arm64 guest images failed: ${e.message}`);
    record('arm64: guest images', undefined, 1, 'build failed: no arm64 VM suite can run', [], t0);
  }
  if (arm64Ok) {
    const arm64 = { arch: 'arm64', timeoutMs: 45 * 60_000 };
    const bare = async () => [
      await rigSuite('rig-arm64', 'arm64: VM runner (rig-arm64)'),
      await selftestsSuite('arm64'),
      await vmSuite('vm', 'bare', 'arm64: VM (vitest in guest)', undefined, { ...arm64, name: 'vm-arm64' }),
      await vmSuite('xen', 'xen', 'arm64: Xen VM (vitest in dom0)', join(outDir, 'xen-arm64-console.log'), {
        ...arm64,
        name: 'xen-arm64',
        filters: pvDisplay ? ['--exclude', 'packages/pv-display/**'] : [],
      }),
    ];
    const xen = async () => [
      ...(pvDisplay
        ? [
            await vmSuite(
              'xen',
              'xen',
              'arm64: Xen VM: pv-display',
              join(outDir, 'xen-arm64-pv-display-console.log'),
              { ...arm64, name: 'xen-arm64-pv-display', filters: ['packages/pv-display/'] },
            ),
          ]
        : []),
      await demoSuite(join(outDir, 'demo-arm64.log'), 'arm64'),
    ];
    if (ARM64_LANES === 2) await twoLanes('arm64 suites', bare, xen);
    else {
      for (const [suite, counts, status, note, retries, s0, s1] of [...(await bare()), ...(await xen())])
        record(suite, counts, status, note, retries, s0, s1);
      endPhase('arm64 suites (one guest at a time)');
    }
  }
}

if (hostJob) recordHost(await hostJob);
endPhase('host checks left');

console.log('\nsuite                          passed  failed  skipped   time        retries');
for (const r of results) {
  const t = `${Math.floor(r.secs / 60)}m${String(r.secs % 60).padStart(2, '0')}s`;
  console.log(
    `${r.suite.padEnd(30)} ${String(r.passed).padStart(6)}  ${String(r.failed).padStart(6)}  ${String(r.skipped).padStart(7)}  ${t.padStart(6)}  ${String(r.retries.length).padStart(13)}${r.note ? `  ${r.note}` : ''}`,
  );
}
for (const r of results) for (const why of r.retries) console.log(`retried (${r.suite}): ${why}`);
for (const [suite, t] of skippedTests) console.log(`skipped (${suite}): ${t}`);
for (const [suite, files] of Object.entries(timings))
  if (files.length)
    console.log(`slowest files (${suite}): ${files.map((f) => `${f.file} ${f.secs}s`).join(', ')}`);
const mmss = (secs) => `${Math.floor(secs / 60)}m${String(Math.round(secs % 60)).padStart(2, '0')}s`;
const cpuLine = (name, { secs, busy, steal }) =>
  `cpu (${name}): ${mmss(secs)} wall, ${mmss(busy)} busy = ${(busy / secs).toFixed(2)} of ${cores} cores` +
  (steal >= 1 ? ` (and ${mmss(steal)} stolen by the host's hypervisor)` : '');
const whole = phases.reduce(
  (a, p) => ({ secs: a.secs + p.secs, busy: a.busy + p.busy, steal: a.steal + p.steal }),
  {
    secs: 0,
    busy: 0,
    steal: 0,
  },
);
for (const p of phases) if (p.secs >= 1) console.log(cpuLine(p.phase, p));
if (whole.secs >= 1) console.log(cpuLine('whole run', whole));
writeFileSync(join(outDir, 'timings.json'), JSON.stringify({ results, timings, phases, cores }, null, 2));
if (failedTests.length) {
  console.log(
    `\nfailed tests (${failedTests.length}; the whole output of each suite is in ${relative(root, outDir)}):`,
  );
  for (const { suite, name, detail } of failedTests.slice(0, 12)) {
    console.log(`✖ ${suite}: ${name}`);
    for (const l of detail) console.log(`    ${l}`);
  }
  if (failedTests.length > 12) console.log(`[... ${failedTests.length - 12} more failed tests ...]`);
}
const passed = results.reduce((a, r) => a + r.passed, 0);
const failed = results.reduce((a, r) => a + r.failed, 0);
const skipped = results.reduce((a, r) => a + r.skipped, 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || broken ? 1 : 0);
