#!/usr/bin/env node
// The whole test suite, as `npm test` and CI run it:
//   1. static checks (typecheck, lint)
//   2. host tests (vitest project 'host'), then the packaging suite (test/packaging: tarballs, npm/pnpm installs,
//      x64 and arm64-under-qemu smoke); then the guest images are built or found (with progress), before
//      anything that has a timeout
//   3. tests of the VM runner itself (test/rig, node --test: they boot real guests, panicking and hung ones too)
//   4. the image smoke check (the kernel's own selftests for sync, udmabuf and dma-heaps, in the guest)
//   5. VM tests (vitest project 'vm', inside our kernel under QEMU; project 'xen' in dom0 of the Xen guest)
//   6. the demo's smoke run (scripts/demo.mjs: every step passes and both PNGs are written)
// Last line: "N passed, N failed" over every suite. A VM suite that did not run is a failure, never a pass.
// Flags: --host-only (skip 2-5's VM parts: for quick local runs; CI never passes it), --vm-only.
import { spawn, spawnSync } from 'node:child_process';
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
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const outDir = join(root, 'out', 'test');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const results = []; // { suite, passed, failed, skipped, note }
let broken = false;

function run(cmd, argv, opts = {}) {
  console.error(`\n[test] $ ${cmd} ${argv.join(' ')}`);
  return spawnSync(cmd, argv, { cwd: root, stdio: 'inherit', ...opts });
}

function vitestCounts(file) {
  if (!existsSync(file)) return undefined;
  const r = JSON.parse(readFileSync(file, 'utf8'));
  return { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests };
}

// A suite's wall time runs from `since` (default: the end of the previous record(), or the start) to its record().
let mark = Date.now();
const RETRY = /zcopy-retry: (.*)$/; // how every boot retry announces itself (runner, domU launchers)
/** Retry announcements in a console log or captured output: a retried boot is counted, never silent. */
const retriesIn = (text) =>
  (text ?? '')
    .split('\n')
    .map((l) => RETRY.exec(l)?.[1])
    .filter(Boolean);

