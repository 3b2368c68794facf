// VM: PRIME export/import between vgem, vkms, virtio-gpu, the dma-heaps and udmabuf (Linux 6.1).
import { Memfd, openFdCount } from '@zcopy/core';
import { DmaBuf } from '@zcopy/dma-buf';
import { listHeaps } from '@zcopy/dma-heap';
import { describe, expect, it } from 'vitest';
import type { GemHandle } from '../src/index.js';
import { binding } from '../src/native.js';
import { type Driver, openDriver, pattern } from './devices.js';
import { dmaBufFdCount, kernelError, procFdCount } from './helpers.js';
import { dumbDmaBuf, sources } from './sources.js';

const SIZE = 64 * 1024;

const O_CLOEXEC = 0o2000000;
const O_ACCMODE = 3;

/** Writes `bytes` into a dma-buf through its own mapping, inside a CPU-access bracket. */
function fill(buf: DmaBuf, bytes: Buffer): void {
  using m = buf.mmap();
  buf.withCpuAccess('write', () => bytes.copy(m.buffer));
}

function read(buf: DmaBuf): Buffer {
  using m = buf.mmap({ access: 'read' });
  return buf.withCpuAccess('read', () => Buffer.from(m.buffer));
}

describe('vgem ↔ vkms', () => {
  it('a vgem dumb buffer goes into vkms and back: bytes written through the vgem mapping read back via vkms', () => {
    using vgem = openDriver('vgem');
    using vkms = openDriver('vkms');
    using dumb = vgem.createDumb({ width: 128, height: 128, bpp: 32 });
    const bytes = pattern(dumb.size, 1);
    {
      using m = dumb.map();
      bytes.copy(m.buffer);
    }
    using exported = dumb.exportDmaBuf();
    expect(exported.size).toBe(dumb.size);
    using inVkms = vkms.importDmaBuf(exported);
    expect(inVkms.device).toBe(vkms);
    using fromVkms = inVkms.exportDmaBuf();
    expect(Buffer.compare(read(fromVkms), bytes)).toBe(0);
    // Back into vgem, on the fd that made it: the kernel hands back the dumb buffer's own handle.
    using back = vgem.importDmaBuf(fromVkms);
    expect(back.handle).toBe(dumb.handle);
    expect(back.refs).toBe(2);
  });

  it('a vkms dumb buffer goes into vgem (card and render node): vgem writes, the vkms mapping reads', () => {
    using vkms = openDriver('vkms');
    using dumb = vkms.createDumb({ width: 64, height: 32, bpp: 32 });
    using vkmsMap = dumb.map();
    for (const type of ['primary', 'render'] as const) {
      using vgem = openDriver('vgem', type);
      using exported = dumb.exportDmaBuf();
      using h = vgem.importDmaBuf(exported);
      using again = h.exportDmaBuf();
      const bytes = pattern(dumb.size, type === 'primary' ? 2 : 3);
      fill(again, bytes);
      expect(Buffer.compare(vkmsMap.buffer, bytes)).toBe(0);
    }
  });
});

