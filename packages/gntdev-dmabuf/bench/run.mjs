#!/usr/bin/env node
// gntdev-dmabuf benchmark: a 1080p XRGB8888 frame (1920x1080x4 bytes = 2025 pages) granted by dom0, taken by a
// PVH domU either zero-copy (EXP_FROM_REFS -> PRIME import into vgem -> release: no byte moves) or by the copy
// path (map the grants -> copy the frame into a vgem dumb buffer -> unmap), through zcopy and through
// libxengnttab + libdrm in C (dmabuf_bench.c), in the same domU on the same grants. Never asserts.
// Runs in Xen dom0 (pnpm bench, or: node scripts/vm/run.mjs --mode xen -- node packages/gntdev-dmabuf/bench/run.mjs).
//   run.mjs [--iterations N] [--warmup N] [--rounds N]  (zcopy and C alternate in rounds)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GNTALLOC_LIMIT_PATH, GrantSharer } from '@zcopy/grant-table';
import { bootWithPackages } from '@zcopy/test-harness';
import { isDom0 } from '@zcopy/xen';
import { waitJson, writeJson, XenStore } from '@zcopy/xenstore';
import * as bench from '../../../scripts/bench/harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const packages = resolve(here, '..', '..');
if (!isDom0())
  bench.skip('gntdev-dmabuf bench: not Xen dom0; run it in the Xen VM (see the header of bench/run.mjs)');
const {
  iterations: iters,
  warmup,
  rounds,
  json,
} = bench.benchArgs({
  iterations: { default: '20', number: true },
  warmup: { default: '3', number: true, min: 0 },
  rounds: { default: '4', number: true },
});

const WIDTH = 1920;
const HEIGHT = 1080;
const FRAME_BYTES = WIDTH * HEIGHT * 4;
const PAGES = FRAME_BYTES / 4096; // 2025

// The C side, static: the domU's ramdisk has node and its libraries, not libxengnttab's or libdrm's.
bench.compileC(join(here, 'dmabuf_bench.c'), {
  name: 'dmabuf_bench',
  outDir: join(here, 'build'),
  static: true,
  flags: ['-I/usr/include/libdrm'],
  libs: ['-lxengnttab', '-lxentoolcore', '-lxentoollog', '-ldrm'],
});

const xs = XenStore.open();
const oldLimit = readFileSync(GNTALLOC_LIMIT_PATH, 'utf8').trim();
if (Number(oldLimit) < PAGES + 64) writeFileSync(GNTALLOC_LIMIT_PATH, String(PAGES + 1024));
const sharer = GrantSharer.open();
let domu;
try {
  // A PVH boot under TCG sometimes never starts (images/README.md): one more boot is allowed.
  const boot = await bootWithPackages({
    type: 'pvh',
    name: 'zcopy-bench-dmabuf',
    // What domu-bench.mjs imports (their dependencies come along).
    packages: ['gntdev-dmabuf', 'drm-prime', 'grant-table', 'xenstore'].map((p) => join(packages, p)),
    script: join(here, 'domu-bench.mjs'),
    args: [iters, warmup, rounds].map(String),
    attempts: 2,
    note: (line) => console.log(line.split('\n')[0]),
    ready: async (d, gone) =>
      waitJson(xs, `/local/domain/${await d.domid()}/data/zcopy-bench/ready`, {
        timeoutMs: 120_000,
        signal: gone,
      }),
  });
  domu = boot.domu;
  const domid = boot.domid;

  const frame = sharer.share(domid, PAGES);
  for (let p = 0; p < PAGES; p++) frame.buffer.writeUInt32LE(p, p * 4096);
  await writeJson(xs, `/local/domain/${domid}/data/zcopy-bench/frame`, {
    frontend: 0,
    refs: Array.from(frame.refs),
  });
  const { output } = await domu.wait({ timeoutMs: 1_800_000 });
  domu = undefined;
  const line = output.split('\n').find((l) => l.startsWith('@@bench '));
  if (!line) throw new Error(`the domU printed no results:\n${output}`);
  const r = JSON.parse(line.slice('@@bench '.length));
  frame.unshare();
  if (json) console.log(JSON.stringify(r));
  else report(r);
} finally {
  await domu?.destroy();
  sharer.close();
  writeFileSync(GNTALLOC_LIMIT_PATH, oldLimit);
  xs.close();
}

function report(r) {
  const copied = { 'zero-copy': 0, copy: FRAME_BYTES };
  const q = (xs, p) => bench.quantile(xs, p).toFixed(0);
  const med = (side, c, step = 'us') => bench.quantile(r[side][c][step], 0.5);
  const table = [['case', 'zcopy med µs', 'zcopy p90 µs', 'C med µs', 'C p90 µs', 'zcopy/C', 'bytes copied']];
  for (const c of ['zero-copy', 'copy'])
    table.push([
      c,
      ...['zcopy', 'c'].flatMap((side) => [0.5, 0.9].map((p) => q(r[side][c].us, p))),
      (med('zcopy', c) / med('c', c)).toFixed(2),
      copied[c].toLocaleString('en-US'),
    ]);
  console.log(
    `gntdev-dmabuf: ${WIDTH}x${HEIGHT} XRGB8888 frame (${r.pages} pages) granted by dom0, taken by PVH domU ${r.domid} ` +
      `(${r.guestType}, vgem ${r.vgem}); ${iters} iterations per case after ${warmup} warm-up, zcopy and C ` +
      `alternating in ${r.rounds} rounds; kernel ${bench.kernelRelease()}`,
  );
  console.log(
    '  zero-copy = EXP_FROM_REFS + PRIME import (vgem) + GEM close + dma-buf close + EXP_WAIT_RELEASED',
  );
  console.log(
    '  copy      = map the 2025 grants + copy the frame into a vgem dumb buffer (mapped once) + unmap',
  );
  bench.printTable(table);
  console.log(
    `copy/zero-copy (median): zcopy ${(med('zcopy', 'copy') / med('zcopy', 'zero-copy')).toFixed(2)}, ` +
      `C ${(med('c', 'copy') / med('c', 'zero-copy')).toFixed(2)}`,
  );
  const steps = (c, names) =>
    names.map((s) => `${s} ${q(r.zcopy[c][s], 0.5)}/${q(r.c[c][s], 0.5)}`).join(', ');
  console.log(`steps, median us zcopy/C: zero-copy: ${steps('zero-copy', ['export', 'import', 'release'])}`);
  console.log(`                          copy: ${steps('copy', ['map', 'copy', 'unmap'])}`);
  const z = r.zcopy['zero-copy'];
  console.log(
    `release wait: zcopy ${z.released} 'released', ${z.alreadyReleased} 'already-released' (ENOENT); ` +
      `C ${r.c['zero-copy'].waitOk} ok (libxengnttab returns 0 for ENOENT too). ` +
      `Copy path moved dom0's bytes: page 7 reads ${r.zcopy.copy.page7} (zcopy), ${r.c.copy.page7} (C)`,
  );
}
