#!/usr/bin/env node
// The Xen suite as dom0 runs it: `vitest run --project xen`, and once more for each test file that failed while
// one of the domUs it started died. Under QEMU TCG a PVH domU now and then dies by no fault of the code under test
// (QEMU's nested-SVM emulation: images/README.md, "PVH domUs crash now and then"); a domU boot that dies is
// retried where it boots (@zcopy/xen/domu), but a domU that dies in the middle of a scenario fails its test,
// which cannot go back. So:
//   - a death is what xl itself logged: /var/log/xen/xl-<name>.log says "has shut down, reason code R" with R
//     anything but poweroff (our guests end by powering off; `xl destroy` logs "has been destroyed");
//   - a failed file is run again only if such a death was logged while it ran (the log's time within the
//     file's window: from the end of the file before it to the start of the file after it, so its hooks
//     count), and only once; every file run again prints a `zcopy-retry:` line (the test summary counts and
//     lists them), with the domUs and the reasons;
//   - the results of the second run replace the first's for that file in the JSON the summary reads; a file
//     that fails twice, or fails with no death logged, stays failed;
//   - every test the final report skipped is printed as a `zcopy-skipped: file > title` line (a test skipped on
//     one architecture gives its reason in its title);
//   - a BUG report in a domU kernel's console log (xenconsoled's guest-<name>.log) fails the suite, printed as
//     a zcopy-kernel-bug: line, which the test summary counts and shows, unless the domU's test declared it
//     (DomU.expectKernelBugs, a known defect of a stock driver driven on purpose: zcopy-kernel-bug-expected:);
//     dom0's own BUGs fail the run through the runner (images/init, kernel-bugs).
//   node scripts/vm/xen-suite.mjs --json FILE [more vitest arguments: options, file filters]
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const XL_LOG_DIR = process.env.ZCOPY_XL_LOG_DIR ?? '/var/log/xen';
const REASONS = ['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset'];

