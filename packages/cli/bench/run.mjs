#!/usr/bin/env node
// The demo's per-frame cost, zero-copy vs copy, on vkms in Xen dom0 (benchmark, never asserts).
//   zero-copy: the backend's vkms dumb buffers are granted (PRIME export + IMP_TO_REFS); the frontend maps those
//              refs and draws each frame straight into them; the backend flips to that framebuffer.
//   copy:      the frontend draws into its own granted pages (GrantSharer); the backend, which keeps a mapping
//              of those refs, copies the frame into its own dumb buffer, then flips.
// Both sides are dom0 (domid 0 grants to itself and maps its own grants: the same grant hypercalls as across
// domains, with no per-frame cross-domain signalling to measure). Two buffers, flipped alternately (double
// buffering); each frame awaits its flip event; frames of the two paths alternate. Draws: Buffer.fill with the
// frame's byte, and the demo's drawFrame (packages/cli/dist/demo/pattern.js).
//   node scripts/vm/run.mjs --mode xen -- node packages/cli/bench/run.mjs [--frames N] [--pattern-frames N]
import { KmsDevice } from '@zcopy/drm-kms';
import { GntdevDmabuf } from '@zcopy/gntdev-dmabuf';
import { GrantMapper, GrantSharer } from '@zcopy/grant-table';
import { isDom0 } from '@zcopy/xen';
import { benchArgs, kernelRelease, printTable, quantile, skip } from '../../../scripts/bench/harness.mjs';
import { drawFrame } from '../dist/demo/pattern.js';

if (!isDom0()) skip('cli bench: not Xen dom0; run it in the Xen VM (see the header of bench/run.mjs)');
const values = benchArgs({
  frames: { default: '60', number: true, min: 0 },
  'pattern-frames': { default: '15', number: true, min: 0 },
  warmup: { default: '3', number: true, min: 0 },
});
const { warmup } = values;

const kms = KmsDevice.openDriver('vkms');
const gnt = GntdevDmabuf.open();
const mapper = GrantMapper.open();
const sharer = GrantSharer.open();
const { crtc, connector, mode } = kms.pick();
const width = mode.hdisplay;
const height = mode.vdisplay;
// The backend's two scanout buffers.
const fbs = [0, 1].map(() => kms.createFramebuffer({ width, height, format: 'XRGB8888' }));
const g = { width, height, pitch: fbs[0].pitch };
const frameBytes = g.pitch * height;
await kms.setMode(crtc, connector, mode, fbs[0]);

const draws = {
  fill: (target, n) => target.fill(n & 0xff, 0, frameBytes),
  drawFrame: (target, n) =>
    drawFrame(new Uint8Array(target.buffer, target.byteOffset, frameBytes), g, {
      seed: n,
      lines: ['ZCOPY BENCH', `FRAME ${n}`],
    }),
};

// Zero-copy: the frontend's views of the backend's buffers (their grants, mapped).
const imports = fbs.map((fb) => {
  const dmabuf = fb.buffer.exportDmaBuf();
  try {
    return gnt.importToRefs(dmabuf, 0);
  } finally {
    dmabuf.close();
  }
});
const feViews = imports.map((imp) => mapper.map(0, imp.refs));
// Copy: the frontend's own pages, the backend's mapping of them, and the backend's own view of its buffers.
const own = sharer.share(0, Math.ceil(frameBytes / 4096));
const beView = mapper.map(0, own.refs, { access: 'read' });
const beDumb = fbs.map((fb) => fb.map());

const paths = {
  'zero-copy': (n, draw) => {
    draw(feViews[n % 2].buffer, n);
    return () => {};
  },
  copy: (n, draw) => {
    draw(own.buffer, n);
    return () => beView.buffer.copy(beDumb[n % 2].buffer, 0, 0, frameBytes);
  },
};

