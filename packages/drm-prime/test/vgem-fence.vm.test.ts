// VM: vgem fences on buffers, seen through dma-buf implicit sync (@zcopy/dma-fence): a read fence holds back
// writers only, a write fence holds back everyone, on every importer of the buffer.
import { activePollers, TimeoutError } from '@zcopy/core';
import { exportSyncFile, isIdle, waitIdle } from '@zcopy/dma-fence';
import { afterEach, describe, expect, it } from 'vitest';
import { VgemFence } from '../src/index.js';
import { binding } from '../src/native.js';
import { openDriver } from './devices.js';
import { kernelError } from './helpers.js';
import { dumbDmaBuf } from './sources.js';

afterEach(() => {
  expect(activePollers()).toBe(0);
});

describe('vgem fences', () => {
  it('a read fence: readers are not blocked, writers are until it is signalled', async () => {
    using vgem = openDriver('vgem', 'render');
    using src = dumbDmaBuf('vkms', 4096);
    using h = vgem.importDmaBuf(src);
    using buf = h.exportDmaBuf();
    const fence = VgemFence.attach(h, 'read');
    expect(fence.id).toBeGreaterThan(0);
    expect(isIdle(buf, 'read')).toBe(true);
    expect(isIdle(buf, 'write')).toBe(false);
    using forWriters = exportSyncFile(buf, 'write');
    expect(forWriters.status.state).toBe('active');
    expect(forWriters.info().fences.map((f) => f.driver)).toEqual(['vgem']);
    await waitIdle(buf, 'read', { timeoutMs: 1000 });
    await expect(waitIdle(buf, 'write', { timeoutMs: 30 })).rejects.toBeInstanceOf(TimeoutError);
    const writable = waitIdle(buf, 'write', { timeoutMs: 5000 });
    fence.signal();
    await writable;
    expect(fence.signaled).toBe(true);
    expect(forWriters.status.state).toBe('signaled');
  });

  it('a write fence blocks readers and writers, on the exporter’s own dma-buf too', async () => {
    using vgem = openDriver('vgem');
    using vkms = openDriver('vkms');
    using dumb = vkms.createDumb({ width: 16, height: 16, bpp: 32 });
    using fromVkms = dumb.exportDmaBuf();
    using inVgem = vgem.importDmaBuf(fromVkms);
    {
      using fence = VgemFence.attach(inVgem, 'write');
      expect(fence.access).toBe('write');
      expect(isIdle(fromVkms, 'read')).toBe(false);
      expect(isIdle(fromVkms, 'write')).toBe(false);
      using forReaders = exportSyncFile(fromVkms, 'read');
      expect(forReaders.status.state).toBe('active');
      const readable = waitIdle(fromVkms, 'read', { timeoutMs: 5000 });
      await expect(waitIdle(fromVkms, 'write', { timeoutMs: 30 })).rejects.toBeInstanceOf(TimeoutError);
      fence.signal();
      await readable;
    }
    expect(isIdle(fromVkms, 'write')).toBe(true);
  });

  it('conflicts: EBUSY while an unsignalled fence conflicts; read fences share', () => {
    using vgem = openDriver('vgem');
    using dumb = vgem.createDumb({ width: 8, height: 8, bpp: 32 });
    {
      using r1 = VgemFence.attach(dumb, 'read');
      using r2 = VgemFence.attach(dumb, 'read');
      expect(r2.id).not.toBe(r1.id);
      const k = kernelError(() => VgemFence.attach(dumb, 'write'));
      expect(k.code).toBe('EBUSY');
      expect(k.request).toBe('DRM_IOCTL_VGEM_FENCE_ATTACH');
      expect(k.message).toContain('conflicts');
    }
    {
      using w = VgemFence.attach(dumb, 'write');
      expect(kernelError(() => VgemFence.attach(dumb, 'read')).code).toBe('EBUSY');
      w.signal();
    }
    using after = VgemFence.attach(dumb, 'write'); // disposal signalled every fence above
    expect(after.signaled).toBe(false);
  });

  it("signal once: a second signal is the kernel's ENOENT, a KernelError, through the API and raw", () => {
    using vgem = openDriver('vgem');
    using dumb = vgem.createDumb({ width: 8, height: 8, bpp: 32 });
    const fence = VgemFence.attach(dumb);
    fence.signal();
    expect(fence.signaled).toBe(true);
    const again = kernelError(() => fence.signal());
    expect(again).toMatchObject({ code: 'ENOENT', syscall: 'ioctl', request: 'DRM_IOCTL_VGEM_FENCE_SIGNAL' });
    expect(again.message).toContain('no unsignalled fence');
    fence[Symbol.dispose](); // disposing a signalled fence does nothing, and does not throw
    const k = kernelError(() => binding.vgemFenceSignal(vgem.fd, fence.id, 0));
    expect(k.code).toBe('ENOENT');
    expect(k.message).toContain('no unsignalled fence');
    expect(kernelError(() => binding.vgemFenceSignal(vgem.fd, fence.id, 1)).code).toBe('EINVAL');
    expect(kernelError(() => binding.vgemFenceAttach(vgem.fd, dumb.handle, 2)).code).toBe('EINVAL');
    expect(kernelError(() => binding.vgemFenceAttach(vgem.fd, 0x7fff_fff0, 0)).code).toBe('ENOENT');
  });

  it('only on vgem: other drivers give these ioctl numbers to their own ioctls', () => {
    for (const driver of ['vkms', 'virtio_gpu'] as const) {
      using dev = openDriver(driver);
      using dumb = dev.createDumb({ width: 8, height: 8, bpp: 32 });
      expect(() => VgemFence.attach(dumb)).toThrow(/need a vgem device/);
    }
    using vgem = openDriver('vgem');
    using dumb = vgem.createDumb({ width: 8, height: 8, bpp: 32 });
    expect(() => VgemFence.attach(dumb, 'exclusive' as never)).toThrow(TypeError);
  });

  it('closing the vgem fd signals its fences', async () => {
    using vkms = openDriver('vkms');
    using dumb = vkms.createDumb({ width: 8, height: 8, bpp: 32 });
    using buf = dumb.exportDmaBuf();
    const vgem = openDriver('vgem');
    const h = vgem.importDmaBuf(buf);
    const fence = VgemFence.attach(h, 'write');
    expect(isIdle(buf, 'read')).toBe(false);
    vgem.close();
    await waitIdle(buf, 'read', { timeoutMs: 1000 });
    expect(() => fence.signal()).toThrow(/closed/i);
    fence[Symbol.dispose](); // nothing to do
  });
});