describe('virtio_gpu', () => {
  it('its buffers import into vgem and vkms, and the bytes arrive', () => {
    using gpu = openDriver('virtio_gpu');
    using dumb = gpu.createDumb({ width: 64, height: 64, bpp: 32 });
    const bytes = pattern(dumb.size, 4);
    {
      using m = dumb.map();
      bytes.copy(m.buffer);
    }
    using exported = dumb.exportDmaBuf();
    for (const driver of ['vgem', 'vkms'] as const) {
      using dev = openDriver(driver);
      using h = dev.importDmaBuf(exported);
      expect(h.handle).toBeGreaterThan(0);
      // Re-exported by the importer: the same dma-buf, with the same bytes (vgem/vkms attach to virtio's pages).
      using out = h.exportDmaBuf();
      expect(out.info().inode).toBe(exported.info().inode);
      expect(Buffer.compare(read(out), bytes)).toBe(0);
    }
  });

  it('imports its own buffers, on another fd of the device too', () => {
    using card = openDriver('virtio_gpu');
    using render = openDriver('virtio_gpu', 'render');
    using dumb = card.createDumb({ width: 32, height: 32, bpp: 32 });
    using exported = dumb.exportDmaBuf();
    using h = render.importDmaBuf(exported);
    expect(h.handle).toBeGreaterThan(0);
    using same = card.importDmaBuf(exported);
    expect(same.handle).toBe(dumb.handle);
  });

  it('a foreign dma-buf fails with ENODEV and says virtio_gpu imports only its own buffers', () => {
    using gpu = openDriver('virtio_gpu', 'render');
    for (const source of sources.filter((s) => !s.name.startsWith('virtio_gpu'))) {
      using buf = source.make(SIZE);
      const k = kernelError(() => gpu.importDmaBuf(buf));
      expect(k.code, source.name).toBe('ENODEV');
      expect(k.request).toBe('DRM_IOCTL_PRIME_FD_TO_HANDLE');
      expect(k.message).toContain('virtio_gpu imports only its own buffers');
    }
    expect(gpu.gemHandles()).toEqual([]);
  });
});

describe.each<Driver>(['vgem', 'vkms'])('every exporter into %s', (driver) => {
  it.each(sources.map((s) => [s.name, s] as const))('%s', (_name, source) => {
    using dev = openDriver(driver);
    using buf = source.make(SIZE);
    const bytes = pattern(SIZE, 5);
    fill(buf, bytes);
    using h = dev.importDmaBuf(buf);
    buf.close(); // the import holds the buffer now
    using out = h.exportDmaBuf();
    expect(out.size).toBe(SIZE);
    expect(Buffer.compare(read(out), bytes)).toBe(0);
  });
});

