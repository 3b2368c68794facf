// The zcopy side of the gntdev-dmabuf benchmark, run in the PVH domU by domu-bench.mjs: the sequences of
// dmabuf_bench.c through zcopy, on the frame dom0 grants (refs one per line in refs-file).
//   node dmabuf-bench.mjs <vgem card node> <granting domid> <refs-file> <seconds per case>
// Cases, per operation:
//   zero-copy  exportFromRefs -> DrmDevice(vgem).importDmaBuf -> handle close, buffer close -> waitReleased
//   copy       GrantMapper.map of the refs -> Buffer.copy of the frame into a vgem dumb buffer's mapping -> unmap
// Prints one JSON line per case (harness timed(): {"case", "ops", "seconds", "cpuSeconds"}), then one line
// {"check": {released, alreadyReleased, page7}}: how the release waits ended and what the copy moved.
import { readFileSync } from 'node:fs';
import { DrmDevice } from '@zcopy/drm-prime';
import { GrantMapper } from '@zcopy/grant-table';
import { timedAsync, timed as timedCase } from '../../../scripts/bench/harness.mjs';
import { GntdevDmabuf } from '../dist/index.js';

const [nodePath, frontendArg, refsFile, secondsArg = '1'] = process.argv.slice(2);
const frontend = Number(frontendArg);
const seconds = Number(secondsArg);
const refs = Uint32Array.from(readFileSync(refsFile, 'utf8').trim().split('\n').map(Number));
const bytes = refs.length * 4096;

const gnt = GntdevDmabuf.open();
const vgem = DrmDevice.open(nodePath);
const mapper = GrantMapper.open();
// The backend's own buffer for the copy path, mapped once (a display backend keeps its scanout buffer).
const dumb = vgem.createDumb({ width: 1920, height: Math.ceil(bytes / (1920 * 4)), bpp: 32 });
const dst = dumb.map().buffer;

const check = { released: 0, alreadyReleased: 0, page7: null };
await timedAsync(
  'zero-copy',
  async () => {
    const buf = gnt.exportFromRefs(frontend, refs);
    vgem.importDmaBuf(buf).close();
    buf.close();
    if ((await gnt.waitReleased(buf, { timeoutMs: 10_000 })) === 'released') check.released++;
    else check.alreadyReleased++;
  },
  seconds,
);
timedCase(
  'copy',
  () => {
    const m = mapper.map(frontend, refs, { access: 'read' });
    m.buffer.copy(dst, 0, 0, bytes);
    m.unmap();
  },
  seconds,
);
// dom0 wrote each page's index at its start: the copy moved the frontend's bytes (0 if the case did not run).
check.page7 = dst.readUInt32LE(7 * 4096);
dumb.close();
mapper.close();
vgem.close();
gnt.close();
console.log(JSON.stringify({ check }));
