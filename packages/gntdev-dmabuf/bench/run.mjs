#!/usr/bin/env node
// gntdev-dmabuf benchmark (not a test): a 1080p XRGB8888 frame (1920x1080x4 bytes = 2025 pages) granted by dom0,
// taken by a PVH domU either zero-copy (EXP_FROM_REFS -> PRIME import into vgem -> release: no byte moves) or by
// the copy path (map the grants -> copy the frame into a vgem dumb buffer -> unmap), through zcopy
// (dmabuf-bench.mjs) and through libxengnttab + libdrm in C (dmabuf_bench.c), in the same domU on the same grants,
// zcopy and C alternating in rounds (domu-bench.mjs). Prints ops/s of both (median over the rounds), the ratio
// zcopy/C, the bytes each case copies and the syscalls per operation of both (strace -f -c); writes
// docs/bench/gntdev-dmabuf-xen.json. Runs in Xen dom0:
//   node scripts/vm/run.mjs --mode xen -- node packages/gntdev-dmabuf/bench/run.mjs [--seconds S] [--rounds N]
//     [--count N] [--json]
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GNTALLOC_LIMIT_PATH, GrantSharer } from '@zcopy/grant-table';
import { checkBuilt } from '@zcopy/test-harness';
import { isDom0 } from '@zcopy/xen';
import { bootDomU, packageClosure } from '@zcopy/xen/domu';
import { waitJson, writeJson, XenStore } from '@zcopy/xenstore';
import * as bench from '../../../scripts/bench/harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const packages = resolve(here, '..', '..');
if (!isDom0())
  bench.skip('gntdev-dmabuf bench: not Xen dom0; run it in the Xen VM (see the header of bench/run.mjs)');
const values = bench.benchArgs({
  seconds: { default: '1', number: true },
  rounds: { default: '3', number: true },
  count: { default: '20', number: true },
  out: { default: bench.resultsPath('gntdev-dmabuf-xen') },
});

const WIDTH = 1920;
const HEIGHT = 1080;
const FRAME_BYTES = WIDTH * HEIGHT * 4;
const PAGES = FRAME_BYTES / 4096; // 2025

// The C side, static: the domU's ramdisk has node and its libraries, not libxengnttab's or libdrm's.
const build = join(here, 'build');
bench.compileC(join(here, 'dmabuf_bench.c'), {
  name: 'dmabuf_bench',
  outDir: build,
  static: true,
  flags: ['-I/usr/include/libdrm'],
  libs: ['-lxengnttab', '-lxentoolcore', '-lxentoollog', '-ldrm'],
});
// strace for the syscall counts, with the libraries it needs beyond libc (the domU's ramdisk has node's): dom0
// sees the host's root, where strace is; without it the counts are left out.
const straceDir = join(build, 'strace');
rmSync(straceDir, { recursive: true, force: true });
if (bench.haveStrace()) {
  mkdirSync(straceDir, { recursive: true });
  const strace = execFileSync('sh', ['-c', 'command -v strace'], { encoding: 'utf8' }).trim();
  copyFileSync(strace, join(straceDir, 'strace'));
  for (const lib of execFileSync('ldd', [strace], { encoding: 'utf8' }).matchAll(/=> (\/\S+)/g))
    if (!/\/(libc|ld-linux[^/]*)\.so/.test(lib[1])) copyFileSync(lib[1], join(straceDir, basename(lib[1])));
}

