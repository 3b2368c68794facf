#!/usr/bin/env node
// gntdev-dmabuf benchmark: a 1080p XRGB8888 frame (1920x1080x4 bytes = 2025 pages) granted by dom0, taken by a
// PVH domU either zero-copy (EXP_FROM_REFS -> PRIME import into vgem -> release: no byte moves) or by the copy
// path (map the grants -> copy the frame into a vgem dumb buffer -> unmap), through zcopy and through
// libxengnttab + libdrm in C (dmabuf_bench.c), in the same domU on the same grants. Never asserts.
// Runs in Xen dom0 (pnpm bench, or: node scripts/vm/run.mjs --mode xen -- node packages/gntdev-dmabuf/bench/run.mjs).
//   run.mjs [--iterations N] [--warmup N] [--rounds N]  (zcopy and C alternate in rounds)
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { GNTALLOC_LIMIT_PATH, GrantSharer } from '@zcopy/grant-table';
import { waitJson, writeJson, XenStore } from '@zcopy/xenstore';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const packages = resolve(here, '..', '..');
const caps = '/proc/xen/capabilities';
if (!existsSync(caps) || !readFileSync(caps, 'utf8').includes('control_d')) {
  console.log('gntdev-dmabuf bench: not Xen dom0; run it in the Xen VM (see the header of bench/run.mjs)');
  process.exit(0);
}
const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '4' },
  },
});
const iters = Number(values.iterations);
const warmup = Number(values.warmup);
const rounds = Number(values.rounds);
if (!(iters > 0) || !(warmup >= 0) || !(rounds > 0))
  throw new Error('--iterations > 0, --warmup >= 0 and --rounds > 0, please');

const WIDTH = 1920;
const HEIGHT = 1080;
const FRAME_BYTES = WIDTH * HEIGHT * 4;
const PAGES = FRAME_BYTES / 4096; // 2025

// The C side, static: the domU's ramdisk has node and its libraries, not libxengnttab's or libdrm's.
mkdirSync(join(here, 'build'), { recursive: true });
execFileSync(
  'gcc',
  [
    ...['-O2', '-Wall', '-static', '-I/usr/include/libdrm', '-o', join(here, 'build', 'dmabuf_bench')],
    join(here, 'dmabuf_bench.c'),
    ...['-lxengnttab', '-lxentoolcore', '-lxentoollog', '-ldrm'],
  ],
  { stdio: 'inherit' },
);

const domuScript = join(packages, '..', 'scripts', 'vm', 'xen-domu.sh');
const included = ['core', 'dma-buf', 'balloon-dma', 'gntdev-dmabuf', 'xenstore', 'grant-table', 'drm-prime'];
const xs = XenStore.open();
const oldLimit = readFileSync(GNTALLOC_LIMIT_PATH, 'utf8').trim();
if (Number(oldLimit) < PAGES + 64) writeFileSync(GNTALLOC_LIMIT_PATH, String(PAGES + 1024));
const sharer = GrantSharer.open();
let name;
let domid;
try {
  // A PVH boot under TCG sometimes never starts (images/README.md): one more boot is allowed.
  for (let attempt = 1; ; attempt++) {
    const args = ['start', '--type', 'pvh', '--mem', '512', '--name', `zcopy-bench-dmabuf-${attempt}`];
    for (const p of included) args.push('--include', join(packages, p));
    args.push('--', process.execPath, join(here, 'domu-bench.mjs'), ...[iters, warmup, rounds].map(String));
    name = (await run(domuScript, args)).stdout.trim().split('\n').pop();
    domid = Number((await run('xl', ['domid', name])).stdout.trim());
    try {
      await waitJson(xs, `/local/domain/${domid}/data/zcopy-bench/ready`, { timeoutMs: 120_000 });
      break;
    } catch (e) {
      await run('xl', ['destroy', name]).catch(() => {});
      if (attempt >= 2) throw e;
      console.log(`(PVH domU boot ${attempt} did not come up; booting again)`);
    }
  }

  const frame = sharer.share(domid, PAGES);
  for (let p = 0; p < PAGES; p++) frame.buffer.writeUInt32LE(p, p * 4096);
  await writeJson(xs, `/local/domain/${domid}/data/zcopy-bench/frame`, {
    frontend: 0,
    refs: Array.from(frame.refs),
  });
  const { stdout } = await run(domuScript, ['wait', name, '--timeout', '1800'], { maxBuffer: 64 << 20 });
  const line = stdout.split('\n').find((l) => l.startsWith('@@bench '));
  if (!line) throw new Error(`the domU printed no results:\n${stdout}`);
  const r = JSON.parse(line.slice('@@bench '.length));
  frame.unshare();
  name = undefined;
  report(r);
} finally {
  if (name) await run('xl', ['destroy', name]).catch(() => {});
  sharer.close();
  writeFileSync(GNTALLOC_LIMIT_PATH, oldLimit);
  xs.close();
}

function quantile(us, q) {
  const s = [...us].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

function report(r) {
  const copied = { 'zero-copy': 0, copy: FRAME_BYTES };
  const q = (xs, p) => quantile(xs, p).toFixed(0);
  const med = (side, c, step = 'us') => quantile(r[side][c][step], 0.5);
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
      `alternating in ${r.rounds} rounds; kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}`,
  );
  console.log(
    '  zero-copy = EXP_FROM_REFS + PRIME import (vgem) + GEM close + dma-buf close + EXP_WAIT_RELEASED',
  );
  console.log(
    '  copy      = map the 2025 grants + copy the frame into a vgem dumb buffer (mapped once) + unmap',
  );
  printTable(table);
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

function printTable(table) {
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const [i, row] of table.entries()) {
    console.log(
      row.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]) : cell.padStart(widths[j]))).join('  '),
    );
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}
