// Tests of the VM runner in xen mode: Xen + dom0 under QEMU/TCG, and PV/PVH domUs started from dom0.
// One Xen boot serves the three tests (each boot of Xen and dom0 costs ~10 s under TCG): the job runs their
// parts in turn, each part's output between its own markers and its exit status after them, and each test
// asserts on its own part. Slow (a PVH domU alone takes ~20-60 s under TCG). Run: node --test
// --test-concurrency=1 test/rig/
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { ensureImages, repoRoot } from '../../scripts/vm/images.mjs';
import { runInVm } from '../../scripts/vm/runner.mjs';

const domu = join(repoRoot, 'scripts', 'vm', 'xen-domu.sh');
const suite = join(repoRoot, 'scripts', 'vm', 'xen-suite.mjs');
const js =
  'console.log("domu says", 6 * 7, require("fs").readFileSync("/sys/hypervisor/guest_type", "utf8").trim())';

// The parts, in the order they run. The deaths part goes before the PV/PVH part: xen-suite.mjs's deaths() reads
// every domain's xl log, and only the rig-* domains' ends are that test's to assert.
const parts = {
  dom0: ['xl list', 'cat /proc/xen/capabilities'],
  // Three PV domUs (each a few seconds): one exits 7 (powers off), one reboots itself (what a PVH triple fault
  // looks like to xl), one is destroyed. xen-suite.mjs's deaths() must list the reboot and only it.
  deaths: [
    `${domu} run --name rig-exit -- sh -c 'echo bye; exit 7'; echo "status=$?"`,
    `${domu} run --name rig-reboot --timeout 60 -- sh -c 'reboot -f'; echo "reboot-run=$?"`,
    `${domu} start --name rig-destroyed -- sleep 600 && sleep 2 && xl destroy rig-destroyed && echo destroyed`,
    'sleep 2; grep -h "reason code\\|been destroyed" /var/log/xen/xl-rig-*.log | sed "s/^/xl-log: /"',
    // (the path through the environment: with `node -e`, argv[1] would make the script think it is the main one)
    `ZCOPY_SUITE=${suite} node -e 'import(process.env.ZCOPY_SUITE).then((m) => console.log("deaths=" + JSON.stringify(m.deaths().map((d) => [d.domain, d.reason]))))'`,
  ],
  domus: [
    'set -e',
    `${domu} run --type pv --timeout 120 -- node -e '${js}' > /tmp/pv.out`,
    'sed "s/^/pv: /" /tmp/pv.out',
    `${domu} run --type pvh --timeout 300 -- node -e '${js}' > /tmp/pvh.out`,
    'sed "s/^/pvh: /" /tmp/pvh.out',
  ],
};
// Each part in a subshell (its own `set -e`), its output between markers, then its status.
const command = Object.entries(parts)
  .map(
    ([name, lines]) =>
      `echo "@@part ${name}@@"\n(\n${lines.join('\n')}\n)\necho "@@part ${name} status=$?@@"`,
  )
  .join('\n');

let run; // the one Xen run: { result, part(name) -> { output, status } }
before(
  async () => {
    // Images first, with no timeout: a cold kernel build takes minutes and must not count against any test.
    await ensureImages('xen');
    const result = await runInVm({ mode: 'xen', command, timeoutMs: 600000 });
    const part = (name) => {
      const m = new RegExp(`^@@part ${name}@@\\r?\\n([\\s\\S]*?)^@@part ${name} status=(\\d+)@@`, 'm').exec(
        result.jobOutput,
      );
      assert.ok(m, `part ${name} did not run to its end:\n${result.consoleLog.slice(-4000)}`);
      return { output: m[1], status: Number(m[2]) };
    };
    run = { result, part };
  },
  { timeout: Number.POSITIVE_INFINITY },
);

test('xen mode: the job runs in dom0 with a working xl', () => {
  assert.equal(run.result.reason, 'exit', run.result.consoleLog);
  assert.equal(run.result.exitCode, 0, run.result.jobOutput);
  const { output, status } = run.part('dom0');
  assert.equal(status, 0, output);
  assert.match(output, /^Domain-0\s+0\s/m);
  assert.match(output, /control_d/);
});

test('xen mode: a PV and a PVH domU each run node and dom0 reads the output back', () => {
  const { output, status } = run.part('domus');
  assert.equal(status, 0, `${output}\n${run.result.consoleLog.slice(-4000)}`);
  assert.match(output, /^pv: domu says 42 PV$/m);
  assert.match(output, /^pvh: domu says 42 PVH$/m);
});

test('xen mode: a failing domU command gives its exit status back to dom0; xl tells a death from an end', () => {
  const { output, status } = run.part('deaths');
  assert.equal(status, 0, output);
  assert.match(output, /^bye$/m);
  assert.match(output, /^status=7$/m);
  assert.match(output, /^reboot-run=[1-9]\d*$/m, 'a domU that rebooted never reported an exit status');
  assert.match(output, /^destroyed$/m);
  assert.match(output, /^xl-log: Domain \d+ has shut down, reason code 0 /m);
  assert.match(output, /^xl-log: Domain \d+ has shut down, reason code 1 /m);
  assert.match(output, /^xl-log: Domain \d+ has been destroyed/m);
  assert.match(output, /^deaths=\[\["rig-reboot","reboot"\]\]$/m, output);
});
