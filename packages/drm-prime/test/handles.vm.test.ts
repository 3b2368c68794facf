// VM: GEM handle ownership. The kernel returns the same handle when one fd imports a buffer twice and does not
// count it; GemHandle references are counted per fd so the handle lives until the last reference closes.
import { readFileSync } from 'node:fs';
import { liveMappings, openFdCount } from '@zcopy/core';
import { describe, expect, it } from 'vitest';
import { DrmDevice } from '../src/index.js';
import { binding } from '../src/native.js';
import { openDriver, pattern } from './devices.js';
import { collectGarbage, dmaBufFdCount, kernelError, procFdCount } from './helpers.js';
import { dumbDmaBuf } from './sources.js';

function readAll(h: { exportDmaBuf(): import('@zcopy/dma-buf').DmaBuf }): Buffer {
  using buf = h.exportDmaBuf();
  using m = buf.mmap({ access: 'read' });
  return Buffer.from(m.buffer);
}

describe('what the kernel does (the reason for the model)', () => {
  it('a second import of one dma-buf on one fd returns the same handle, and one GEM_CLOSE frees it for both', () => {
    using vgem = openDriver('vgem', 'render');
    using buf = dumbDmaBuf('vkms', 4096);
    const first = binding.fdToHandle(vgem.fd, buf.fd);
    const second = binding.fdToHandle(vgem.fd, buf.fd);
    expect(second).toBe(first);
    binding.gemClose(vgem.fd, first);
    // The naive second holder's handle is gone already:
    expect(kernelError(() => binding.handleToFd(vgem.fd, second, 0)).code).toBe('ENOENT');
    const k = kernelError(() => binding.gemClose(vgem.fd, second));
    expect(k.code).toBe('EINVAL');
    expect(k.message).toContain('closed outside zcopy');
  });
});

