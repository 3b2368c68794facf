// The backend side of the two-domain export test, run in a PVH domU (xen-domu.sh): dom0 grants frames, this
// domain exports them as a dma-buf (EXP_FROM_REFS) and imports it into gntdev (IMP_TO_REFS, which attaches and
// maps the buffer through gntdev's exporter: a holder for the release handshake).
// Messages go through xenstore as @zcopy/xenstore's JSON messages; each step's result is a message.

import { createHash } from 'node:crypto';
import { balloonState } from '../../../balloon-dma/dist/index.js';
import { KernelError } from '../../../core/dist/index.js';
import { customMode, KmsDevice } from '../../../drm-kms/dist/index.js';
import { DrmDevice, listDrmNodes } from '../../../drm-prime/dist/index.js';
import { GrantMapper } from '../../../grant-table/dist/index.js';
import { readJson as getJson, writeJson as putJson, XenStore } from '../../../xenstore/dist/index.js';
import { exportCpuAccess, GntdevDmabuf, guestType, setExportCpuAccess } from '../../dist/index.js';
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
/** Per grant, the hypervisor's status for a grant copy of its page into this process: GNTST_* names. */
function grantCopyStatus(peer, grantRefs) {
  const mapper = GrantMapper.open();
  try {
    const local = Buffer.alloc(4096);
    return mapper.copy(
      grantRefs.map((ref) => ({ source: { ref, domid: peer }, dest: { buffer: local }, length: 4096 })),
    );
  } finally {
    mapper.close();
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
// What `zcopy doctor` says about gntdev dma-buf here, before any export.
const { doctor } = await import('../../../cli/dist/index.js');
const check = (await doctor()).checks.find((c) => c.id === 'gntdev-dmabuf');
await putJson(xs, `${base}/ready`, {
  domid,
  guestType: guestType(),
  doctor: { available: check?.available, note: check?.note, details: check?.details },
});
const { refs } = await next('frames');
let exported;
let imported;
await step('exported', () => {
  exported = dev.exportFromRefs(0, refs);
  // Upstream behaviour first (the images' CPU-access patch is off by default): no mmap.
  const cpuAccess = exportCpuAccess();
  let mmap;
  try {
    exported.mmap().unmap();
    mmap = 'mapped';
  } catch (e) {
    mmap = errorOf(e);
  }
  exported.withCpuAccess('readwrite', () => {});
  imported = dev.importToRefs(exported, 0);
  // O_CLOEXEC in the fd's flags (fdinfo): the kernel's, as the addon adds no fcntl of its own.
  const cloexec = (exported.info().flags & 0o2000000) !== 0;
  return { size: exported.size, refs: Array.from(imported.refs), mmap, cpuAccess, sync: 'ok', cloexec };
});
// Upstream behaviour on a display: vkms imports the export but cannot compose it (no vmap), and says why.
await step('vkmsOff', async () => {
  const kms = KmsDevice.openDriver('vkms');
  try {
    const { crtc, connector } = kms.pick();
    // 64x64 XRGB8888 is exactly the 4 exported pages; vkms takes any mode.
    const mode = customMode({ width: 64, height: 64 });
    const handle = kms.drm.importDmaBuf(exported);
    const fb = kms.addFramebuffer({ buffer: handle, width: 64, height: 64, pitch: 256 });
    try {
      await kms.setMode(crtc, connector, mode, fb);
      return { shown: true };
    } catch (e) {
      return { shown: false, error: errorOf(e), code: e.code };
    } finally {
      fb.close();
      handle.close();
    }
  } finally {
    kms.close();
  }
});
// The bytes through the dma-buf itself (mmap of gntdev's exporter, with the patch's CPU access on).
let view;
const pageTexts = () =>
  exported.withCpuAccess('read', () =>
    refs.map((_, p) =>
      Buffer.from(view.arrayBuffer, p * 4096, 32)
        .toString('latin1')
        .replace(/\0.*$/s, ''),
    ),
  );
await step('contents', () => {
  setExportCpuAccess(true);
  view = exported.mmap({ access: 'read' });
  return { cpuAccess: exportCpuAccess(), pages: pageTexts() };
});
await next('frame2');
await step('contents2', () => ({ pages: pageTexts() }));
await step('prime', () => {
  // PRIME import into devices that take foreign dma-bufs: the zero-copy consumers of the seeds' flow.
  const out = {};
  for (const driver of ['vgem', 'vkms']) {
    const node = listDrmNodes().find((n) => n.driver?.name === driver && n.type === 'primary');
    if (!node) {
      out[driver] = 'absent';
      continue;
    }
    const drm = DrmDevice.open(node.path);
    try {
      const handle = drm.importDmaBuf(exported);
      out[driver] = handle.handle > 0;
      handle.close();
    } finally {
      drm.close();
    }
  }
  return out;
});
// The effect of a DMA-backed export on the domain's memory: dom0 grants a bigger frame and reads the domain's
// memory (xl) while the export lives; this side reports its own balloon's view.
const { refs: bigRefs } = await next('bigframes');
let big;
const balloonBefore = balloonState();
await step('dmaHeld', () => {
  big = dev.exportFromRefs(0, bigRefs, { backing: 'coherent' });
  return { size: big.size, before: balloonBefore, during: balloonState() };
});
await next('dmaSeen');
await step('dmaDone', () => {
  big.close();
  return { after: balloonState() };
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
  view.unmap();
  exported.close();
  r.afterClose = await waiting;
  r.again = await dev.waitReleased(exported, { timeoutMs: 1000 });
  return r;
});

// A frontend destroyed mid-share: another domU's grants exported here; the frontend goes; this side still reads
// the same pages (Xen keeps them until they are unmapped), then releases, and nothing is left behind. First the
// hypervisor's own word on each grant (a grant copy of it: 'okay' or a GNTST_* reason), so that a refused export
// says who refused: on arm64, Xen's default XSM policy (SILO) refuses any grant between two domUs.
const foreign = await next('foreign');
let fexp;
let fview;
const fsha = () => createHash('sha256').update(Buffer.from(fview.arrayBuffer)).digest('hex');
await step('foreignExported', () => {
  const copy = grantCopyStatus(foreign.domid, foreign.refs);
  try {
    fexp = dev.exportFromRefs(foreign.domid, foreign.refs);
  } catch (e) {
    if (e instanceof KernelError) return { copy, refused: e.code };
    throw e;
  }
  fview = fexp.mmap({ access: 'read' });
  return { copy, sha: fsha() };
});
if (fexp) {
  await next('foreignGone');
  await step('foreignReleased', async () => {
    const sha = fsha();
    const waiting = dev.waitReleased(fexp, { timeoutMs: 20_000 });
    await sleep(200);
    fview.unmap();
    fexp.close();
    return { sha, released: await waiting };
  });
}
dev.close();
xs.close();
