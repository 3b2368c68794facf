// The demo's frontend domain for the backend-allocated direction (a PV domU, started by demo/dom0.ts): it maps
// the grant refs of dom0's display buffer and draws its frame straight into them. No byte of the frame is
// ever copied: the drawing is the only write, into pages that dom0's display reads.
import { GrantMapper } from '@zcopy/grant-table';
import { XenStore } from '@zcopy/xenstore';
import { Channel } from './channel.js';
import { drawFrame, type FrameContent, type FrameGeometry } from './pattern.js';

interface FrameOffer extends FrameGeometry, FrameContent {
  backend: number;
  refs: number[];
}

const xs = XenStore.open();
const domid = Number(await xs.read('domid'));
const ch = new Channel(xs, domid);
await ch.send('ready', { domid });

const offer = await ch.receive<FrameOffer>('frame');
const mapper = GrantMapper.open();
let mapping: ReturnType<GrantMapper['map']> | undefined;
await ch.reply('drawn', () => {
  mapping = mapper.map(offer.backend, offer.refs);
  const t0 = performance.now();
  drawFrame(new Uint8Array(mapping.arrayBuffer), offer, offer);
  return { mappedBytes: mapping.length, drawMs: performance.now() - t0 };
});
// A second frame, drawn over the first in the same pages: dom0's display shows it with no transfer at all.
const second = await ch.receive<FrameContent>('frame2');
await ch.reply('drawn2', () => {
  drawFrame(new Uint8Array(mapping!.arrayBuffer), offer, second);
  return {};
});
await ch.receive('unmap');
await ch.reply('unmapped', () => {
  mapping?.unmap();
  mapper.close();
  return {};
});
xs.close();
