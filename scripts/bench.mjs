#!/usr/bin/env node
// `pnpm bench`: every packages/*/bench/run.mjs, run inside one bare guest (where the drivers are), each printing
// its table of zcopy vs the same sequence in C, measured in the same VM. Benchmarks are never assertions.
//   node scripts/bench.mjs [package ...]
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
const script = benches
  .map(
    (p) =>
      `echo "== @zcopy/${p}"; ${JSON.stringify(process.execPath)} packages/${p}/bench/run.mjs || exit $?`,
  )
  .join('\n');
const res = await runInVm({ command: script, cwd: root, quiet: false, timeoutMs: 30 * 60_000 });
if (!res.ok) {
  console.error(`bench: the VM run failed (${res.reason}); console log: ${res.consoleLog}`);
  process.exit(1);
}