const ms = (a, b) => Number(b - a) / 1e6;
// Frames of the two paths alternate (ABBA order), so that drift in the guest weighs on both alike.
async function measure(drawName, frames) {
  const t = {};
  for (const path of Object.keys(paths))
    t[path] = { draw: [], copy: [], flip: [], frame: [], vblanks: [], check: '-' };
  const order = [];
  for (let k = 0; k < frames; k++)
    order.push(...(k % 2 === 0 ? ['zero-copy', 'copy'] : ['copy', 'zero-copy']));
  let lastSeq;
  let n = 0;
  for (const [j, path] of [...Array(warmup).fill('zero-copy'), ...order].entries()) {
    n++;
    const t0 = process.hrtime.bigint();
    const copy = paths[path](n, draws[drawName]);
    const t1 = process.hrtime.bigint();
    copy();
    const t2 = process.hrtime.bigint();
    const ev = await kms.flip(crtc, fbs[n % 2], { timeoutMs: 10_000 });
    const t3 = process.hrtime.bigint();
    if (j >= warmup) {
      const r = t[path];
      r.draw.push(ms(t0, t1));
      r.copy.push(ms(t1, t2));
      r.flip.push(ms(t2, t3));
      r.frame.push(ms(t0, t3));
      r.vblanks.push(ev.sequence - lastSeq);
      // Each path's last frame, read back through the backend's own mapping of the buffer it flipped to.
      if (r.frame.length === frames) {
        const seen = beDumb[n % 2].buffer[0];
        r.check = seen === refByte(drawName, n) ? 'ok' : `differs (${seen})`;
      }
    }
    lastSeq = ev.sequence;
  }
  return t;
}

function refByte(drawName, n) {
  const ref = Buffer.alloc(frameBytes);
  draws[drawName](ref, n);
  return ref[0];
}

const results = [];
try {
  for (const [drawName, frames] of [
    ['fill', values.frames],
    ['drawFrame', values['pattern-frames']],
  ]) {
    if (!(frames > 0)) continue;
    const t = await measure(drawName, frames);
    for (const path of ['zero-copy', 'copy']) results.push({ drawName, path, frames, ...t[path] });
  }
} finally {
  beView.unmap();
  for (const v of feViews) v.unmap();
  for (const imp of imports) imp.release();
  own.unshare();
  await kms.disable(crtc).catch(() => {});
  for (const fb of fbs) fb.close();
  sharer.close();
  mapper.close();
  gnt.close();
  kms.close();
}

console.log(
  `cli demo per-frame cost: vkms ${width}x${height}@${mode.vrefresh ?? '?'} XRGB8888 (pitch ${g.pitch}), dom0 both sides ` +
    `(domid 0 -> 0 grants), double-buffered flips awaited each frame; kernel ${kernelRelease()}`,
);
const f2 = (x) => x.toFixed(2);
const table = [
  [
    'draw',
    'path',
    'frames',
    'frame med ms',
    'frame p90 ms',
    'draw med',
    'copy med',
    'flip med',
    'vblanks/frame',
    'bytes copied',
    'check',
  ],
];
for (const r of results)
  table.push([
    r.drawName,
    r.path,
    String(r.frames),
    f2(quantile(r.frame, 0.5)),
    f2(quantile(r.frame, 0.9)),
    f2(quantile(r.draw, 0.5)),
    f2(quantile(r.copy, 0.5)),
    f2(quantile(r.flip, 0.5)),
    f2(r.vblanks.reduce((a, b) => a + b, 0) / r.vblanks.length),
    (r.path === 'copy' ? frameBytes : 0).toLocaleString('en-US'),
    r.check,
  ]);
if (values.json) console.log(JSON.stringify({ width, height, frameBytes, results }));
else printTable(table, 2);
for (const drawName of new Set(results.map((r) => r.drawName))) {
  const med = (path, k) => quantile(results.find((r) => r.drawName === drawName && r.path === path)[k], 0.5);
  const cpu = (path) => med(path, 'draw') + med(path, 'copy');
  console.log(
    `${drawName}: copy/zero-copy per frame (median) ${f2(med('copy', 'frame') / med('zero-copy', 'frame'))}, ` +
      `work before the flip (draw+copy) ${f2(cpu('copy') / cpu('zero-copy'))}`,
  );
}
console.log(
  'ms columns: draw = the frontend draws the frame; copy = the backend copies it into its dumb buffer; ' +
    'flip = kms.flip until its event; check = the last frame read back through the backend’s own buffer mapping',
);
