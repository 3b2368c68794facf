// The Xen suite's re-run rule (scripts/vm/xen-suite.mjs), on xl logs and vitest reports written here: a failed
// file runs again only when xl logged a death while it ran. (That xl really logs these lines is asserted in a
// real Xen guest by xen.test.mjs.)
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  deaths,
  domUKernelBugs,
  failedWithDeaths,
  merge,
  skippedTests,
} from '../../scripts/vm/xen-suite.mjs';

function xlLog(dir, name, text, atMs) {
  const f = join(dir, `xl-${name}.log`);
  writeFileSync(f, `Waiting for domain ${name} (domid 7) to die [pid 99]\n${text}`);
  utimesSync(f, atMs / 1000, atMs / 1000);
}

const file = (name, status, startTime, endTime, tests) => ({
  name,
  status,
  startTime,
  endTime,
  assertionResults: tests.map((s) => ({ status: s })),
});

test('deaths: reboot and crash count, poweroff and destroy do not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zcopy-xl-'));
  xlLog(
    dir,
    'a',
    'Domain 7 has shut down, reason code 0 0x0\nAction for shutdown reason code 0 is destroy\n',
    1e12,
  );
  xlLog(
    dir,
    'b',
    'Domain 8 has shut down, reason code 1 0x1\nAction for shutdown reason code 1 is destroy\n',
    2e12,
  );
  xlLog(dir, 'c', 'Domain 9 has shut down, reason code 3 0x3\n', 3e12);
  xlLog(dir, 'd', 'Domain 10 has been destroyed.\n', 4e12);
  xlLog(dir, 'e', '', 5e12); // still running
  const got = deaths(dir)
    .map((d) => [d.domain, d.domid, d.reason, d.atMs])
    .sort();
  assert.deepEqual(got, [
    ['b', 8, 'reboot', 2e12],
    ['c', 9, 'crash', 3e12],
  ]);
  assert.deepEqual(deaths(join(dir, 'missing')), []);
});

test('failedWithDeaths: a death counts for the failed file whose window holds it, hooks included', () => {
  const report = {
    testResults: [
      file('/f2', 'failed', 2000, 2500, ['failed']),
      file('/f1', 'passed', 1000, 1200, ['passed']),
      file('/f3', 'failed', 4000, 4100, ['failed']),
    ],
  };
  // A death at 1800: after f1 ended, before f2 started (f2's beforeAll) → f2's; one at 9000 → f3's (the last
  // file's window stays open to the end).
  const dead = [
    { domain: 'x', atMs: 1800 },
    { domain: 'y', atMs: 9000 },
  ];
  const r = failedWithDeaths(report, dead);
  assert.deepEqual(
    r.map((f) => [f.file, f.deaths.map((d) => d.domain)]),
    [
      ['/f2', ['x']],
      ['/f3', ['y']],
    ],
  );
  assert.deepEqual(
    failedWithDeaths(report, []).map((f) => f.deaths.length),
    [0, 0],
  );
});

test('merge: the re-run replaces its files and the totals are recounted', () => {
  const first = {
    numTotalTests: 4,
    testResults: [
      file('/a', 'passed', 1, 2, ['passed', 'passed']),
      file('/b', 'failed', 3, 4, ['passed', 'failed']),
    ],
  };
  const ok = merge(first, { testResults: [file('/b', 'passed', 5, 6, ['passed', 'passed'])] });
  assert.equal(ok.numPassedTests, 4);
  assert.equal(ok.numFailedTests, 0);
  assert.equal(ok.success, true);
  const bad = merge(first, { testResults: [file('/b', 'failed', 5, 6, ['failed', 'skipped'])] });
  assert.equal(bad.numPassedTests, 2);
  assert.equal(bad.numFailedTests, 1);
  assert.equal(bad.numPendingTests, 1);
  assert.equal(bad.success, false);
});

test("domUKernelBugs: a domU kernel's BUG reports in xenconsoled's logs, not other lines or other files", () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'zcopy-xl-')), 'console');
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'guest-fe1.log'),
    '[    1.000000] Linux version 6.1.192\n[   49.072812] BUG: Bad page map in process modetest  pte:80000000045ff025\n' +
      'modetest: BUG: this is user output\n',
  );
  writeFileSync(join(dir, 'guest-fe2.log'), '[    2.000000] xen:grant_table: Grant tables using version 1\n');
  writeFileSync(join(dir, 'xl-fe1.log'), '[    3.000000] BUG: not a console log\n');
  assert.deepEqual(domUKernelBugs(dir), [
    { domain: 'fe1', line: '[   49.072812] BUG: Bad page map in process modetest  pte:80000000045ff025' },
  ]);
  assert.deepEqual(domUKernelBugs(join(dir, 'missing')), []);
});

test('domUKernelBugs: the reports of a domain its test declared (DomU.expectKernelBugs) carry the reason', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'zcopy-xl-')), 'console');
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'guest-pv1.log'),
    '[    2.508018] BUG: Bad page state in process xen-balloon  pfn:07b2a\n',
  );
  writeFileSync(join(dir, 'guest-pv1.log.expected-bugs'), 'stock frontend defect\n');
  writeFileSync(join(dir, 'guest-pv2.log'), '[    3.000000] BUG: Bad page map in process modetest\n');
  assert.deepEqual(
    domUKernelBugs(dir).sort((a, b) => a.domain.localeCompare(b.domain)),
    [
      {
        domain: 'pv1',
        line: '[    2.508018] BUG: Bad page state in process xen-balloon  pfn:07b2a',
        expected: 'stock frontend defect',
      },
      { domain: 'pv2', line: '[    3.000000] BUG: Bad page map in process modetest' },
    ],
  );
});

test('skippedTests: each skipped or todo test as file > full title, relative to the repo; run ones are not listed', () => {
  const root = new URL('../..', import.meta.url).pathname;
  const report = {
    testResults: [
      {
        name: join(root, 'packages/pv-display/test/be-alloc.xen.vm.test.ts'),
        assertionResults: [
          { status: 'passed', fullName: 'd ran', title: 'ran' },
          {
            status: 'skipped',
            fullName: 'd a PV guest (skipped on arm64: Xen on Arm has no PV guests)',
            title: 'x',
          },
        ],
      },
      {
        name: join(root, 'packages/a/test/b.xen.vm.test.ts'),
        assertionResults: [{ status: 'todo', title: 'later' }],
      },
      {
        name: join(root, 'packages/a/test/c.xen.vm.test.ts'),
        assertionResults: [{ status: 'failed', title: 'f' }],
      },
    ],
  };
  assert.deepEqual(skippedTests(report), [
    'packages/pv-display/test/be-alloc.xen.vm.test.ts > d a PV guest (skipped on arm64: Xen on Arm has no PV guests)',
    'packages/a/test/b.xen.vm.test.ts > later',
  ]);
  assert.deepEqual(skippedTests({}), []);
});
