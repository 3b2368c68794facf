// The backend side of the two-domain export test, run in a PVH domU (xen-domu.sh): dom0 grants frames, this
// domain exports them as a dma-buf (EXP_FROM_REFS) and imports it into gntdev (IMP_TO_REFS, which attaches and
// maps the buffer through gntdev's exporter: a holder for the release handshake).
// Messages go through xenstore with the grant-table harness's JSON helpers; each step's result is a message.

import { balloonState } from '../../../balloon-dma/dist/index.js';
import { KernelError } from '../../../core/dist/index.js';
import { DrmDevice, listDrmNodes } from '../../../drm-prime/dist/index.js';
import { getJson, putJson } from '../../../grant-table/test/harness/rpc.mjs';
import { XenStore } from '../../../xenstore/dist/index.js';
import { GntdevDmabuf, guestType } from '../../dist/index.js';
import { binding } from '../../dist/native.js';

const xs = XenStore.open();
const domid = Number(await xs.read('domid'));
const base = `/local/domain/${domid}/data/zcopy-dmabuf`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function next(key) {
  for (;;) {
    const v = await getJson(xs, `${base}/${key}`);
    if (v !== undefined) return v;
    await sleep(100);
  }
}
const errorOf = (e) => ({ name: e?.name, code: e?.code, message: String(e?.message ?? e) });
async function step(key, fn) {
  let reply;
  try {
    reply = { ok: true, result: await fn() };
  } catch (e) {
    reply = { ok: false, error: errorOf(e) };
  }
  await putJson(xs, `${base}/${key}`, reply);
}

const dev = GntdevDmabuf.open();
await putJson(xs, `${base}/ready`, { domid, guestType: guestType() });
const { refs } = await next('frames');
let exported;
let imported;
await step('exported', () => {
  exported = dev.exportFromRefs(0, refs);
  let mmap;
  try {
    exported.mmap().unmap();
    mmap = 'mapped';
  } catch (e) {
    mmap = errorOf(e);
  }
  exported.withCpuAccess('readwrite', () => {});
  imported = dev.importToRefs(exported, 0);
  return { size: exported.size, refs: Array.from(imported.refs), mmap, sync: 'ok' };
});
await step('vgem', () => {
  // PRIME import into a device that takes foreign dma-bufs: the zero-copy consumer of the seeds' flow.
  const node = listDrmNodes().find((n) => n.driver?.name === 'vgem' && n.type === 'primary');
  if (!node) return { vgem: 'absent' };
  const drm = DrmDevice.open(node.path);
  try {
    const handle = drm.importDmaBuf(exported);
    const imported = handle.handle > 0;
    handle.close();
    return { imported };
  } finally {
    drm.close();
  }
});
await step('balloon', () => {
  // The balloon before, while and after a DMA-backed export (measured, reported).
  const before = balloonState();
  const b = dev.exportFromRefs(0, refs, { backing: 'coherent' });
  const during = balloonState();
  b.close();
  return { before, during, after: balloonState() };
});
await step('backings', () => {
  const out = {};
  for (const backing of ['wc', 'coherent']) {
    const b = dev.exportFromRefs(0, refs, { backing });
    out[backing] = b.size;
    b.close();
  }
  try {
    // Both flags: the TS API refuses them; the kernel's own answer, through the raw binding.
    const c = binding.constants;
    binding.expFromRefs(dev.fd, c.GNTDEV_DMA_FLAG_WC | c.GNTDEV_DMA_FLAG_COHERENT, 0, Uint32Array.from(refs));
    out.both = 'accepted';
  } catch (e) {
    out.both = e instanceof KernelError ? e.code : errorOf(e);
  }
  return out;
});
await next('unmapped');
await step('released', async () => {
  const r = {};
  // The import still holds the buffer: the wait times out.
  r.whileHeld = await dev.waitReleased(exported, { timeoutMs: 300 }).then(
    (v) => v,
    (e) => e.name,
  );
  const waiting = dev.waitReleased(exported, { timeoutMs: 20_000 });
  await sleep(200);
  imported.release();
  exported.close();
  r.afterClose = await waiting;
  r.again = await dev.waitReleased(exported, { timeoutMs: 1000 });
  return r;
});
dev.close();
xs.close();
