// The demo's backend domain for the frontend-allocated direction (a PVH domU, started by demo/dom0.ts): dom0's
// grant refs become a dma-buf here (EXP_FROM_REFS), whose bytes are read through the dma-buf itself, which is
// PRIME-imported into this domain's vkms and put on its display, and whose scanout is captured by writeback.
// The capture goes back to dom0 as grant refs too (IMP_TO_REFS), so dom0 can save what this display showed.
import { GntdevDmabuf, type GrantDmaBuf, setExportCpuAccess } from '@zcopy/gntdev-dmabuf';
import { XenStore } from '@zcopy/xenstore';
import { Channel } from './channel.js';
import { openDisplay } from './display.js';
import { countMismatches, drawFrame, type FrameContent, type FrameGeometry } from './pattern.js';

interface FrameOffer extends FrameGeometry, FrameContent {
  frontend: number;
  refs: number[];
}

const xs = XenStore.open();
const domid = Number(await xs.read('domid'));
const ch = new Channel(xs, domid);
const gnt = GntdevDmabuf.open();
const display = await openDisplay();
await ch.send('ready', { domid, width: display.width, height: display.height });

const offer = await ch.receive<FrameOffer>('frame');
const reference = (content: FrameContent) => {
  const ref = new Uint8Array(offer.pitch * offer.height);
  drawFrame(ref, offer, content);
  return ref;
};
let exported: GrantDmaBuf | undefined;
await ch.reply('exported', () => {
  exported = gnt.exportFromRefs(offer.frontend, offer.refs);
  return { size: exported.size };
});
const buffer = exported!;
// CPU view through the dma-buf (the images' kernel patch; off, this is upstream's EINVAL).
setExportCpuAccess(true);
const view = buffer.mmap({ access: 'read' });
const throughDmaBuf = (content: FrameContent) =>
  buffer.withCpuAccess('read', () =>
    countMismatches(
      new Uint8Array(view.arrayBuffer),
      offer.pitch,
      reference(content),
      offer.pitch,
      offer.width,
      offer.height,
    ),
  );
await ch.reply('verified', () => ({ mismatches: throughDmaBuf(offer) }));

const scanout = display.importFrame(buffer, offer);
const capture = display.createCaptureBuffer();
let captureRefs: ReturnType<GntdevDmabuf['importToRefs']> | undefined;
await ch.reply('shown', async () => {
  await display.show(scanout);
  return {};
});
// Captures the display and counts the pixels that differ from what the frontend drew.
async function captureMismatches(content: FrameContent): Promise<{ mismatches: number; pitch: number }> {
  const cap = await display.capture(capture);
  const { pitch, width, height } = offer;
  return {
    mismatches: countMismatches(cap.pixels, cap.pitch, reference(content), pitch, width, height),
    pitch: cap.pitch,
  };
}
await ch.reply('captured', async () => {
  const { mismatches, pitch } = await captureMismatches(offer);
  const dmabuf = capture.buffer.exportDmaBuf();
  captureRefs = gnt.importToRefs(dmabuf, offer.frontend);
  dmabuf.close();
  return { mismatches, refs: Array.from(captureRefs.refs), pitch };
});

const second = await ch.receive<FrameContent>('frame2');
await ch.reply('seen2', async () => {
  const viaDmaBuf = throughDmaBuf(second);
  const captured = (await captureMismatches(second)).mismatches;
  return { viaDmaBuf, captured };
});

await ch.receive('release');
await ch.reply('released', async () => {
  // The handshake as a backend runs it: wait while the buffer is still in use, then let go of every user.
  const waiting = gnt.waitReleased(buffer, { timeoutMs: 60_000 });
  await new Promise((r) => setTimeout(r, 300)); // let the wait start in the kernel first
  captureRefs?.release();
  view.unmap();
  display.close();
  buffer.close();
  return { first: await waiting };
});
gnt.close();
xs.close();
