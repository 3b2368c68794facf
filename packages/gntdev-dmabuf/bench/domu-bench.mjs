// The measured side of the gntdev-dmabuf benchmark, run in a PVH domU (EXP_FROM_REFS needs an auto-translated
// domain) started by bench/run.mjs. dom0 grants a 1080p frame and sends its refs over xenstore; this side times,
// per iteration, through zcopy:
//   zero-copy  exportFromRefs -> DrmDevice(vgem).importDmaBuf -> handle close, buffer close -> waitReleased
//   copy       GrantMapper.map of the refs -> Buffer.copy of the frame into a vgem dumb buffer's mapping -> unmap
// and build/dmabuf_bench (the same sequences in C) on the same refs, in alternating rounds; prints one JSON line.
//   node domu-bench.mjs <iterations> <warm-up iterations> <rounds>
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DrmDevice, listDrmNodes } from '@zcopy/drm-prime';
import { GrantMapper } from '@zcopy/grant-table';
import { waitJson, writeJson, XenStore } from '@zcopy/xenstore';
import { GntdevDmabuf, guestType } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const [iters, warmup, rounds] = process.argv.slice(2).map(Number);
const xs = XenStore.open();
const domid = Number(await xs.read('domid'));
const base = `/local/domain/${domid}/data/zcopy-bench`;
await writeJson(xs, `${base}/ready`, { domid, guestType: guestType() });
const { frontend, refs: refList } = await waitJson(xs, `${base}/frame`, { timeoutMs: 300_000 });
const refs = Uint32Array.from(refList);
const bytes = refs.length * 4096;

// The card node: the copy path's dumb buffer is not render-allowed.
const node = listDrmNodes().find((n) => n.driver?.name === 'vgem' && n.type === 'primary');
if (!node) throw new Error('no vgem node in the domU');

// Progress on stderr (the domU console): where a run stopped, if it does.
const progress = (msg) => process.stderr.write(`bench: ${msg}\n`);
const now = () => process.hrtime.bigint();
const us = (a, b) => Number(b - a) / 1e3;

const gnt = GntdevDmabuf.open();
const vgem = DrmDevice.open(node.path);
const mapper = GrantMapper.open();
// The backend's own buffer for the copy path, mapped once (a display backend keeps its scanout buffer).
const dumb = vgem.createDumb({ width: 1920, height: Math.ceil(bytes / (1920 * 4)), bpp: 32 });
const dst = dumb.map().buffer;

const zcopy = {
  'zero-copy': { us: [], export: [], import: [], release: [], released: 0, alreadyReleased: 0 },
  copy: { us: [], map: [], copy: [], unmap: [] },
};
const c = {};

// One iteration of each zcopy sequence; `record` false for warm-up.
async function zeroCopy(record) {
  const r = zcopy['zero-copy'];
  const t0 = now();
  const buf = gnt.exportFromRefs(frontend, refs);
  const t1 = now();
  vgem.importDmaBuf(buf).close();
  const t2 = now();
  buf.close();
  const outcome = await gnt.waitReleased(buf, { timeoutMs: 10_000 });
  const t3 = now();
  if (!record) return;
  r.us.push(us(t0, t3));
  r.export.push(us(t0, t1));
  r.import.push(us(t1, t2));
  r.release.push(us(t2, t3));
  if (outcome === 'released') r.released++;
  else r.alreadyReleased++;
}
function copy(record) {
  const r = zcopy.copy;
  const t0 = now();
  const m = mapper.map(frontend, refs, { access: 'read' });
  const t1 = now();
  m.buffer.copy(dst, 0, 0, bytes);
  const t2 = now();
  m.unmap();
  const t3 = now();
  if (!record) return;
  r.us.push(us(t0, t3));
  r.map.push(us(t0, t1));
  r.copy.push(us(t1, t2));
  r.unmap.push(us(t2, t3));
}

const refsFile = '/tmp/dmabuf-bench-refs.txt';
writeFileSync(refsFile, `${Array.from(refs).join('\n')}\n`);
function runC(n, w) {
  const out = execFileSync(
    join(here, 'build', 'dmabuf_bench'),
    [node.path, String(frontend), refsFile, String(n), String(w)],
    { encoding: 'utf8' },
  );
  for (const line of out.trim().split('\n')) {
    const { case: name, ...rest } = JSON.parse(line);
    c[name] ??= {};
    const into = c[name];
    for (const [k, v] of Object.entries(rest))
      into[k] = Array.isArray(v) ? [...(into[k] ?? []), ...v] : k === 'page7' ? v : (into[k] ?? 0) + v;
  }
}

// Warm-up of both sides, then rounds that alternate which side goes first, so that drift in the guest (other
// guests on the machine, TCG's code cache, the balloon) weighs on both alike.
for (let i = 0; i < warmup; i++) {
  await zeroCopy(false);
  copy(false);
}
runC(0, warmup);
const per = Math.max(1, Math.ceil(iters / rounds));
for (let round = 0, done = 0; done < iters; round++) {
  const n = Math.min(per, iters - done);
  progress(`round ${round}: ${n} iterations each`);
  const js = async () => {
    for (let i = 0; i < n; i++) await zeroCopy(true);
    for (let i = 0; i < n; i++) copy(true);
  };
  if (round % 2 === 0) {
    await js();
    runC(n, 0);
  } else {
    runC(n, 0);
    await js();
  }
  done += n;
}
// dom0 wrote each page's index at its start: the copy moved the frontend's bytes.
zcopy.copy.page7 = dst.readUInt32LE(7 * 4096);
dumb.close();
mapper.close();
vgem.close();
gnt.close();

console.log(
  `@@bench ${JSON.stringify({ domid, guestType: guestType(), vgem: node.path, pages: refs.length, rounds, zcopy, c })}`,
);
xs.close();