const xs = XenStore.open();
const oldLimit = readFileSync(GNTALLOC_LIMIT_PATH, 'utf8').trim();
if (Number(oldLimit) < PAGES + 64) writeFileSync(GNTALLOC_LIMIT_PATH, String(PAGES + 1024));
const sharer = GrantSharer.open();
let domu;
let r;
try {
  // What domu-bench.mjs and dmabuf-bench.mjs import (their dependencies come along), and the bench harness.
  const include = packageClosure(
    ['gntdev-dmabuf', 'drm-prime', 'grant-table', 'xenstore'].map((p) => join(packages, p)),
    join(packages, 'gntdev-dmabuf'),
  );
  checkBuilt(include);
  // A PVH boot under TCG sometimes never starts (images/README.md): one more boot is allowed.
  const boot = await bootDomU({
    type: 'pvh',
    name: 'zcopy-bench-dmabuf',
    include: [...include, resolve(packages, '..', 'scripts', 'bench')],
    command: [
      process.execPath,
      join(here, 'domu-bench.mjs'),
      ...[values.seconds, values.rounds, values.count].map(String),
    ],
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

  // dom0 writes each page's index at its start: both sides check their copies by page 7.
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
  r = JSON.parse(line.slice('@@bench '.length));
  frame.unshare();
} finally {
  await domu?.destroy();
  sharer.close();
  writeFileSync(GNTALLOC_LIMIT_PATH, oldLimit);
  xs.close();
  rmSync(straceDir, { recursive: true, force: true });
}

// The third row: zcopy's zero-copy against C's with the release wait on a thread woken by an eventfd, as libuv's
// threadpool does it (dmabuf_bench.c): the price of never blocking the caller, in C, beside zcopy's.
const THREAD = 'zero-copy [wait on a thread]';
const copied = { 'zero-copy': 0, copy: FRAME_BYTES, [THREAD]: 0 };
const label = {
  'zero-copy': 'zero-copy 1080p frame: export+import+release',
  copy: 'copy 1080p frame: map+copy+unmap',
  [THREAD]: 'zero-copy 1080p frame, against C with the release wait on a thread',
};
const zName = (name) => (name === THREAD ? 'zero-copy' : name);
const across = (side, name) => r[side].map((round) => round.ops[side === 'zcopy' ? zName(name) : name]);
const rows = Object.keys(copied).map((name) => {
  const z = across('zcopy', name);
  const c = across('c', name);
  return {
    case: `${label[name]} (${copied[name].toLocaleString('en-US')} bytes copied)`,
    zcopy: bench.median(z),
    c: bench.median(c),
    zcopyRange: [Math.min(...z), Math.max(...z)],
    cRange: [Math.min(...c), Math.max(...c)],
    bytesCopied: copied[name],
    // CPU time per operation, user and system apart (medians of the rounds): which side of the syscalls a gap is on.
    cpuSplit: {
      zcopy: bench.medianCpu(r.zcopy.map((round) => round.cpu?.[zName(name)])),
      c: bench.medianCpu(r.c.map((round) => round.cpu?.[name])),
    },
    syscalls: r.syscalls[name],
  };
});
// What the runs saw: how the release waits ended, and what the copy moved (page 7 of dom0's frame reads 7).
const checks = {
  zcopy: r.zcopy.map((round) => round.check),
  c: r.c.map((round) => round.check),
};
const meta = {
  bench: '@zcopy/gntdev-dmabuf',
  where: bench.where('Xen PVH domU (QEMU TCG)'),
  kernel: r.kernel,
  seconds: values.seconds,
  rounds: values.rounds,
};
const fmt = (n) => (n === undefined ? '-' : n < 100 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US'));
const out = bench.ratioReport({
  title:
    `gntdev-dmabuf: ${WIDTH}x${HEIGHT} XRGB8888 frame (${r.pages} pages) granted by dom0, taken by PVH domU ` +
    `${r.domid} (${r.guestType}, vgem ${r.vgem}); ${values.seconds}s per case and side, median of ${r.rounds} ` +
    `rounds (zcopy and C alternating); kernel ${r.kernel}`,
  unit: 'ops/s',
  rows,
  json: values.json,
  meta: { ...meta, checks },
  format: fmt,
  extra: [
    { header: 'zcopy range', value: (x) => x.zcopyRange.map(fmt).join('–') },
    { header: 'C range', value: (x) => x.cRange.map(fmt).join('–') },
    ...bench.cpuSplitColumns,
    ...bench.syscallColumns,
  ],
});
if (!values.json) {
  console.log(
    '  zero-copy = EXP_FROM_REFS + PRIME import (vgem) + GEM close + dma-buf close + EXP_WAIT_RELEASED',
  );
  console.log(
    '  copy      = map the 2025 grants + copy the frame into a vgem dumb buffer (mapped once) + unmap',
  );
  console.log(
    '  [wait on a thread]: C waits for the release on a worker thread and is woken by an eventfd, as zcopy is',
  );
  const sum = (xs, k) => xs.reduce((a, x) => a + (x?.[k] ?? 0), 0);
  console.log(
    `release wait: zcopy ${sum(checks.zcopy, 'released')} 'released', ` +
      `${sum(checks.zcopy, 'alreadyReleased')} 'already-released' (ENOENT); C ${sum(checks.c, 'waitOk')} ok ` +
      `(libxengnttab returns 0 for ENOENT too). Copy path moved dom0's bytes: page 7 reads ` +
      `${checks.zcopy.map((x) => x?.page7).join('/')} (zcopy), ${checks.c.map((x) => x?.page7).join('/')} (C)`,
  );
}
bench.writeResults(values.out, {
  ...meta,
  checks,
  date: new Date().toISOString(),
  rows: out.map((x) => ({ unit: 'ops/s', ...x })),
});