describe('GemHandle references', () => {
  it('re-import: the same handle, two references; the buffer stays until the last one closes', () => {
    using vgem = openDriver('vgem', 'render');
    using buf = dumbDmaBuf('vkms', 8192);
    const bytes = pattern(8192, 9);
    {
      using m = buf.mmap();
      bytes.copy(m.buffer);
    }
    const a = vgem.importDmaBuf(buf);
    const b = vgem.importDmaBuf(buf);
    expect(b.handle).toBe(a.handle);
    expect([a.refs, b.refs]).toEqual([2, 2]);
    expect(vgem.gemHandles()).toEqual([a.handle]);
    const n = a.handle;
    buf.close(); // only the handle holds the buffer now
    a.close();
    expect(a.closed).toBe(true);
    expect(a.refs).toBe(0);
    expect(b.refs).toBe(1);
    expect(vgem.gemHandles()).toEqual([n]);
    expect(Buffer.compare(readAll(b), bytes)).toBe(0); // still the kernel's handle n, still the buffer
    b.close();
    expect(vgem.gemHandles()).toEqual([]);
    expect(kernelError(() => binding.handleToFd(vgem.fd, n, 0)).code).toBe('ENOENT'); // now it is gone
  });

  it('importing its own export gives the dumb buffer’s handle; closing the dumb buffer keeps the import working', () => {
    using vkms = openDriver('vkms');
    const dumb = vkms.createDumb({ width: 32, height: 32, bpp: 32 });
    const bytes = pattern(dumb.size, 10);
    {
      using m = dumb.map();
      bytes.copy(m.buffer);
    }
    const exported = dumb.exportDmaBuf();
    using imported = vkms.importDmaBuf(exported);
    exported.close();
    expect(imported.handle).toBe(dumb.handle);
    expect(imported.refs).toBe(2);
    dumb.destroy();
    expect(imported.refs).toBe(1);
    expect(Buffer.compare(readAll(imported), bytes)).toBe(0);
  });

  it('clone() is one more reference, closed on its own', () => {
    using vgem = openDriver('vgem');
    const dumb = vgem.createDumb({ width: 8, height: 8, bpp: 32 });
    const c = dumb.clone();
    expect(c.handle).toBe(dumb.handle);
    expect(c.refs).toBe(2);
    dumb.close();
    expect(c.refs).toBe(1);
    readAll(c).length;
    c.close();
    expect(vgem.gemHandles()).toEqual([]);
  });

  it('a borrowed device shares the owner’s references; closing it drops only its own', () => {
    using owner = openDriver('vgem');
    using buf = dumbDmaBuf('vkms', 4096);
    using mine = owner.importDmaBuf(buf);
    const borrowed = DrmDevice.borrow(owner);
    const theirs = borrowed.importDmaBuf(buf);
    expect(theirs.handle).toBe(mine.handle);
    expect(mine.refs).toBe(2);
    const byNumber = DrmDevice.borrow(owner.fd); // the fd number finds the same table
    using third = byNumber.importDmaBuf(buf);
    expect(third.refs).toBe(3);
    borrowed.close();
    expect(theirs.closed).toBe(true);
    expect(mine.refs).toBe(2);
    byNumber.close();
    expect(third.closed).toBe(true);
    expect(mine.refs).toBe(1);
    readAll(mine);
  });

  it('closing the owner closes every handle of the fd, borrowers’ included, with no ioctl on the dead fd', () => {
    const owner = openDriver('vgem');
    using buf = dumbDmaBuf('vkms', 4096);
    const borrowed = DrmDevice.borrow(owner);
    const h = borrowed.importDmaBuf(buf);
    const dumb = owner.createDumb({ width: 8, height: 8, bpp: 32 });
    owner.close();
    expect(h.closed).toBe(true);
    expect(dumb.closed).toBe(true);
    h.close();
    dumb.close();
    borrowed.close();
  });

  it('two fds of one device hold separate handles: closing in one leaves the other', () => {
    using a = openDriver('vgem', 'render');
    using b = openDriver('vgem', 'render');
    using buf = dumbDmaBuf('vkms', 4096);
    const ha = a.importDmaBuf(buf);
    using hb = b.importDmaBuf(buf);
    ha.close();
    expect(a.gemHandles()).toEqual([]);
    expect(b.gemHandles()).toEqual([hb.handle]);
    readAll(hb);
  });

  it('a GemHandle garbage-collected open is released with a leak warning', async () => {
    using vgem = openDriver('vgem');
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      (() => {
        vgem.createDumb({ width: 8, height: 8, bpp: 32 });
      })();
      expect(vgem.gemHandles()).toHaveLength(1);
      await collectGarbage();
      expect(vgem.gemHandles()).toEqual([]);
      await new Promise((r) => setImmediate(r));
      expect(warnings.some((w) => (w as { code?: string }).code === 'ZCOPY_GEM_HANDLE_LEAK')).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

function kernelDmaBufCount(): number {
  const text = readFileSync('/sys/kernel/debug/dma_buf/bufinfo', 'utf8');
  const m = /Total (\d+) objects/.exec(text);
  if (!m) throw new Error(`unexpected bufinfo: ${text.slice(-200)}`);
  return Number(m[1]);
}

describe('no growth', () => {
  it('10,000 create / export / import / re-import / close cycles leave no fd, handle, mapping or dma-buf', () => {
    using vkms = openDriver('vkms');
    using vgem = openDriver('vgem', 'render');
    const fds = procFdCount();
    const tracked = openFdCount();
    const dmabufs = dmaBufFdCount();
    const maps = liveMappings();
    const inKernel = kernelDmaBufCount();
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      using dumb = vkms.createDumb({ width: 16, height: 16, bpp: 32 });
      using buf = dumb.exportDmaBuf();
      using h = vgem.importDmaBuf(buf);
      using again = vgem.importDmaBuf(buf);
      if (again.handle !== h.handle)
        throw new Error(`cycle ${i}: re-import gave ${again.handle} ≠ ${h.handle}`);
      seen.add(h.handle);
    }
    expect(vkms.gemHandles()).toEqual([]);
    expect(vgem.gemHandles()).toEqual([]);
    expect(seen.size).toBeLessThanOrEqual(2); // the kernel reuses the freed numbers
    expect(procFdCount()).toBe(fds);
    expect(openFdCount()).toBe(tracked);
    expect(dmaBufFdCount()).toBe(dmabufs);
    expect(liveMappings()).toBe(maps);
    expect(kernelDmaBufCount()).toBe(inKernel);
  });
});