/** Runs vitest's xen project (on `files`, or all); returns the parsed JSON report, or undefined. */
function runVitest(out, extra, files = []) {
  const r = spawnSync(
    process.execPath,
    [
      vitest,
      'run',
      '--project',
      'xen',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${out}`,
      ...extra,
      ...files,
    ],
    { cwd: root, stdio: 'inherit' },
  );
  const report = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : undefined;
  return { status: r.status ?? 1, report };
}

/** Domains xl logged as dead (reason and when), from its per-domain logs (rotated ones included). */
export function deaths(dir = XL_LOG_DIR) {
  let names;
  try {
    names = readdirSync(dir).filter((f) => /^xl-.+\.log(\.\d+)?$/.test(f));
  } catch {
    return [];
  }
  const out = [];
  for (const f of names) {
    const file = join(dir, f);
    const text = readFileSync(file, 'utf8');
    const m = /Domain (\d+) has shut down, reason code (\d+)/.exec(text);
    if (!m) continue;
    const reason = REASONS[Number(m[2])] ?? `code ${m[2]}`;
    if (reason === 'poweroff') continue;
    out.push({
      domain: f.replace(/^xl-/, '').replace(/\.log(\.\d+)?$/, ''),
      domid: Number(m[1]),
      reason,
      atMs: statSync(file).mtimeMs,
    });
  }
  return out;
}

/**
 * BUG reports of the domUs' kernels (xenconsoled's per-guest logs): a "BUG: Bad page map" or a BUG from a
 * sleeping or atomic context leaves that kernel corrupted, so the suite fails even if every test passed. A
 * domain whose test declared the reports (DomU.expectKernelBugs: guest-<name>.log.expected-bugs holds the
 * reason) has them as `expected`, which does not fail the suite.
 */
export function domUKernelBugs(dir = join(XL_LOG_DIR, 'console')) {
  let names;
  try {
    names = readdirSync(dir).filter((f) => /^guest-.+\.log$/.test(f));
  } catch {
    return [];
  }
  return names.flatMap((f) => {
    const domain = f.replace(/^guest-/, '').replace(/\.log$/, '');
    let expected;
    try {
      expected = readFileSync(join(dir, `${f}.expected-bugs`), 'utf8').trim();
    } catch {}
    return readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .filter((l) => /\] BUG: |Bad page (map|state)/.test(l))
      .map((line) => ({ domain, line: line.trim(), ...(expected ? { expected } : {}) }));
  });
}

/**
 * The failed files of a report, each with the deaths xl logged while it ran. Files run one after another (one
 * fork); a file's own start and end times leave out its hooks (the domU boots of beforeAll), so its window runs
 * from the end of the file before it to the start of the file after it.
 */
export function failedWithDeaths(report, dead) {
  const files = [...(report?.testResults ?? [])].sort((a, b) => a.startTime - b.startTime);
  return files
    .map((f, i) => ({
      f,
      from: i > 0 ? (files[i - 1].endTime ?? files[i - 1].startTime) : 0,
      to: files[i + 1]?.startTime ?? Infinity,
    }))
    .filter(({ f }) => f.status === 'failed')
    .map(({ f, from, to }) => ({ file: f.name, deaths: dead.filter((d) => d.atMs >= from && d.atMs <= to) }));
}

/** The first report with the retried files' results put in place of theirs, and the totals recounted. */
export function merge(first, again) {
  const byName = new Map((again.testResults ?? []).map((f) => [f.name, f]));
  const testResults = first.testResults.map((f) => byName.get(f.name) ?? f);
  const all = testResults.flatMap((f) => f.assertionResults ?? []);
  const count = (s) => all.filter((t) => t.status === s).length;
  const failedFiles = testResults.filter((f) => f.status === 'failed').length;
  return {
    ...first,
    testResults,
    numTotalTests: all.length,
    numPassedTests: count('passed'),
    numFailedTests: count('failed'),
    numPendingTests: count('pending') + count('skipped'),
    numTodoTests: count('todo'),
    numFailedTestSuites: failedFiles,
    numPassedTestSuites: testResults.length - failedFiles,
    success: failedFiles === 0 && count('failed') === 0,
  };
}

/**
 * The tests a report skipped, as `file > title` (a test skipped on one architecture says why in its title, e.g.
 * "(skipped on arm64: Xen on Arm has no PV guests)"), for the `zcopy-skipped:` lines printed after the run.
 */
export function skippedTests(report) {
  return (report.testResults ?? []).flatMap((f) =>
    (f.assertionResults ?? [])
      .filter((t) => t.status === 'pending' || t.status === 'skipped' || t.status === 'todo')
      .map((t) => `${relative(root, f.name)} > ${t.fullName ?? t.title}`),
  );
}

/** Prints a `zcopy-skipped:` line for each test the final report skipped. */
function printSkipped(json) {
  for (const t of skippedTests(JSON.parse(readFileSync(json, 'utf8')))) console.log(`zcopy-skipped: ${t}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--json');
  if (at < 0 || !argv[at + 1]) {
    console.error('usage: xen-suite.mjs --json FILE [vitest arguments]');
    process.exit(2);
  }
  const json = argv[at + 1];
  const extra = argv.filter((_, i) => i !== at && i !== at + 1);

  const firstJson = `${json}.first.json`;
  const first = runVitest(firstJson, extra);
  if (!first.report) process.exit(first.status || 1);
  const failed = failedWithDeaths(first.report, deaths());
  const again = failed.filter((f) => f.deaths.length > 0);
  if (again.length === 0 || first.status === 0) {
    copyFileSync(firstJson, json);
    printSkipped(json);
    const bugs = bugsFound(json);
    process.exit(first.status || bugs);
  }
  for (const f of again) {
    const who = f.deaths
      .map((d) => `${d.domain} (d${d.domid}, xl: shut down, reason ${d.reason})`)
      .join(', ');
    console.log(
      `zcopy-retry: ${relative(root, f.file)} failed while domU ${who} died under TCG; the file runs again`,
    );
  }
  // The re-run names its files: the first run's path filters would widen it again (an option's value stays).
  const options = extra.filter((a, i) => a.startsWith('-') || extra[i - 1]?.startsWith('--'));
  const second = runVitest(
    `${json}.retry.json`,
    options,
    again.map((f) => f.file),
  );
  if (!second.report) process.exit(second.status || 1);
  const merged = merge(first.report, second.report);
  writeFileSync(json, JSON.stringify(merged));
  console.log(
    `[xen-suite] after the re-run: ${merged.numPassedTests} passed, ${merged.numFailedTests} failed` +
      ` (files run again: ${again.length}; failed files with no death logged: ${failed.length - again.length})`,
  );
  printSkipped(json);
  const bugs = bugsFound(json);
  process.exit(merged.success ? bugs : 1);
}

/**
 * Prints the domUs' kernel BUG reports: each unexpected one as a zcopy-kernel-bug: line (the test summary counts
 * them), each domain that declared its reports as one zcopy-kernel-bug-expected: line with the reason and the
 * count. Every domain with reports has its whole console log copied next to the JSON report (on the host: dom0's
 * root is shared). Returns the exit status: 1 if any report was unexpected.
 */
function bugsFound(json) {
  const bugs = domUKernelBugs();
  const unexpected = bugs.filter((b) => !b.expected);
  for (const b of unexpected) console.log(`zcopy-kernel-bug: domU ${b.domain}: ${b.line}`);
  for (const name of new Set(bugs.map((b) => b.domain))) {
    const mine = bugs.filter((b) => b.domain === name);
    if (mine[0].expected)
      console.log(
        `zcopy-kernel-bug-expected: domU ${name}: ${mine.length} report(s), first: ${mine[0].line}; ` +
          `declared by its test: ${mine[0].expected}`,
      );
    const to = `${json}.guest-${name}.log`;
    copyFileSync(join(XL_LOG_DIR, 'console', `guest-${name}.log`), to);
    console.log(`zcopy-kernel-bug-log: domU ${name}: ${relative(root, to)}`);
  }
  return unexpected.length ? 1 : 0;
}