describe('exported dma-bufs', () => {
  it('the CMA heap is there, so its import tests above ran', () => {
    expect(listHeaps().filter((h) => h !== 'system')).not.toEqual([]);
  });

  it("seek (dma-buf's one lseek): SEEK_END 0 is the size, SEEK_SET 0 is 0, every other seek is EINVAL", () => {
    using buf = dumbDmaBuf('vkms', SIZE);
    expect(buf.seek(0, 'end')).toBe(SIZE);
    expect(buf.seek(0, 'set')).toBe(0);
    for (const [offset, whence] of [
      [0, 'cur'],
      [4096, 'set'],
      [-1, 'end'],
      [1, 'end'],
    ] as const) {
      const k = kernelError(() => buf.seek(offset, whence));
      expect(k.code, `${offset} ${whence}`).toBe('EINVAL');
      expect(k.syscall).toBe('lseek');
      expect(k.message).toMatch(/seeks only to offset 0/);
    }
  });

  it('are close-on-exec; access "read" leaves DRM_RDWR out, and the first export decides for later ones', () => {
    using vkms = openDriver('vkms');
    using rw = vkms.createDumb({ width: 32, height: 32, bpp: 32 });
    using a = rw.exportDmaBuf();
    expect(a.info().flags & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(a.info().flags & O_ACCMODE).toBe(2); // O_RDWR
    a.mmap().unmap();

    using ro = vkms.createDumb({ width: 32, height: 32, bpp: 32 });
    using b = ro.exportDmaBuf({ access: 'read' });
    expect(b.info().flags & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(b.info().flags & O_ACCMODE).toBe(0); // O_RDONLY
    b.mmap({ access: 'read' }).unmap();
    expect(kernelError(() => b.mmap()).code).toBe('EACCES');
    // The kernel keeps one dma-buf per buffer: a later read-write export is a new fd of the read-only file.
    using c = ro.exportDmaBuf({ access: 'readwrite' });
    expect(c.info().flags & O_ACCMODE).toBe(0);
    expect(c.info().inode).toBe(b.info().inode);
  });

  it('the buffer outlives the exporting device fd, and imports after it is gone', () => {
    const fds = procFdCount();
    const vgem = openDriver('vgem');
    const dumb = vgem.createDumb({ width: 256, height: 16, bpp: 32 });
    const bytes = pattern(dumb.size, 6);
    const m = dumb.map();
    bytes.copy(m.buffer);
    const buf = dumb.exportDmaBuf();
    vgem.close(); // handles, mappings and the fd go; the dma-buf holds the object
    expect(dumb.closed).toBe(true);
    expect(m.mapped).toBe(false);
    expect(Buffer.compare(read(buf), bytes)).toBe(0);
    using vkms = openDriver('vkms');
    const h = vkms.importDmaBuf(buf);
    buf.close();
    using out = h.exportDmaBuf();
    h.close();
    expect(Buffer.compare(read(out), bytes)).toBe(0);
    out.close();
    vkms.close();
    expect(procFdCount()).toBe(fds);
  });
});

describe('PRIME errors', () => {
  it('a handle the fd does not have: ENOENT', () => {
    using vgem = openDriver('vgem', 'render');
    const k = kernelError(() => binding.handleToFd(vgem.fd, 0x7fff_fff0, binding.primeFlags.RDWR));
    expect(k.code).toBe('ENOENT');
    expect(k.request).toBe('DRM_IOCTL_PRIME_HANDLE_TO_FD');
    expect(k.message).toContain('no GEM object with this handle');
  });

  it('unknown export flags: EINVAL', () => {
    using vkms = openDriver('vkms');
    using dumb = vkms.createDumb({ width: 8, height: 8, bpp: 32 });
    const fds = procFdCount();
    const k = kernelError(() => binding.handleToFd(vkms.fd, dumb.handle, 0x8));
    expect(k.code).toBe('EINVAL');
    expect(k.message).toContain('DRM_CLOEXEC and DRM_RDWR');
    expect(procFdCount()).toBe(fds);
    expect(() => dumb.exportDmaBuf({ access: 'write' as never })).toThrow(TypeError);
    expect(() => dumb.exportDmaBuf(null as never)).toThrow(TypeError);
  });

  it('an fd that is not a dma-buf: EINVAL; a closed fd: EBADF; nothing is held afterwards', () => {
    using vgem = openDriver('vgem', 'render');
    using memfd = Memfd.create('not-a-dmabuf', { size: 4096 });
    const k = kernelError(() => vgem.importDmaBuf(memfd));
    expect(k.code).toBe('EINVAL');
    expect(k.message).toContain('not a dma-buf');
    const closed = 999_999; // above any fd this process has open
    expect(kernelError(() => vgem.importDmaBuf(closed)).code).toBe('EBADF');
    expect(kernelError(() => vgem.importDmaBuf(vgem)).code).toBe('EINVAL'); // a DRM fd is no dma-buf either
    expect(() => vgem.importDmaBuf(-1)).toThrow(RangeError);
    expect(() => vgem.importDmaBuf('3' as never)).toThrow(TypeError);
    expect(vgem.gemHandles()).toEqual([]);
  });

  it('exportDmaBuf on the device checks the handle is of this fd', () => {
    using a = openDriver('vgem');
    using b = openDriver('vgem');
    using dumb = a.createDumb({ width: 8, height: 8, bpp: 32 });
    expect(() => b.exportDmaBuf(dumb)).toThrow(/per fd/);
    expect(() => b.exportDmaBuf({} as GemHandle)).toThrow(TypeError);
    using out = a.exportDmaBuf(dumb);
    expect(out).toBeInstanceOf(DmaBuf);
  });

  it('failed imports and exports leak no fd', () => {
    const fds = procFdCount();
    const tracked = openFdCount();
    const dmabufs = dmaBufFdCount();
    using gpu = openDriver('virtio_gpu');
    for (let i = 0; i < 50; i++) {
      using buf = dumbDmaBuf('vgem', 4096);
      kernelError(() => gpu.importDmaBuf(buf));
    }
    gpu.close();
    expect(procFdCount()).toBe(fds);
    expect(openFdCount()).toBe(tracked);
    expect(dmaBufFdCount()).toBe(dmabufs);
  });
});
