// The demo's frontend domain for the frontend-allocated direction on arm64 (a PVH domU, started by demo/dom0.ts):
// it grants its own pages to the backend in dom0 and draws its frame in them, as a PV display frontend does
// with be-alloc off. dom0 exports them as a dma-buf and scans them out; no byte of the frame is ever copied.
import { GrantSharer, type SharedGrants } from '@zcopy/grant-table';
import { XenStore } from '@zcopy/xenstore';
import { Channel } from './channel.js';
import { drawFrame, type FrameContent, type FrameGeometry } from './pattern.js';

interface FrameRequest extends FrameGeometry, FrameContent {
  backend: number;
  pages: number;
}

const xs = XenStore.open();
const domid = Number(await xs.read('domid'));
const ch = new Channel(xs, domid);
await ch.send('ready', { domid });

const req = await ch.receive<FrameRequest>('frame');
const sharer = GrantSharer.open();
let shared: SharedGrants | undefined;
await ch.reply('granted', () => {
  shared = sharer.share(req.backend, req.pages);
  const t0 = performance.now();
  drawFrame(new Uint8Array(shared.arrayBuffer), req, req);
  return { refs: Array.from(shared.refs), drawMs: performance.now() - t0 };
});
// A second frame, drawn over the first in the same pages: dom0's display shows it with no transfer at all.
const second = await ch.receive<FrameContent>('frame2');
await ch.reply('drawn2', () => {
  drawFrame(new Uint8Array(shared!.arrayBuffer), req, second);
  return {};
});
// After the backend's release handshake: the grants end.
await ch.receive('ungrant');
await ch.reply('ungranted', () => {
  shared?.unshare();
  sharer.close();
  return {};
});
xs.close();
