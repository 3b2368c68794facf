// Tests of the VM runner with arm64 guests (bare and Xen), each booting a real emulated arm64 guest.
// `npm test` runs them in its arm64 phase (scripts/test.mjs); images/README.md, "arm64 guests", has the costs.
// Run: node --test --test-concurrency=1 test/rig-arm64/
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ensureImages } from '../../scripts/vm/images.mjs';
import { runInVm } from '../../scripts/vm/runner.mjs';

// Images first, with no timeout: a cold arm64 kernel build takes ~11 min on 2 cores.
before(
  async () => {
    await ensureImages('bare', 'arm64');
    await ensureImages('xen', 'arm64');
  },
  { timeout: Number.POSITIVE_INFINITY },
);

const T = { timeout: 300000 };
const repo = new URL('../..', import.meta.url).pathname;
const arm64 = { arch: 'arm64', timeoutMs: 180000, cwd: repo };

test(
  'arm64 bare: the job runs on aarch64 with an arm64 node, and the repo loads its arm64 addons',
  T,
  async () => {
    const r = await runInVm({
      ...arm64,
      command:
        'uname -m; node -p "process.arch + \' \' + process.version"; ' +
        "node -e \"import('./packages/udmabuf/dist/index.js').then((m) => { const d = m.UdmabufDevice.open(); console.log('udmabuf', d.fd >= 0); d.close(); })\"",
    });
    assert.equal(r.reason, 'exit', r.consoleLog);
    assert.equal(r.exitCode, 0, r.jobOutput);
    assert.match(r.jobOutput, /^aarch64$/m);
    assert.match(r.jobOutput, new RegExp(`^arm64 ${process.version.replaceAll('.', '\\.')}$`, 'm'));
    assert.match(r.jobOutput, /^udmabuf true$/m);
  },
);

test('arm64 bare: a job exiting 3 gives exitCode 3 and is not ok', T, async () => {
  const r = await runInVm({ ...arm64, command: ['sh', '-c', 'exit 3'] });
  assert.equal(r.reason, 'exit', r.consoleLog);
  assert.equal(r.exitCode, 3);
  assert.equal(r.ok, false);
});

test('arm64 bare: a panicking guest is reason panic, not ok', T, async () => {
  const r = await runInVm({ ...arm64, command: 'echo crashing; echo c > /proc/sysrq-trigger; sleep 30' });
  assert.equal(r.reason, 'panic', r.consoleLog);
  assert.match(r.jobOutput, /crashing/);
  assert.equal(r.ok, false);
  assert.equal(r.exitCode, null);
});

test('arm64 bare: a hung guest is killed at the timeout', T, async () => {
  const r = await runInVm({ ...arm64, command: 'echo job-sleeping; sleep 1000', timeoutMs: 20000 });
  assert.equal(r.reason, 'timeout', r.consoleLog);
  assert.equal(r.ok, false);
  assert.match(r.jobOutput, /job-sleeping/);
});

// Roomy limits as in test/rig/xen.test.mjs: a Xen run with a domU takes ~30 s idle, minutes under load.
test(
  'arm64 xen: dom0 runs the job with xl, and an arm64 domU (pvh) reports back',
  { timeout: 600000 },
  async () => {
    const r = await runInVm({
      ...arm64,
      mode: 'xen',
      timeoutMs: 540000,
      command:
        'xl list | grep -c Domain-0; cat /sys/hypervisor/guest_type; ' +
        'scripts/vm/xen-domu.sh run --timeout 150 -- node -p "\'domU \' + process.arch"; ' +
        'scripts/vm/xen-domu.sh run --type pv -- true; echo "pv refused: $?"',
    });
    assert.equal(r.reason, 'exit', r.consoleLog);
    assert.equal(r.exitCode, 0, r.jobOutput);
    assert.match(r.jobOutput, /^1$/m);
    assert.match(r.jobOutput, /^HVM$/m);
    assert.match(r.jobOutput, /^domU arm64$/m);
    assert.match(r.jobOutput, /--type pv does not exist on arm64/);
    assert.match(r.jobOutput, /^pv refused: 125$/m);
  },
);
