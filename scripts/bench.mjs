#!/usr/bin/env node
// `pnpm bench`: every packages/*/bench/run.mjs — core's on the host's real CPU, the drivers' inside one bare guest
// (where the drivers are) and the Xen ones in dom0 — each printing its table of zcopy vs the same sequence in C,
// measured on the same kernel; then the README's table from their JSON results. Benchmarks are never assertions.
//   node scripts/bench.mjs [package ...]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInVm } from './vm/runner.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.slice(2);
const benches = readdirSync(join(root, 'packages'))
  .filter((p) => existsSync(join(root, 'packages', p, 'bench', 'run.mjs')))
  .filter((p) => only.length === 0 || only.includes(p));
if (benches.length === 0) {
  console.error('bench: no packages/*/bench/run.mjs found');
  process.exit(1);
}
// Benchmarks of Xen interfaces run in dom0 of the Xen guest; the rest in the bare guest.
const xenOnly = new Set(['grant-table', 'gntdev-dmabuf', 'cli']);
// Benchmarks of what every Linux has run on the host's real CPU, before the guests.
const hostOnly = new Set(['core']);
let failed = false;
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
  const script = group
    .map(
      (p) =>
        `echo "== @zcopy/${p} (${mode})"; ${JSON.stringify(process.execPath)} packages/${p}/bench/run.mjs || exit $?`,
    )
    .join('\n');
  const res = await runInVm({ mode, command: script, cwd: root, timeoutMs: 30 * 60_000 });
  process.stdout.write(res.jobOutput);
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
