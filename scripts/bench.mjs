#!/usr/bin/env node
// `pnpm bench`: every packages/*/bench/run.mjs — core's on the host's real CPU, the drivers' inside one bare guest
// (where the drivers are) and the Xen ones in dom0 — each printing its table of zcopy vs the same sequence in C,
// measured on the same kernel; then the README's table from their JSON results. Benchmarks are never assertions.
//   node scripts/bench.mjs [package ...]
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInVm } from './vm/runner.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Interrupted: exit through 'exit' handlers, which end the guest (runner.mjs) instead of orphaning its QEMU.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(130));
const only = process.argv.slice(2);
const benches = readdirSync(join(root, 'packages'))
  .filter((p) => existsSync(join(root, 'packages', p, 'bench', 'run.mjs')))
  .filter((p) => only.length === 0 || only.includes(p));
if (benches.length === 0) {
  console.error('bench: no packages/*/bench/run.mjs found');
  process.exit(1);
}
// Benchmarks of Xen interfaces run in dom0 of the Xen guest; the rest in the bare guest.
const xenOnly = new Set(['grant-table', 'gntdev-dmabuf', 'cli', 'pv-display']);
// Benchmarks of what every Linux has run on the host's real CPU, before the guests.
const hostOnly = new Set(['core']);
let failed = false;
mkdirSync(join(root, 'docs', 'bench'), { recursive: true });
for (const p of benches.filter((b) => hostOnly.has(b))) {
  console.log(`== @zcopy/${p} (host)`);
  const res = spawnSync(process.execPath, [join(root, 'packages', p, 'bench', 'run.mjs')], {
    stdio: 'inherit',
  });
  if (res.status !== 0) failed = true;
}
for (const mode of ['bare', 'xen']) {
  const group = benches.filter((p) => !hostOnly.has(p) && xenOnly.has(p) === (mode === 'xen'));
  if (group.length === 0) continue;
  const runs = (label, env) =>
    group.map(
      (p) =>
        `echo "== @zcopy/${p} (${mode}${label})"; ${env}${JSON.stringify(process.execPath)} packages/${p}/bench/run.mjs || exit $?`,
    );
  // The bare guest's benches run twice: as usual, then with V8's JIT off in every Node process (NODE_OPTIONS,
  // which the zcopy sides inherit): under TCG the JIT's compiled code is emulated too (harness.mjs, `where`).
  const script = [
    ...runs('', ''),
    ...(mode === 'bare' ? runs(', node --jitless', 'NODE_OPTIONS=--jitless ') : []),
  ].join('\n');
  // The guest's writes outside outDir stay in the guest: the benches write their JSON there, copied back below.
  const outDir = await mkdtemp(join(tmpdir(), 'zcopy-bench-'));
  const res = await runInVm({
    mode,
    command: `export ZCOPY_BENCH_RESULTS_DIR=${outDir}\n${script}`,
    cwd: root,
    outDir,
    timeoutMs: 30 * 60_000,
    // A bench prints its table only when a case is done, and strace's count runs print nothing: minutes of
    // silence are normal here (seen: 5 min in dom0 on a loaded machine, the guest busy the whole time).
    silenceMs: 20 * 60_000,
  });
  process.stdout.write(res.jobOutput);
  for (const f of readdirSync(outDir).filter((n) => n.endsWith('.json')))
    copyFileSync(join(outDir, f), join(root, 'docs', 'bench', f));
  if (!res.ok) {
    failed = true;
    console.error(
      `bench: the ${mode} VM run failed (${res.reason}); console log: ${join(res.outDir, 'console.log')}`,
    );
  }
}
// The README's table, from the results the benches just wrote (docs/bench/*.json).
spawnSync(process.execPath, [join(root, 'scripts', 'bench', 'readme-table.mjs')], { stdio: 'inherit' });
process.exit(failed ? 1 : 0);
