// Tests of the VM runner itself, in bare mode: each one boots a real guest under QEMU/TCG.
// Run: node --test --test-concurrency=1 test/rig/
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { ensureImages } from '../../scripts/vm/images.mjs';
import { runInVm } from '../../scripts/vm/runner.mjs';

// Images first, with no timeout: a cold kernel build takes minutes and must not count against any test below.
before(() => ensureImages('bare'), { timeout: Number.POSITIVE_INFINITY });

const T = { timeout: 240000 }; // per test: a TCG boot and the job (images are ready, see before())
const fresh = () => mkdtemp(join(tmpdir(), 'zcopy-rig-'));

/** PIDs of processes whose command line mentions s (QEMU gets outDir in its -fsdev argument). */
function pidsMentioning(s) {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(s);
      } catch {
        return false;
      }
    });
}

test('a job exiting 0 is ok, and runs our kernel with the host node', T, async () => {
  const r = await runInVm({
    command: 'echo hello-from-guest; uname -r; node -e "console.log(process.version)"',
    timeoutMs: 120000,
  });
  assert.equal(r.reason, 'exit', r.consoleLog);
  assert.equal(r.exitCode, 0);
  assert.equal(r.ok, true);
  assert.match(r.jobOutput, /hello-from-guest/);
  assert.match(r.jobOutput, new RegExp(process.version.replaceAll('.', '\\.')));
  assert.notEqual(r.bootMs, null);
});

test('a job exiting 3 gives exitCode 3 and is not ok', T, async () => {
  const r = await runInVm({ command: ['sh', '-c', 'exit 3'], timeoutMs: 120000 });
  assert.equal(r.reason, 'exit', r.consoleLog);
  assert.equal(r.exitCode, 3);
  assert.equal(r.ok, false);
});

test('cwd and env reach the job', T, async () => {
  const r = await runInVm({
    command: 'echo "cwd=$(pwd) v=$ZCOPY_RIG_VAR"',
    cwd: '/usr/share',
    env: { ZCOPY_RIG_VAR: "it's here" },
    timeoutMs: 120000,
  });
  assert.equal(r.ok, true, r.consoleLog);
  assert.match(r.jobOutput, /cwd=\/usr\/share v=it's here/);
});

test('a file written to outDir by the guest is visible on the host', T, async () => {
  const outDir = await fresh();
  const r = await runInVm({
    command: `echo written-in-guest > ${outDir}/result.txt`,
    outDir,
    timeoutMs: 120000,
  });
  assert.equal(r.ok, true, r.consoleLog);
  assert.equal(readFileSync(join(outDir, 'result.txt'), 'utf8'), 'written-in-guest\n');
});

test('the host root is read-only underneath: guest writes elsewhere do not reach the host', T, async () => {
  const outDir = await fresh();
  const probe = join(outDir, '..', `zcopy-rig-probe-${process.pid}`);
  const r = await runInVm({ command: `echo x > ${probe} && cat ${probe}`, outDir, timeoutMs: 120000 });
  assert.equal(r.ok, true, r.consoleLog); // writable in the guest (overlay)...
  assert.equal(existsSync(probe), false); // ...but never on the host
});

test('a panicking guest is reason panic, not ok', T, async () => {
  const r = await runInVm({
    command: 'echo crashing; echo c > /proc/sysrq-trigger; sleep 30',
    timeoutMs: 120000,
  });
  assert.equal(r.reason, 'panic', r.consoleLog);
  assert.match(r.jobOutput, /crashing/);
  assert.equal(r.ok, false);
  assert.equal(r.exitCode, null);
});

test('a hung guest is killed at the timeout: reason timeout, not ok, QEMU gone', T, async () => {
  const outDir = await fresh();
  const r = await runInVm({ command: 'echo job-sleeping; sleep 1000', outDir, timeoutMs: 20000 });
  assert.equal(r.reason, 'timeout', r.consoleLog);
  assert.equal(r.ok, false);
  assert.match(r.jobOutput, /job-sleeping/); // it really was the job that hung, not the boot
  assert.ok(r.elapsedMs < 30000);
  assert.deepEqual(pidsMentioning(outDir), []);
});

test('a guest that stops without running the job to its end is no-result', T, async () => {
  // The job powers the guest off itself: init never writes exit-code.
  const r = await runInVm({
    command: 'echo powering-off; sync; echo o > /proc/sysrq-trigger; sleep 30',
    timeoutMs: 120000,
  });
  assert.equal(r.reason, 'no-result', r.consoleLog);
  assert.match(r.jobOutput, /powering-off/);
  assert.equal(r.ok, false);
});

test('guest has the zero-copy devices and mounts the tests need', T, async () => {
  const r = await runInVm({
    command:
      'set -e; ls /dev/udmabuf /dev/dma_heap/system /dev/dri/card0 /sys/kernel/debug/sync/sw_sync; grep -q devpts /proc/mounts',
    timeoutMs: 120000,
  });
  assert.equal(r.ok, true, r.jobOutput || r.consoleLog);
});