function record(suite, counts, exitStatus, note = '', retries = [], since = mark) {
  const secs = Math.round((Date.now() - since) / 1000);
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
  rows.push(['host', vitestCounts(join(outDir, 'host.json')), host.status, t0]);
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
  rows.push(['packaging (tarballs, installs)', tapCounts(tap), pkg.status, t0]);
  if (log && rows.some(([, c, st]) => !c || c.failed || st)) {
    console.error(`\n[test] static/host checks failed; their output (${log}):`);
    console.error(readFileSync(log, 'utf8'));
  }
  return rows;
}
const recordHost = (rows) => {
  for (const [suite, counts, status, t0] of rows) record(suite, counts, status, '', [], t0);
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
if (!args.has('--host-only')) {
  const { ensureImages, imagePath } = await import('./vm/images.mjs');
  const t0 = Date.now();
  console.error('\n[test] guest images: building or finding them (cached in ~/.cache/zcopy)');
  try {
    await ensureImages('bare');
    await ensureImages('xen');
    await imagePath('build-selftests.sh');
    console.error(`[test] guest images ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    record('guest images (build/find)', { passed: 0, failed: 0, skipped: 0 }, 0);
  } catch (e) {
    imagesOk = false;
    console.error(`[test] guest images failed: ${e.message}`);
    record('guest images', undefined, 1, 'build failed: no VM suite can run');
  }
}

if (!args.has('--host-only') && imagesOk) {
  // Runner self-tests: TAP summary lines "# pass N" / "# fail N".
  const rigDir = join(root, 'test', 'rig');
  const rigFiles = existsSync(rigDir)
    ? readdirSync(rigDir)
        .filter((f) => f.endsWith('.test.mjs'))
        .map((f) => join(rigDir, f))
    : [];
  if (rigFiles.length) {
    const rig = run(
      process.execPath,
      [
        '--test',
        '--test-concurrency=1',
        '--test-reporter=spec',
        '--test-reporter-destination=stderr',
        '--test-reporter=tap',
        `--test-reporter-destination=${join(outDir, 'rig.tap')}`,
        ...rigFiles,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const tap = existsSync(join(outDir, 'rig.tap')) ? readFileSync(join(outDir, 'rig.tap'), 'utf8') : '';
    const n = (k) => Number(tap.match(new RegExp(`^# ${k} (\\d+)$`, 'm'))?.[1] ?? Number.NaN);
    record(
      'VM runner (test/rig)',
      Number.isNaN(n('pass'))
        ? undefined
        : { passed: n('pass'), failed: n('fail'), skipped: n('skipped') + n('todo') },
      rig.status,
    );
  } else {
    record('VM runner (test/rig)', undefined, 1, 'no runner tests found');
  }

  // Image smoke check: the kernel's own selftests in the guest.
  if (existsSync(join(root, 'scripts', 'vm', 'selftests.mjs'))) {
    const st = run(process.execPath, [
      join(root, 'scripts', 'vm', 'selftests.mjs'),
      '--json',
      join(outDir, 'selftests.json'),
    ]);
    let counts;
    if (existsSync(join(outDir, 'selftests.json'))) {
      const j = JSON.parse(readFileSync(join(outDir, 'selftests.json'), 'utf8'));
      counts = { passed: j.passed, failed: j.failed, skipped: j.skipped ?? 0 };
    }
    const j = existsSync(join(outDir, 'selftests.json'))
      ? JSON.parse(readFileSync(join(outDir, 'selftests.json'), 'utf8'))
      : {};
    record('kernel selftests (in VM)', counts, st.status, '', j.retries ?? []);
  } else {
    record('kernel selftests (in VM)', undefined, 1, 'scripts/vm/selftests.mjs missing');
  }

  // The VM suites: vitest inside the guest (bare kernel; then dom0 of the Xen guest), results written to a
  // host directory that the runner shares into the guest at the same path.
  const { runInVm } = await import('./vm/runner.mjs');
  for (const [project, mode, label] of [
    ['vm', 'bare', 'VM (vitest in guest)'],
    ['xen', 'xen', 'Xen VM (vitest in dom0)'],
  ]) {
    // A Xen guest runs multi-threaded TCG on both cores: the static/host checks end first.
    if (mode === 'xen' && hostJob) {
      recordHost(await hostJob);
      hostJob = undefined;
    }
    // The results file must be inside the directory shared writable into the guest.
    const vmOut = join(outDir, project);
    const json = join(vmOut, 'results.json');
    mkdirSync(vmOut, { recursive: true });
    console.error(`\n[test] ${label}: vitest --project ${project}, ${mode} guest`);
    const vm = await runInVm({
      mode,
      cwd: root,
      outDir: vmOut,
      quiet: false,
      timeoutMs: 30 * 60_000,
      progress: (m) => console.error(`[vm] ${m}`),
      // The Xen suite goes through xen-suite.mjs: a file that failed while one of its domUs died (by xl's
      // account) runs once more, announced with a zcopy-retry: line.
      command:
        project === 'xen'
          ? [process.execPath, join(root, 'scripts', 'vm', 'xen-suite.mjs'), '--json', json]
          : [
              process.execPath,
              vitest,
              'run',
              '--project',
              project,
              '--reporter=default',
              '--reporter=json',
              `--outputFile.json=${json}`,
            ],
    });
    const counts = vitestCounts(json);
    const failure = vm.ok
      ? ''
      : `guest ${vm.reason}${vm.exitCode != null ? ` (exit ${vm.exitCode})` : ''}; console: ${join(vmOut, 'console.log')}`;
    const retries = retriesIn(vm.consoleLog);
    timings[label] = slowestFiles(json);
    if (counts && counts.passed + counts.failed === 0)
      record(label, undefined, 1, `the ${project} suite ran no test`, retries);
    else record(label, counts, vm.ok ? 0 : (vm.exitCode ?? 1), failure, retries);
    if (!vm.ok && vm.reason !== 'exit')
      console.error(vm.consoleLog.trimEnd().split('\n').slice(-40).join('\n'));
  }
}

if (!args.has('--host-only') && imagesOk) {
  // The main job, as the README's first command runs it: each step of both directions counts as one test,
  // and each picture it must write as one more (a PNG of the display's size).
  const demoOut = join(outDir, 'demo');
  console.error(`\n[test] $ node scripts/demo.mjs --out ${demoOut}`);
  const demoRetries = [];
  const demo = await new Promise((done) => {
    const child = spawn(process.execPath, [join(root, 'scripts', 'demo.mjs'), '--out', demoOut], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tap = (stream, to) => {
      let rest = '';
      stream.on('data', (d) => {
        to.write(d);
        const lines = (rest + d).split('\n');
        rest = lines.pop();
        demoRetries.push(...retriesIn(lines.join('\n')));
      });
      stream.on('end', () => demoRetries.push(...retriesIn(rest)));
    };
    tap(child.stdout, process.stdout);
    tap(child.stderr, process.stderr);
    child.on('close', (status) => done({ status }));
  });
  const summaryFile = join(demoOut, 'demo.json');
  let counts;
  if (existsSync(summaryFile)) {
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
    const pngOk = (f) => {
      if (!existsSync(f)) return false;
      const b = readFileSync(f);
      return b.subarray(1, 4).toString() === 'PNG' && b.readUInt32BE(16) > 0 && b.readUInt32BE(20) > 0;
    };
    const pictures = ['backend-allocated.png', 'frontend-allocated.png'].map((f) => pngOk(join(demoOut, f)));
    const ok = summary.steps.filter((x) => x.ok).length + pictures.filter(Boolean).length;
    const bad = summary.steps.filter((x) => !x.ok).length + pictures.filter((x) => !x).length;
    counts = { passed: ok, failed: bad, skipped: 0 };
  }
  record('demo smoke run (Xen)', counts, demo.status, '', demoRetries);
}

if (hostJob) recordHost(await hostJob); // (when no Xen suite ran)

console.log('\nsuite                          passed  failed  skipped   time  retried boots');
for (const r of results) {
  const t = `${Math.floor(r.secs / 60)}m${String(r.secs % 60).padStart(2, '0')}s`;
  console.log(
    `${r.suite.padEnd(30)} ${String(r.passed).padStart(6)}  ${String(r.failed).padStart(6)}  ${String(r.skipped).padStart(7)}  ${t.padStart(6)}  ${String(r.retries.length).padStart(13)}${r.note ? `  ${r.note}` : ''}`,
  );
}
for (const r of results) for (const why of r.retries) console.log(`retried boot (${r.suite}): ${why}`);
for (const [suite, files] of Object.entries(timings))
  if (files.length)
    console.log(`slowest files (${suite}): ${files.map((f) => `${f.file} ${f.secs}s`).join(', ')}`);
writeFileSync(join(outDir, 'timings.json'), JSON.stringify({ results, timings }, null, 2));
const passed = results.reduce((a, r) => a + r.passed, 0);
const failed = results.reduce((a, r) => a + r.failed, 0);
const skipped = results.reduce((a, r) => a + r.skipped, 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || broken ? 1 : 0);
