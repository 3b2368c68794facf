#!/usr/bin/env node
// PVH boot stress: boots Xen once and, in dom0, N domUs one after another (or P at a time), each running a Node
// job, and counts how each boot ended: ok, or a death by kind (Xen's own reason from `xl dmesg`, the guest's
// last console lines). For finding why PVH domUs die under TCG; no test depends on it.
//   node scripts/vm/pvh-stress.mjs [--boots N] [--parallel P] [--load K] [--type pvh|pv] [--json FILE]
//     --load K   K busy loops on the host while it runs (the deaths were seen while the host was busy)
// Environment for experiments: ZCOPY_XEN_MAXCPUS (Xen's physical CPUs, default 1; 2 brings the deaths back),
// ZCOPY_QEMU (another QEMU binary), ZCOPY_QEMU_DATA (its -L data directory), ZCOPY_XEN_CPU (the -cpu of Xen
// mode), ZCOPY_XEN_CMDLINE (more Xen arguments, e.g. guest_loglvl=all to see Xen's 'Triple fault' lines),
// ZCOPY_DOMU_CFG (lines appended to each domU's xl config), ZCOPY_DOMU_EXTRA (domU kernel arguments, e.g.
// 'loglevel=8 earlyprintk=xen': a domU's early console reaches Xen's, which is ours).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './images.mjs';
import { shq } from './job-script.mjs';
import { runInVm } from './runner.mjs';

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : def;
};
const boots = Number(opt('--boots', 20));
const parallel = Number(opt('--parallel', 1));
const load = Number(opt('--load', 0));
const type = opt('--type', 'pvh');
const jsonFile = opt('--json', undefined);
if (!(boots > 0 && parallel > 0 && load >= 0) || !['pv', 'pvh'].includes(type)) {
  console.error('usage: pvh-stress.mjs [--boots N] [--parallel P] [--load K] [--type pvh|pv] [--json FILE]');
  process.exit(2);
}

// What each domU runs: JIT work, allocation and a timer, like a test agent's start.
const work =
  'let s=0;for(let i=0;i<2e7;i++)s+=i%7;const a=[];for(let i=0;i<2e5;i++)a.push({i});' +
  'const t=Date.now();setTimeout(()=>console.log("stress-ok",s,a.length,Date.now()-t),100)';
const domu = join(repoRoot, 'scripts', 'vm', 'xen-domu.sh');
// dom0 side: start P, wait for each; one result line per boot, and on a failure the guest's console tail and
// Xen's log between markers the host parses.
const script = `
set -u
n=0
while [ "$n" -lt ${boots} ]; do
  names=()
  for j in $(seq 1 ${parallel}); do
    [ "$n" -lt ${boots} ] || break
    n=$((n + 1))
    nm=stress-$n
    if bash ${domu} start --type ${type} --name "$nm" -- node -e ${shq(work)} >/dev/null 2>/tmp/$nm.err; then
      names+=("$nm")
    else
      echo "@@boot $nm rc=create"; echo "@@detail-start"; tail -5 /tmp/$nm.err; echo "@@detail-end"
    fi
  done
  for nm in "\${names[@]}"; do
    t0=$SECONDS
    out=$(bash ${domu} wait "$nm" --timeout 240 2>/tmp/$nm.err); rc=$?
    case "$out" in *stress-ok*) ;; *) [ "$rc" = 0 ] && rc=bad-output ;; esac
    echo "@@boot $nm rc=$rc secs=$((SECONDS - t0))"
    if [ "$rc" != 0 ]; then
      echo "@@detail-start"; tail -25 /tmp/$nm.err; echo "--- xl dmesg"; xl dmesg -c | tail -15; echo "@@detail-end"
    else
      xl dmesg -c >/dev/null
    fi
    echo "@@xen-console-mark"
  done
done
`;

// The load starts once the guest runs (not while it waits for a VM slot).
const loaders = [];
const startLoad = () => {
  while (loaders.length < load)
    loaders.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
};
const stopLoad = () => {
  for (const l of loaders) l.kill('SIGKILL');
};
process.on('exit', stopLoad);
// Interrupted: exit through 'exit' handlers, which also kill the guest (the runner's) and free its VM slot.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(130));

