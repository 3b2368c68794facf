// Host: argument rules and TS logic only (this host has no dma-buf exporter). A memfd stands in where a test
// needs an fd; any check that failed to run before the syscall would surface as a KernelError instead.
import { KernelError, liveMappings, Memfd, openFdCount, WrongFdError } from '@zcopy/core';
import { describe, expect, it } from 'vitest';
import { checkDmaBufName, DMA_BUF_NAME_MAX, DmaBuf, PAGE_SIZE } from '../src/index.js';

// Wraps a non-dma-buf fd, bypassing adopt()'s type check, to reach the validation paths on this host.
class Probe extends DmaBuf {
  static over(fd: number): Probe {
    return new Probe(fd, { owned: false });
  }
}

describe('DmaBuf.adopt / borrow', () => {
  it('refuses an fd that is not a dma-buf and leaves it with the caller', () => {
    using memfd = Memfd.create('not-a-dmabuf', { size: 4096 });
    const tracked = openFdCount();
    expect(DmaBuf.isDmaBuf(memfd)).toBe(false);
    expect(() => DmaBuf.adopt(memfd.fd)).toThrow(TypeError);
    expect(() => DmaBuf.adopt(memfd.fd)).toThrow(WrongFdError);
    expect(() => DmaBuf.borrow(memfd.fd)).toThrow(
      `fd ${memfd.fd} is /memfd:not-a-dmabuf (deleted), not a dma-buf`,
    );
    expect(() => DmaBuf.dup(memfd)).toThrow(expect.objectContaining({ code: 'ERR_ZCOPY_WRONG_FD' }));
    expect(openFdCount()).toBe(tracked);
    expect(memfd.size).toBe(4096); // still open
  });

  it('rejects non-fd arguments before any syscall', () => {
    expect(() => DmaBuf.adopt(-1)).toThrow(RangeError);
    expect(() => DmaBuf.adopt(1.5)).toThrow(TypeError);
    expect(() => DmaBuf.borrow('3' as unknown as number)).toThrow(TypeError);
    expect(() => DmaBuf.isDmaBuf(null as unknown as number)).toThrow(TypeError);
  });
});

describe('seek', () => {
  it('checks offset and whence before the syscall', () => {
    using memfd = Memfd.create('seek', { size: 4096 });
    const p = Probe.over(memfd.fd);
    expect(() => p.seek(0.5, 'set')).toThrow(TypeError);
    expect(() => p.seek(2 ** 40, 'set')).toThrow(RangeError);
    expect(() => p.seek(0, 'middle' as never)).toThrow(TypeError);
    expect(() => p.seek(0, 0 as never)).toThrow(TypeError);
    // A memfd seeks anywhere: the call reaches the kernel (the dma-buf rules are asserted in the guest).
    expect(p.seek(100, 'set')).toBe(100);
    expect(DmaBuf.sizeOf(memfd)).toBe(4096);
  });
});

describe('names', () => {
  it('accepts up to 31 UTF-8 bytes and refuses more, by bytes not characters', () => {
    expect(DMA_BUF_NAME_MAX).toBe(31);
    expect(checkDmaBufName('a'.repeat(31))).toBe('a'.repeat(31));
    expect(() => checkDmaBufName('a'.repeat(32))).toThrow(RangeError);
    expect(checkDmaBufName('é'.repeat(15))).toHaveLength(15); // 30 bytes
    expect(() => checkDmaBufName('é'.repeat(16))).toThrow(/at most 31 bytes/); // 32 bytes
    expect(() => checkDmaBufName('a\0b')).toThrow(RangeError);
    expect(() => checkDmaBufName('a\nb')).toThrow(RangeError);
    expect(() => checkDmaBufName(42)).toThrow(TypeError);
  });

  it('the setter checks before the syscall, and reaches the syscall otherwise', () => {
    using memfd = Memfd.create('probe', { size: 4096 });
    using probe = Probe.over(memfd.fd);
    expect(() => {
      probe.name = 'x'.repeat(32);
    }).toThrow(RangeError);
    // A memfd has no DMA_BUF_SET_NAME: the call got as far as the kernel.
    expect(() => {
      probe.name = 'ok';
    }).toThrow(expect.objectContaining({ code: 'ENOTTY', request: 'DMA_BUF_SET_NAME' }));
  });
});

describe('mmap', () => {
  it('checks offset and length against the size before mapping', () => {
    using memfd = Memfd.create('probe', { size: 4 * PAGE_SIZE });
    using probe = Probe.over(memfd.fd);
    expect(probe.size).toBe(4 * PAGE_SIZE);
    expect(() => probe.mmap({ offset: 100 })).toThrow(/multiple of the page size/);
    expect(() => probe.mmap({ offset: -PAGE_SIZE })).toThrow(RangeError);
    expect(() => probe.mmap({ length: 0 })).toThrow(RangeError);
    expect(() => probe.mmap({ offset: PAGE_SIZE, length: 4 * PAGE_SIZE })).toThrow(/exceeds the buffer/);
    expect(() => probe.mmap({ offset: 4 * PAGE_SIZE })).toThrow(RangeError);
    expect(() => probe.mmap(null as unknown as object)).toThrow(TypeError);
  });

  it('owns its mappings: unmap forgets them, close unmaps the rest and detaches their views', () => {
    using memfd = Memfd.create('probe', { size: 2 * PAGE_SIZE });
    const before = liveMappings();
    const probe = Probe.over(memfd.fd);
    const a = probe.mmap();
    const b = probe.mmap({ offset: PAGE_SIZE, access: 'read' });
    const view = a.buffer;
    view[PAGE_SIZE] = 7;
    expect(b.buffer[0]).toBe(7);
    expect(probe.mappings).toHaveLength(2);
    a.unmap();
    expect(probe.mappings).toEqual([b]);
    probe.close();
    expect(b.mapped).toBe(false);
    expect(view.length).toBe(0);
    expect(liveMappings()).toBe(before);
    expect(() => probe.mmap()).toThrow(/closed/);
  });
});

describe('CPU access on a closed or wrong buffer', () => {
  it('rejects bad access modes before the syscall, and fn never runs when start fails', () => {
    using memfd = Memfd.create('probe', { size: PAGE_SIZE });
    using probe = Probe.over(memfd.fd);
    let ran = false;
    expect(() => probe.withCpuAccess('rw' as 'read', () => {})).toThrow(TypeError);
    expect(() => probe.syncEnd('' as 'read')).toThrow(TypeError);
    expect(() => probe.withCpuAccess('read', 42 as unknown as () => void)).toThrow(TypeError);
    expect(() =>
      probe.withCpuAccess('read', () => {
        ran = true;
      }),
    ).toThrow(expect.objectContaining({ code: 'ENOTTY', request: 'DMA_BUF_IOCTL_SYNC' }));
    expect(ran).toBe(false);
    expect(() => probe.beginCpuAccess('write')).toThrow(KernelError);
  });
});
