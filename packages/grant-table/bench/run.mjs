#!/usr/bin/env node
// Grant-table benchmark: map+unmap of 1, 64 and 2,025 refs (2,025 pages = one 1080p RGBA frame) and a grant
// copy of that frame, through @zcopy/grant-table and through libxengnttab in C (gnttab-bench.c), in the same
// VM on the same grants. Needs Xen dom0 (dom0 shares the pages with itself: the hypercalls are the same ones a
// cross-domain map makes). Run: node scripts/vm/run.mjs --mode xen -- node packages/grant-table/bench/run.mjs
// Prints a table; never asserts.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDom0 } from '@zcopy/xen';
import { benchArgs, compileC, jsonLines, ratioReport, skip } from '../../../scripts/bench/harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
if (!isDom0())
  skip('grant-table bench: not Xen dom0; run it in the Xen VM (see the header of bench/run.mjs)');
const { json } = benchArgs({});
const { GrantMapper, GrantSharer, pageCopySegments, GNTALLOC_LIMIT_PATH } = await import(
  join(here, '..', 'dist', 'index.js')
);

const FRAME = 2025;
const ITERS = { 1: 400, 64: 100, [FRAME]: 10 };
const COPY_ITERS = 10;

const work = mkdtempSync(join(tmpdir(), 'gnttab-bench-'));
const cbin = compileC(join(here, 'gnttab-bench.c'), { libs: ['-lxengnttab'], outDir: work });

const oldLimit = readFileSync(GNTALLOC_LIMIT_PATH, 'utf8').trim();
writeFileSync(GNTALLOC_LIMIT_PATH, '4096');
const sharer = GrantSharer.open();
const mapper = GrantMapper.open();
try {
  const shared = sharer.share(0, FRAME);
  for (let p = 0; p < FRAME; p++) shared.buffer.writeUInt32LE(p, p * 4096);
  const refs = shared.refs;
  writeFileSync(join(work, 'refs.txt'), `${Array.from(refs).join('\n')}\n`);

  const rows = [];
  const time = (iters, fn) => {
    fn(); // warm up
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn();
    return Number(process.hrtime.bigint() - t0) / 1e3 / iters;
  };
  for (const n of [1, 64, FRAME]) {
    const batch = refs.subarray(0, n);
    const us = time(ITERS[n], () => mapper.map(0, batch).unmap());
    rows.push({ case: 'map+unmap', refs: n, js: us });
  }
  const frame = Buffer.alloc(FRAME * 4096);
  const segments = pageCopySegments({ domid: 0, refs, buffer: frame, direction: 'from-grants' });
  rows.push({ case: 'grant copy (sync)', refs: FRAME, js: time(COPY_ITERS, () => mapper.copy(segments)) });
  const plan = mapper.prepareCopy(segments);
  rows.push({ case: 'grant copy (plan)', refs: FRAME, js: time(COPY_ITERS, () => plan.run()) });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < COPY_ITERS; i++) await mapper.copyAsync(segments);
  rows.push({
    case: 'grant copy (async)',
    refs: FRAME,
    js: Number(process.hrtime.bigint() - t0) / 1e3 / COPY_ITERS,
  });
  if (frame.readUInt32LE(7 * 4096) !== 7) throw new Error('grant copy produced the wrong bytes');

  const c = jsonLines(cbin, [0, join(work, 'refs.txt'), ITERS[1], ITERS[64], ITERS[FRAME], COPY_ITERS]);
  ratioReport({
    unit: 'µs/op',
    rows: rows.map((r) => {
      const kind = r.case.startsWith('grant copy') ? 'grant copy' : r.case;
      return {
        case: r.case,
        refs: r.refs,
        zcopy: r.js,
        c: c.find((x) => x.case === kind && x.refs === r.refs)?.usPerOp,
      };
    }),
    extra: [{ header: 'refs', value: (r) => r.refs }],
    format: (n) => (n === undefined ? '-' : n.toFixed(1)),
    json,
  });
  shared.unshare();
} finally {
  mapper.close();
  sharer.close();
  writeFileSync(GNTALLOC_LIMIT_PATH, oldLimit);
}