const env = {};
for (const k of ['ZCOPY_DOMU_CFG', 'ZCOPY_DOMU_EXTRA']) if (process.env[k]) env[k] = process.env[k];
const results = [];
const xenLines = [];
let detail = null;
const t0 = Date.now();
const res = await runInVm({
  mode: 'xen',
  command: ['bash', '-c', script],
  cwd: repoRoot,
  env,
  outDir: await mkdtemp(join(tmpdir(), 'zcopy-stress-')),
  timeoutMs: (boots * 300 + 300) * 1000,
  progress: (m) => {
    console.error(`[stress] ${m}`);
    if (m.startsWith('guest running')) startLoad();
  },
  onLine: (line, phase) => {
    // Xen's own lines and guests' early consoles through Xen ("(XEN) ...", "(d3) ..."): kept for the next failure.
    if (/^\((XEN|d\d+)\)/.test(line)) {
      xenLines.push(line);
      if (xenLines.length > 40) xenLines.shift();
    }
    if (phase !== 'job') return;
    if (line === '@@xen-console-mark') xenLines.length = 0; // what Xen said during the next boot only
    const m = /^@@boot (\S+) rc=(\S+)(?: secs=(\d+))?/.exec(line);
    if (m) {
      results.push({ name: m[1], rc: m[2], secs: Number(m[3] ?? 0), detail: '' });
      console.error(`[stress] ${m[1]} ${m[2] === '0' ? 'ok' : `FAILED (${m[2]})`} ${m[3] ?? '?'} s`);
    } else if (line === '@@detail-start') detail = [];
    else if (line === '@@detail-end') {
      const r = results[results.length - 1];
      r.detail = `${detail.join('\n')}\n--- Xen's console\n${xenLines.join('\n')}`;
      console.error(`[stress] ${r.name}: ${kind(r)}\n${r.detail.replace(/^/gm, '    ')}`);
      detail = null;
    } else if (detail) detail.push(line);
  },
});
stopLoad();

/** The kind of death, from Xen's reason and the guest's console. */
function kind(r) {
  if (r.rc === '0') return 'ok';
  const d = r.detail;
  if (/Triple fault/i.test(d)) return 'triple-fault';
  if (/general protection fault/i.test(d)) return 'gpf';
  if (/unable to handle page fault|page fault/i.test(d)) return 'page-fault';
  if (/Kernel panic|Oops|BUG:/i.test(d)) return 'oops-or-panic';
  if (/timed out/.test(d)) return 'timeout';
  if (r.rc === 'create') return 'create-failed';
  if (r.rc === 'bad-output') return 'bad-output';
  return 'silent';
}
const counts = {};
for (const r of results) counts[kind(r)] = (counts[kind(r)] ?? 0) + 1;
const okSecs = results
  .filter((r) => r.rc === '0')
  .map((r) => r.secs)
  .sort((a, b) => a - b);
const summary = {
  type,
  boots,
  parallel,
  load,
  ran: results.length,
  counts,
  okSecsMedian: okSecs[Math.floor(okSecs.length / 2)] ?? null,
  wallSecs: Math.round((Date.now() - t0) / 1000),
  vm: { ok: res.ok, reason: res.reason },
  env: {
    qemu: process.env.ZCOPY_QEMU ?? 'qemu-system-x86_64',
    cpu: process.env.ZCOPY_XEN_CPU ?? null,
    cfg: process.env.ZCOPY_DOMU_CFG ?? null,
    xen: process.env.ZCOPY_XEN_CMDLINE ?? null,
    xenMaxcpus: Number(process.env.ZCOPY_XEN_MAXCPUS ?? 1),
    extra: process.env.ZCOPY_DOMU_EXTRA ?? null,
  },
  failures: results
    .filter((r) => r.rc !== '0')
    .map((r) => ({ name: r.name, kind: kind(r), detail: r.detail })),
};
if (!res.ok) console.error(res.consoleLog.trimEnd().split('\n').slice(-30).join('\n'));
console.log(JSON.stringify({ ...summary, failures: summary.failures.map((f) => `${f.name}: ${f.kind}`) }));
if (jsonFile) writeFileSync(jsonFile, JSON.stringify(summary, null, 2));
process.exit(results.length === boots && !summary.failures.length ? 0 : 1);
