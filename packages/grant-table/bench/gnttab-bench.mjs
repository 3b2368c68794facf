// The zcopy side of bench/run.mjs: the sequences of gnttab-bench.c through @zcopy/grant-table, on grants dom0
// shares with itself (run.mjs shares them and writes their refs, one per line).
//   node gnttab-bench.mjs <domid> <refs-file> <seconds per case>
// Prints one JSON object per line: {"case": ..., "ops": N, "seconds": S, "cpuSeconds": C} (harness timed()); in
// count mode (ZCOPY_BENCH_CASE/ZCOPY_BENCH_COUNT) runs one case n times and prints nothing.
// Runs the built package (dist/).
import { pbkdf2, pbkdf2Sync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Memfd } from '@zcopy/core';
import { native as core } from '@zcopy/core/internal';
import { timedAsync, timed as timedCase } from '../../../scripts/bench/harness.mjs';
import { GrantMapper, pageCopySegments } from '../dist/index.js';
import { binding } from '../dist/native.js';

const [domidArg, refsFile, secondsArg = '1'] = process.argv.slice(2);
const domid = Number(domidArg);
const seconds = Number(secondsArg);
const refs = Uint32Array.from(readFileSync(refsFile, 'utf8').trim().split('\n').map(Number));
const FRAME = 2025;
if (refs.length < FRAME) throw new Error(`need ${FRAME} refs, got ${refs.length}`);

const timed = (name, op) => timedCase(name, op, seconds);
const mapper = GrantMapper.open();

for (const [n, label] of [
  [1, '1 ref'],
  [64, '64 refs'],
  [FRAME, '2,025 refs'],
]) {
  const batch = refs.subarray(0, n);
  timed(`map+unmap ${label}`, () => mapper.map(domid, batch).unmap());
}

// The floor under map(): the same native calls (MAP_GRANT_REF, mmap as an external ArrayBuffer, munmap,
// UNMAP_GRANT_REF) with nothing of the safe API around them (no checks, GrantMapping, Mapping or error context).
// For one ref it shows what calling the addon from JS costs; for the frame, whether anything of the safe API is
// left in the gap to C once the kernel's and Xen's work dominates.
for (const [n, label] of [
  [1, '1 ref'],
  [FRAME, '2,025 refs'],
]) {
  const batch = refs.subarray(0, n);
  const domids = Uint32Array.of(domid); // one domid for every ref, as map() passes it
  const K = core.constants;
  timed(`map+unmap ${label} [raw binding]`, () => {
    const index = binding.mapGrantRefs(mapper.fd, domids, batch);
    const ab = core.mmap(mapper.fd, n * 4096, K.PROT_READ | K.PROT_WRITE, K.MAP_SHARED, index);
    core.munmap(ab);
    binding.unmapGrantRef(mapper.fd, index, n);
  });
}

// Grant copy of a 1080p RGBA frame (2,025 pages) from the grants into local memory; dom0 wrote each page's index
// at its start, so the copy is checked after each case (outside the timing): a wrong copy stops the bench.
// Page-aligned, like the C side's aligned_alloc(4096): the kernel splits a segment at every page boundary of the
// local buffer, so a buffer 16 bytes off a page (what Buffer.alloc of 8 MiB gets from malloc) costs two copy ops
// and two page pins per segment. A memfd mapping starts on a page.
const frameMemfd = Memfd.create('frame', { size: FRAME * 4096 });
const frame = frameMemfd.map().buffer;
const segments = pageCopySegments({
  domid,
  refs: refs.subarray(0, FRAME),
  buffer: frame,
  direction: 'from-grants',
});
let ran = 0;
const counted = (op) => () => {
  ran++;
  return op();
};
function check(name) {
  if (ran > 0)
    for (let p = 0; p < FRAME; p++)
      if (frame.readUInt32LE(p * 4096) !== p)
        throw new Error(`${name}: the grant copy produced the wrong bytes (page ${p})`);
  frame.fill(0);
  ran = 0;
}
timed(
  'grant copy 2,025 pages (sync)',
  counted(() => mapper.copy(segments)),
);
check('sync');
const plan = mapper.prepareCopy(segments);
timed(
  'grant copy 2,025 pages (plan)',
  counted(() => plan.run()),
);
check('plan');
// The plan on the threadpool: a threadpool round trip around one ioctl, with no packing in it.
await timedAsync(
  'grant copy 2,025 pages (plan, async)',
  counted(() => plan.runAsync()),
  seconds,
);
check('plan, async');
await timedAsync(
  'grant copy 2,025 pages (async)',
  counted(() => mapper.copyAsync(segments)),
  seconds,
);
check('async');

// Node's own threadpool around a job as long as the copy: crypto.pbkdf2 with its iterations set so that
// pbkdf2Sync takes about as long as plan.run() here, called directly and through Node's threadpool. run.mjs
// sets the pair's ratio beside zcopy's own async/sync ratio: what any threadpool call costs in this guest.
const perOp = (op, ms) => {
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) {
    op();
    n++;
  }
  return (performance.now() - t0) / n;
};
// Not in count mode (syscall counts are of zcopy's cases).
if (process.env.ZCOPY_BENCH_CASE === undefined) {
  const runMs = perOp(() => plan.run(), Math.min(500, seconds * 500));
  const probe = 1000;
  const pbMs = perOp(() => pbkdf2Sync('zcopy', 'salt', probe, 32, 'sha256'), Math.min(500, seconds * 500));
  const iterations = Math.max(1, Math.round((probe * runMs) / pbMs));
  timed('Node threadpool reference: pbkdf2 (sync)', () =>
    pbkdf2Sync('zcopy', 'salt', iterations, 32, 'sha256'),
  );
  await timedAsync(
    'Node threadpool reference: pbkdf2 (async)',
    () =>
      new Promise((resolve, reject) =>
        pbkdf2('zcopy', 'salt', iterations, 32, 'sha256', (err, key) => (err ? reject(err) : resolve(key))),
      ),
    seconds,
  );
}
mapper.close();
frameMemfd.close();
