#!/usr/bin/env node
// Grant-table benchmark (not a test): map+unmap of 1, 64 and 2,025 refs (2,025 pages = one 1080p RGBA frame) and
// a grant copy of that frame (sync, prepared plan, async), through @zcopy/grant-table (gnttab-bench.mjs) and
// through libxengnttab in C (gnttab-bench.c), in the same VM on the same grants. Prints ops/s of both, the ratio
// zcopy/C and the syscalls per operation of both (strace -f -c); writes docs/bench/grant-table-xen.json. Needs
// Xen dom0 (dom0 shares the pages with itself: the hypercalls are the same ones a cross-domain map makes):
//   node scripts/vm/run.mjs --mode xen -- node packages/grant-table/bench/run.mjs [--seconds S] [--rounds N] [--json]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDom0 } from '@zcopy/xen';
import * as bench from '../../../scripts/bench/harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
if (!isDom0())
  bench.skip('grant-table bench: not Xen dom0; run it in the Xen VM (see the header of bench/run.mjs)');
const values = bench.benchArgs({
  seconds: { default: '1', number: true },
  // Runs of each side, alternating (harness alternatingOps): the medians go in the table.
  rounds: { default: '5', number: true }, // a 2,025-page case makes ~50 ops in its second
  // Operations per strace count of the small maps; the 2,025-page cases take a quarter of it.
  count: { default: '200', number: true },
  out: { default: bench.resultsPath('grant-table-xen') },
});
const { seconds } = values;
bench.requireBuilt('grant-table', 'core');
const { GrantSharer, GNTALLOC_LIMIT_PATH } = await import(join(here, '..', 'dist', 'index.js'));

const FRAME = 2025;
const work = mkdtempSync(join(tmpdir(), 'gnttab-bench-'));
const exe = bench.compileC(join(here, 'gnttab-bench.c'), { libs: ['-lxengnttab'], outDir: work });

const oldLimit = readFileSync(GNTALLOC_LIMIT_PATH, 'utf8').trim();
writeFileSync(GNTALLOC_LIMIT_PATH, '4096');
const sharer = GrantSharer.open();
try {
  // dom0 shares a frame with itself; each page starts with its index (both sides check their copies by it).
  const shared = sharer.share(0, FRAME);
  for (let p = 0; p < FRAME; p++) shared.buffer.writeUInt32LE(p, p * 4096);
  const refsFile = join(work, 'refs.txt');
  writeFileSync(refsFile, `${Array.from(shared.refs).join('\n')}\n`);

  const cArgs = [0, refsFile, seconds];
  const zArgs = [join(here, 'gnttab-bench.mjs'), 0, refsFile, seconds];
  // The three zcopy grant copies (plain, prepared, async) each against the one C copy; a [raw binding] row (the
  // same native calls with no safe API around them: the floor of calling the addon) against its C case.
  const cName = (name) =>
    name.startsWith('grant copy') ? 'grant copy 2,025 pages' : name.replace(' [raw binding]', '');
  const sides = { zcopy: [process.execPath, zArgs], c: [exe, cArgs], cName };
  const { c, zcopy, spread } = await bench.alternatingOps(values.rounds, sides);
  const names = [...zcopy.keys()];
  const small = names.filter((n) => !n.includes('2,025'));
  const syscalls = {
    ...bench.syscallsOfCases(small, { ...sides, n: values.count }),
    ...bench.syscallsOfCases(
      names.filter((n) => !small.includes(n)),
      { ...sides, n: Math.max(1, Math.round(values.count / 4)) },
    ),
  };
  const meta = {
    bench: '@zcopy/grant-table',
    where: bench.where('Xen dom0 (QEMU TCG)'),
    kernel: bench.kernelRelease(),
    seconds,
    rounds: values.rounds,
  };
  const rows = bench.ratioReport({
    title: `grant-table in Xen dom0 (grants shared by dom0 with itself), ${seconds}s per case, median of ${values.rounds} alternating runs, kernel ${meta.kernel}`,
    unit: 'ops/s',
    rows: names.map((name) => ({
      case: name,
      zcopy: zcopy.get(name),
      c: c.get(cName(name)),
      spread: spread.get(name),
      syscalls: syscalls[name],
    })),
    json: values.json,
    meta,
    format: (n) => (n === undefined ? '-' : n < 100 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US')),
    extra: [bench.spreadColumn, ...bench.syscallColumns],
  });
  bench.writeResults(values.out, {
    ...meta,
    date: new Date().toISOString(),
    rows: rows.map((r) => ({ unit: 'ops/s', ...r })),
  });
  shared.unshare();
} finally {
  sharer.close();
  writeFileSync(GNTALLOC_LIMIT_PATH, oldLimit);
  rmSync(work, { recursive: true, force: true });
}
