// VM: DRM device fds across processes (SCM_RIGHTS): a vgem fd adopted by a child, a dumb buffer exported as a
// dma-buf, sent to a child that imports it into its own vgem fd and maps it; the fd-kind checks of
// adopt and borrow against real fds.
import { WrongFdError } from '@zcopy/core';
import type { DmaBuf } from '@zcopy/dma-buf';
import { afterEach, describe, expect, it } from 'vitest';
import { type FdPeer, spawnFdPeer } from '../../core/test/peer.js';
import { DrmDevice } from '../src/index.js';
import { openDriver } from './devices.js';

let peer: FdPeer | undefined;
afterEach(async () => {
  await peer?.stop();
  peer = undefined;
});

describe('DRM fds in another process', () => {
  it('a vgem device fd sent to a child is adopted there as a DrmDevice (checked with DRM_IOCTL_VERSION)', async () => {
    peer = spawnFdPeer();
    using vgem = openDriver('vgem', 'render');
    const answer = peer.run(async (ctx) => {
      const { DrmDevice } = await ctx.load('drm-prime');
      const { fds } = await ctx.socket().receiveFds({ as: [DrmDevice], timeoutMs: 10_000 });
      const dev = fds[0] as DrmDevice;
      const out = { driver: dev.version.name, owned: dev.owned, prime: dev.prime() };
      dev.close();
      return out;
    });
    await peer.socket.sendFds([vgem]);
    expect(await answer).toEqual({ driver: 'vgem', owned: true, prime: { import: true, export: true } });
  });

  it('a dumb buffer exported as a dma-buf: the child imports it into its own vgem fd and reads the pixels', async () => {
    peer = spawnFdPeer();
    using vgem = openDriver('vgem');
    using dumb = vgem.createDumb({ width: 64, height: 4, bpp: 32 });
    using buf = dumb.exportDmaBuf();
    using map = buf.mmap();
    buf.withCpuAccess('write', () => map.buffer.write('pixels from the parent'));
    const answer = peer.run(async (ctx) => {
      const { DrmDevice } = await ctx.load('drm-prime');
      const { DmaBuf } = await ctx.load('dma-buf');
      const { fds } = await ctx.socket().receiveFds({ as: [DmaBuf], timeoutMs: 10_000 });
      const buf = fds[0] as DmaBuf;
      const card = DrmDevice.list().find(
        (n: { driver?: { name: string } | null; type: string }) =>
          n.driver?.name === 'vgem' && n.type === 'render',
      );
      const dev = DrmDevice.open(card.path);
      const handle = dev.importDmaBuf(buf);
      const m = buf.mmap({ access: 'read' });
      const text = m.buffer.toString('utf8', 0, 22);
      const out = { text, size: buf.size, handle: handle.handle > 0 };
      handle.close();
      dev.close();
      buf.close();
      return out;
    });
    await peer.socket.sendFds([buf]);
    expect(await answer).toEqual({ text: 'pixels from the parent', size: buf.size, handle: true });
  });
});

describe('adopt and borrow of DRM fds', () => {
  it("a dma-buf where a DRM fd is expected: WrongFdError naming it (cause: DRM_IOCTL_VERSION's ENOTTY), fd left alone", () => {
    using vgem = openDriver('vgem');
    using dumb = vgem.createDumb({ width: 8, height: 8, bpp: 32 });
    using buf: DmaBuf = dumb.exportDmaBuf();
    let err: unknown;
    try {
      DrmDevice.adopt(buf.fd);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WrongFdError);
    expect((err as Error).message).toMatch(/is \/dmabuf:.*, not a DRM device$/);
    expect((err as Error).cause).toMatchObject({ code: 'ENOTTY', request: 'DRM_IOCTL_VERSION' });
    expect(() => DrmDevice.borrow(buf)).toThrow(WrongFdError);
    expect(buf.size).toBeGreaterThan(0); // still open
  });
});
