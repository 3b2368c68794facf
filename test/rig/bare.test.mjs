// Tests of the VM runner itself, in bare mode: each one boots a real guest under QEMU/TCG.
// Run: node --test --test-concurrency=1 test/rig/
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
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
    // A BUG line the job only prints (as a domU's console would) is not the guest kernel's: still ok.
    command:
      'echo hello-from-guest; uname -r; node -e "console.log(process.version)"; echo "[ 1.000000] BUG: printed by the job"',
    timeoutMs: 120000,
  });
  // Every assertion says what the run was (a CI log keeps only the failure's message): its state, then the
  // console's last lines.
  const why = `reason ${r.reason}, exit ${r.exitCode}, bootMs ${r.bootMs}, kernel BUGs ${JSON.stringify(r.kernelBugs)}, job output ${JSON.stringify(r.jobOutput)}; console:\n${r.consoleLog}`;
  assert.equal(r.reason, 'exit', why);
  assert.equal(r.exitCode, 0, why);
  assert.equal(r.ok, true, why);
  assert.equal(r.kernelBugs, '', why);
  assert.match(r.jobOutput, /hello-from-guest/, why);
  assert.match(r.jobOutput, new RegExp(process.version.replaceAll('.', '\\.')), why);
  assert.notEqual(r.bootMs, null, why);
});

test('a job exiting 3 gives exitCode 3 and is not ok', T, async () => {
  const r = await runInVm({ command: ['sh', '-c', 'exit 3'], timeoutMs: 120000 });
  assert.equal(r.reason, 'exit', r.consoleLog);
  assert.equal(r.exitCode, 3);
  assert.equal(r.ok, false);
});

// CI's first minutes load both host cores (host tests, packaging, a Xen guest): the x86 kernel's boot-time timer
// check (PIT ticks counted over a TSC-timed delay) failed there and, with every fallback failing too, panicked
// "IO-APIC + timer doesn't work!" twice in a row (stop 25). Here the host is loaded on purpose: 8 busy loops on
// its cores. Without no_timer_check every such boot printed "8254 timer not connected to IO-APIC" (8 of 8) and
// one in 8 panicked (scripts/vm/qemu-args.mjs).
test('a bare guest boots on a loaded host without the IO-APIC timer check', T, async () => {
  const loops = Array.from({ length: 8 }, () =>
    spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' }),
  );
  let r;
  try {
    r = await runInVm({ command: 'cat /proc/cmdline', timeoutMs: 120000, bootRetries: 0 });
  } finally {
    for (const p of loops) p.kill('SIGKILL');
  }
  const why = `reason ${r.reason}, bootMs ${r.bootMs}; console:\n${r.consoleLog}`;
  assert.equal(r.reason, 'exit', why);
  assert.equal(r.ok, true, why);
  assert.match(r.jobOutput, /\bno_timer_check\b/, why);
  assert.doesNotMatch(r.consoleLog, /8254 timer not connected|IO-APIC \+ timer/, why);
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

test('a BUG the guest kernel logged during the job fails the run although the job exits 0', T, async () => {
  // /dev/kmsg puts the line into the kernel's own log, as a "BUG: Bad page map" report would be.
  const r = await runInVm({
    command: 'echo "<2>BUG: zcopy rig check" > /dev/kmsg; exit 0',
    timeoutMs: 120000,
  });
  assert.equal(r.reason, 'kernel-bug', r.consoleLog);
  assert.equal(r.exitCode, 0);
  assert.equal(r.ok, false);
  assert.match(r.kernelBugs, /\] BUG: zcopy rig check$/);
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

test(
  'a silent guest is looked into, ended and run once more: reason stalled, both reports, one announced retry',
  T,
  async () => {
    const outDir = await fresh();
    const r = await runInVm({
      command: 'echo going-silent; sleep 1000',
      outDir,
      timeoutMs: 200000,
      silenceMs: 10000,
    });
    assert.equal(r.reason, 'stalled', r.consoleLog);
    assert.equal(r.ok, false);
    assert.ok(r.silentMs >= 10000, String(r.silentMs));
    // One retry, announced the way every retry is (the test summary counts zcopy-retry: lines).
    const retries = r.consoleLog.split('\n').filter((l) => l.startsWith('zcopy-retry: '));
    assert.equal(retries.length, 1, r.consoleLog);
    assert.match(retries[0], /bare guest went silent for \d+s during the job \(stalled; .*stall-1\.txt\)/);
    for (const n of [1, 2]) {
      const report = await readFile(join(outDir, `stall-${n}.txt`), 'utf8');
      assert.match(report, /^silent for \d+s \(limit 10s\).*last console line: "going-silent"/);
      assert.match(report, /QEMU run state: running/);
      // Both vCPUs sampled, each RIP named from the kernel's System.map (idle: the job only sleeps).
      assert.match(report, /^cpu0: [0-9a-f]{16} [\w.]+\+0x[0-9a-f]+ {2}\|/m, report);
      assert.match(report, /^cpu1: [0-9a-f]{16} [\w.]+\+0x/m, report);
      // The guest kernel answered the serial break + SysRq.
      assert.match(report, /sysrq: Show backtrace of all active CPUs/);
      assert.match(report, /sysrq: Show Blocked State/);
      // The heartbeat (images/init, over 9p) went on while the runner looked: the guest runs.
      assert.match(report, /heartbeat: last beat \d+s ago, guest uptime [\d.]+ s .*-> the guest still runs/);
      assert.ok(existsSync(join(outDir, `console-stall-${n}.log`)));
    }
    assert.deepEqual(pidsMentioning(outDir), []);
  },
);

test(
  'a boot that never reaches the job is stalled at the boot limit, not the timeout, and booted once more',
  T,
  async () => {
    // QEMU's -S starts the machine with its vCPUs stopped: a boot frozen from the first instruction, the console
    // silent. The boot limit (bootSilenceMs), not timeoutMs, must end it, the report must show why, and the one
    // retry must be announced like every other.
    const outDir = await fresh();
    const t0 = Date.now();
    const r = await runInVm({
      command: 'echo the-job-ran',
      outDir,
      qemuArgs: ['-S'],
      timeoutMs: 120000,
      bootSilenceMs: 6000,
    });
    const took = Date.now() - t0;
    assert.equal(r.reason, 'stalled', r.consoleLog);
    assert.equal(r.ok, false);
    assert.equal(r.bootMs, null);
    assert.doesNotMatch(r.jobOutput, /the-job-ran/);
    assert.ok(r.silentMs >= 6000 && r.silentMs < 30000, String(r.silentMs));
    assert.ok(took < 110000, `two stalled boots took ${took} ms: the timeout ended them, not the boot limit`);
    const retries = r.consoleLog.split('\n').filter((l) => l.startsWith('zcopy-retry: '));
    assert.equal(retries.length, 1, r.consoleLog);
    assert.match(retries[0], /bare guest went silent for \d+s while booting \(stalled; .*stall-1\.txt\)/);
    for (const n of [1, 2]) {
      const report = await readFile(join(outDir, `stall-${n}.txt`), 'utf8');
      assert.match(report, /^silent for \d+s \(boot limit 6s\)/, report);
      // QEMU says its vCPUs never ran, and no heartbeat ever came (init never started).
      assert.match(report, /QEMU run state: prelaunch \(vCPUs not running\)/, report);
      assert.match(report, /heartbeat: none/, report);
    }
    assert.deepEqual(pidsMentioning(outDir), []);
  },
);

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
