// VM: dumb buffers on vgem, vkms and virtio-gpu (Linux 6.1): create, map through the device fd, close.
import { ClosedError, liveMappings, openFdCount } from '@zcopy/core';
import { describe, expect, it } from 'vitest';
import { DumbBuffer } from '../src/index.js';
import { type Driver, openDriver, pattern } from './devices.js';
import { kernelError, procFdCount } from './helpers.js';

const PAGE = 4096;
const pageAlign = (n: number) => Math.ceil(n / PAGE) * PAGE;

describe.each<Driver>(['vgem', 'vkms', 'virtio_gpu'])('dumb buffers on %s', (driver) => {
  it('create gives a handle, the pitch and page-aligned size of the layout, and zeroed pages', () => {
    using dev = openDriver(driver);
    using buf = dev.createDumb({ width: 100, height: 30, bpp: 32 });
    expect(buf).toBeInstanceOf(DumbBuffer);
    expect(buf.handle).toBeGreaterThan(0);
    expect([buf.width, buf.height, buf.bpp]).toEqual([100, 30, 32]);
    expect(buf.pitch).toBe(400); // width × 4 bytes, no padding on these drivers
    expect(buf.size).toBe(pageAlign(400 * 30));
    expect(dev.gemHandles()).toEqual([buf.handle]);
    using m = buf.map();
    expect(m.length).toBe(buf.size);
    expect(m.buffer.every((b) => b === 0)).toBe(true);
  });

  it('two mappings of one buffer share its pages; close() unmaps them and frees the handle', () => {
    const fds = procFdCount();
    const maps = liveMappings();
    using dev = openDriver(driver);
    const buf = dev.createDumb({ width: 64, height: 64, bpp: 32 });
    const a = buf.map();
    const b = buf.map({ access: 'read' });
    const bytes = pattern(buf.size, 3);
    bytes.copy(a.buffer);
    expect(Buffer.compare(b.buffer, bytes)).toBe(0);
    expect(buf.mappings).toHaveLength(2);
    expect(liveMappings()).toBe(maps + 2);
    buf.close();
    buf.close(); // idempotent
    expect(a.mapped).toBe(false);
    expect(b.mapped).toBe(false);
    expect(liveMappings()).toBe(maps);
    expect(dev.gemHandles()).toEqual([]);
    expect(buf.closed).toBe(true);
    expect(() => buf.handle).toThrow(ClosedError);
    expect(() => buf.map()).toThrow(ClosedError);
    dev.close();
    expect(procFdCount()).toBe(fds);
  });

  it('the device closing closes its buffers and their mappings (the kernel frees the handles with the fd)', () => {
    const maps = liveMappings();
    const dev = openDriver(driver);
    const buf = dev.createDumb({ width: 16, height: 16, bpp: 32 });
    const m = buf.map();
    dev.close();
    expect(buf.closed).toBe(true);
    expect(m.mapped).toBe(false);
    expect(liveMappings()).toBe(maps);
    buf.close(); // nothing left to do, no ioctl on the closed fd
  });

  it('zero sizes and sizes past 32 bits: EINVAL from the kernel, with the rule', () => {
    using dev = openDriver(driver);
    for (const opts of [
      { width: 0, height: 8, bpp: 32 },
      { width: 8, height: 0, bpp: 32 },
      { width: 8, height: 8, bpp: 0 },
      { width: 0xffff_ffff, height: 2, bpp: 32 },
    ]) {
      const k = kernelError(() => dev.createDumb(opts));
      expect(k.code, JSON.stringify(opts)).toBe('EINVAL');
      expect(k.request).toBe('DRM_IOCTL_MODE_CREATE_DUMB');
      expect(k.message).toContain('must be non-zero');
    }
    expect(dev.gemHandles()).toEqual([]);
  });
});

describe('dumb buffer rules by driver', () => {
  it('render nodes refuse dumb buffers (EACCES: the ioctl is not render-allowed)', () => {
    for (const driver of ['vgem', 'virtio_gpu'] as const) {
      using render = openDriver(driver, 'render');
      const k = kernelError(() => render.createDumb({ width: 8, height: 8, bpp: 32 }));
      expect(k.code).toBe('EACCES');
      expect(k.message).toContain('card node');
    }
  });

  it('virtio_gpu makes only 32 bpp buffers; vkms takes 24 and 16 bpp with a byte-rounded pitch', () => {
    using gpu = openDriver('virtio_gpu');
    const k = kernelError(() => gpu.createDumb({ width: 8, height: 8, bpp: 24 }));
    expect(k.code).toBe('EINVAL');
    expect(k.message).toContain('virtio_gpu makes only 32 bpp');
    using vkms = openDriver('vkms');
    using rgb = vkms.createDumb({ width: 10, height: 10, bpp: 24 });
    expect(rgb.pitch).toBe(30);
    using rgb565 = vkms.createDumb({ width: 11, height: 1, bpp: 16 });
    expect(rgb565.pitch).toBe(22);
    expect(rgb565.size).toBe(PAGE);
  });

  it('handles of one fd are distinct; a closed handle number is handed out again by the kernel', () => {
    using dev = openDriver('vkms');
    const a = dev.createDumb({ width: 8, height: 8, bpp: 32 });
    using b = dev.createDumb({ width: 8, height: 8, bpp: 32 });
    const first = a.handle;
    expect(b.handle).not.toBe(first);
    a.close();
    using c = dev.createDumb({ width: 8, height: 8, bpp: 32 });
    expect(c.handle).toBe(first); // why a stale handle number must never be closed again
    expect(dev.gemHandles()).toEqual([b.handle, c.handle].sort((x, y) => x - y));
  });

  it('wrong JS arguments throw before the ioctl and leave nothing behind', () => {
    using dev = openDriver('vkms');
    const fds = procFdCount();
    const tracked = openFdCount();
    expect(() => dev.createDumb({ width: -1, height: 8, bpp: 32 })).toThrow(RangeError);
    expect(() => dev.createDumb({ width: 8, height: 2 ** 32, bpp: 32 })).toThrow(RangeError);
    expect(() => dev.createDumb({ width: 1.5, height: 8, bpp: 32 })).toThrow(TypeError);
    expect(() => dev.createDumb({ width: 8, height: 8 } as never)).toThrow(TypeError);
    expect(() => dev.createDumb(null as never)).toThrow(TypeError);
    using buf = dev.createDumb({ width: 8, height: 8, bpp: 32 });
    expect(() => buf.map({ access: 'write' as never })).toThrow(TypeError);
    expect(procFdCount()).toBe(fds);
    expect(openFdCount()).toBe(tracked);
    expect(dev.gemHandles()).toEqual([buf.handle]);
  });
});
