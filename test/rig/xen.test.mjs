// Tests of the VM runner in xen mode: Xen + dom0 under QEMU/TCG, and PV/PVH domUs started from dom0.
// Slow (a PVH domU alone takes ~20-30 s under TCG). Run: node --test --test-concurrency=1 test/rig/
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { ensureImages, repoRoot } from '../../scripts/vm/images.mjs';
import { runInVm } from '../../scripts/vm/runner.mjs';

// Images first, with no timeout: a cold kernel build takes minutes and must not count against any test below.
before(() => ensureImages('xen'), { timeout: Number.POSITIVE_INFINITY });

const domu = join(repoRoot, 'scripts', 'vm', 'xen-domu.sh');

test('xen mode: the job runs in dom0 with a working xl', { timeout: 300000 }, async () => {
  const r = await runInVm({ mode: 'xen', command: 'xl list; cat /proc/xen/capabilities', timeoutMs: 240000 });
  assert.equal(r.reason, 'exit', r.consoleLog);
  assert.equal(r.exitCode, 0, r.jobOutput);
  assert.match(r.jobOutput, /^Domain-0\s+0\s/m);
  assert.match(r.jobOutput, /control_d/);
});

test(
  'xen mode: a PV and a PVH domU each run node and dom0 reads the output back',
  { timeout: 600000 },
  async () => {
    const js =
      'console.log("domu says", 6 * 7, require("fs").readFileSync("/sys/hypervisor/guest_type", "utf8").trim())';
    const command = [
      'set -e',
      `${domu} run --type pv --timeout 120 -- node -e '${js}' > /tmp/pv.out`,
      'sed "s/^/pv: /" /tmp/pv.out',
      `${domu} run --type pvh --timeout 180 -- node -e '${js}' > /tmp/pvh.out`,
      'sed "s/^/pvh: /" /tmp/pvh.out',
    ].join('\n');
    const r = await runInVm({ mode: 'xen', command, timeoutMs: 540000 });
    assert.equal(r.reason, 'exit', r.consoleLog);
    assert.equal(r.exitCode, 0, r.consoleLog.slice(-4000));
    assert.match(r.jobOutput, /^pv: domu says 42 PV$/m);
    assert.match(r.jobOutput, /^pvh: domu says 42 PVH$/m);
  },
);

test(
  'xen mode: a failing domU command gives its exit status back to dom0; xl tells a death from an end',
  { timeout: 300000 },
  async () => {
    // Three PV domUs (each a few seconds): one exits 7 (powers off), one reboots itself (what a PVH triple fault
    // looks like to xl), one is destroyed. xen-suite.mjs's deaths() must list the reboot and only it.
    const suite = join(repoRoot, 'scripts', 'vm', 'xen-suite.mjs');
    const command = [
      `${domu} run --name rig-exit -- sh -c 'echo bye; exit 7'; echo "status=$?"`,
      `${domu} run --name rig-reboot --timeout 60 -- sh -c 'reboot -f'; echo "reboot-run=$?"`,
      `${domu} start --name rig-destroyed -- sleep 600 && sleep 2 && xl destroy rig-destroyed && echo destroyed`,
      'sleep 2; grep -h "reason code\\|been destroyed" /var/log/xen/xl-rig-*.log | sed "s/^/xl-log: /"',
      // (the path through the environment: with `node -e`, argv[1] would make the script think it is the main one)
      `ZCOPY_SUITE=${suite} node -e 'import(process.env.ZCOPY_SUITE).then((m) => console.log("deaths=" + JSON.stringify(m.deaths().map((d) => [d.domain, d.reason]))))'`,
    ].join('\n');
    const r = await runInVm({ mode: 'xen', command, timeoutMs: 240000 });
    assert.equal(r.exitCode, 0, r.consoleLog);
    assert.match(r.jobOutput, /^bye$/m);
    assert.match(r.jobOutput, /^status=7$/m);
    assert.match(r.jobOutput, /^reboot-run=[1-9]\d*$/m, 'a domU that rebooted never reported an exit status');
    assert.match(r.jobOutput, /^destroyed$/m);
    assert.match(r.jobOutput, /^xl-log: Domain \d+ has shut down, reason code 0 /m);
    assert.match(r.jobOutput, /^xl-log: Domain \d+ has shut down, reason code 1 /m);
    assert.match(r.jobOutput, /^xl-log: Domain \d+ has been destroyed/m);
    assert.match(r.jobOutput, /^deaths=\[\["rig-reboot","reboot"\]\]$/m, r.jobOutput);
  },
);
