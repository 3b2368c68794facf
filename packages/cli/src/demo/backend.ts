// The demo's backend domain for the frontend-allocated direction on x86 (a PVH domU, started by demo/dom0.ts;
// x86's PV dom0 cannot export grants as a dma-buf): dom0's grant refs become a dma-buf here, shown on this
// domain's vkms by FrameBackend (frame-backend.ts, the same code arm64's dom0 runs). The capture goes back to
// dom0 as grant refs too (IMP_TO_REFS), so dom0 can save what this display showed.
import type { ImportedRefs } from '@zcopy/gntdev-dmabuf';
import { XenStore } from '@zcopy/xenstore';
import { Channel } from './channel.js';
import { openDisplay } from './display.js';
import { FrameBackend } from './frame-backend.js';
import type { FrameContent, FrameGeometry } from './pattern.js';

interface FrameOffer extends FrameGeometry, FrameContent {
  frontend: number;
  refs: number[];
}

const xs = XenStore.open();
const domid = Number(await xs.read('domid'));
const ch = new Channel(xs, domid);
const display = await openDisplay();
await ch.send('ready', { domid, width: display.width, height: display.height });

const offer = await ch.receive<FrameOffer>('frame');
const be = new FrameBackend(display, offer);
await ch.reply('exported', () => ({ size: be.exportFrom(offer.frontend, offer.refs).size }));
await ch.reply('verified', () => ({ mismatches: be.mismatchesThroughDmaBuf(offer) }));
await ch.reply('shown', async () => {
  await be.show();
  return {};
});
let captureRefs: ImportedRefs | undefined;
await ch.reply('captured', async () => {
  const { mismatches, pitch } = await be.capture(offer);
  const dmabuf = be.captureBuffer.buffer.exportDmaBuf();
  captureRefs = be.gnt.importToRefs(dmabuf, offer.frontend);
  dmabuf.close();
  return { mismatches, refs: Array.from(captureRefs.refs), pitch };
});

const second = await ch.receive<FrameContent>('frame2');
await ch.reply('seen2', async () => {
  const viaDmaBuf = be.mismatchesThroughDmaBuf(second);
  const captured = (await be.capture(second)).mismatches;
  return { viaDmaBuf, captured };
});

await ch.receive('release');
await ch.reply('released', async () => ({ first: await be.release(() => captureRefs?.release()) }));
be.close();
xs.close();
