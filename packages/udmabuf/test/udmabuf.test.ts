// Host: argument rules only (this host has no /dev/udmabuf). /dev/null stands in for the device: a call whose
// arguments pass the checks reaches the kernel and fails there with ENOTTY, one that does not never gets there.
import { Fd, KernelError, Memfd, openFdCount, WrongFdError } from '@zcopy/core';
import { PAGE_SIZE } from '@zcopy/dma-buf';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSealedMemfd, UdmabufDevice } from '../src/index.js';

let fdsBefore: number;
beforeEach(() => {
  fdsBefore = openFdCount();
});
afterEach(() => {
  expect(openFdCount()).toBe(fdsBefore);
});

// open('/dev/null') is refused (WrongFdError): the stand-in is made past the check, as a subclass can. It owns
// its own /dev/null fd.
class StandIn extends UdmabufDevice {
  static devNull(): UdmabufDevice {
    const fd = Fd.open('/dev/null', 2);
    return new StandIn(fd.detachFd(), { owned: true });
  }
}

const reachedKernel = (request: string) =>
  expect.objectContaining({ name: 'KernelError', code: 'ENOTTY', request });

describe('UdmabufDevice', () => {
  it('a missing device node is a KernelError naming the path', () => {
    expect(() => UdmabufDevice.open('/nonexistent/udmabuf')).toThrow(
      expect.objectContaining({ code: 'ENOENT', path: '/nonexistent/udmabuf' }),
    );
  });

  it('open, adopt, borrow and dup of a file that is not udmabuf: WrongFdError naming it, nothing left open', () => {
    expect(() => UdmabufDevice.open('/dev/null')).toThrow(WrongFdError);
    expect(() => UdmabufDevice.open('/dev/null')).toThrow(
      /^fd \d+ is \/dev\/null \(char 1:3, mem\/null\), not the udmabuf device$/,
    );
    using m = Memfd.create('not-udmabuf');
    expect(() => UdmabufDevice.adopt(m.fd)).toThrow(/is \/memfd:not-udmabuf.*not the udmabuf device/);
    expect(() => UdmabufDevice.borrow(m)).toThrow(WrongFdError);
    expect(() => UdmabufDevice.dup(m)).toThrow(WrongFdError);
    expect(m.size).toBe(0); // still open
  });

  it('create checks its arguments before the ioctl', () => {
    using dev = StandIn.devNull();
    using memfd = createSealedMemfd(2 * PAGE_SIZE);
    expect(() => dev.create('3' as unknown as number)).toThrow(TypeError);
    expect(() => dev.create(memfd, { offset: -PAGE_SIZE })).toThrow(RangeError);
    expect(() => dev.create(memfd, { size: 1.5 })).toThrow(TypeError);
    expect(() => dev.create(memfd, { offset: 3 * PAGE_SIZE })).toThrow(/past the end/);
    expect(() => dev.create(memfd, { name: 'n'.repeat(32) })).toThrow(RangeError);
    expect(() => dev.create(memfd, null as unknown as object)).toThrow(TypeError);
    expect(() => dev.create(memfd)).toThrow(reachedKernel('UDMABUF_CREATE'));
  });

  it('createList checks every range before the ioctl', () => {
    using dev = StandIn.devNull();
    using memfd = createSealedMemfd(PAGE_SIZE);
    expect(() => dev.createList('x' as unknown as [])).toThrow(TypeError);
    expect(() => dev.createList([null as unknown as { memfd: number }])).toThrow(TypeError);
    expect(() => dev.createList([{ memfd }, { memfd: -1 }])).toThrow(/ranges\[1\]\.memfd/);
    expect(() => dev.createList([{ memfd, size: Number.MAX_SAFE_INTEGER + 1 }])).toThrow(RangeError);
    expect(() => dev.createList([{ memfd }], { name: 5 as unknown as string })).toThrow(TypeError);
    expect(() => dev.createList([{ memfd }, { memfd: memfd.fd, offset: 0, size: PAGE_SIZE }])).toThrow(
      reachedKernel('UDMABUF_CREATE_LIST'),
    );
  });

  it('allocate checks size and name before making a memfd', () => {
    using dev = StandIn.devNull();
    expect(() => dev.allocate(-1)).toThrow(RangeError);
    expect(() => dev.allocate('4096' as unknown as number)).toThrow(TypeError);
    expect(() => dev.allocate(PAGE_SIZE, { name: 'x'.repeat(40) })).toThrow(RangeError);
    expect(() => dev.allocate(PAGE_SIZE)).toThrow(KernelError);
  });
});

describe('createSealedMemfd', () => {
  it('is sized and sealed the way udmabuf needs: shrink, no write, and no further seals', () => {
    using memfd = createSealedMemfd(3 * PAGE_SIZE);
    expect(memfd.size).toBe(3 * PAGE_SIZE);
    expect(memfd.seals.sort()).toEqual(['seal', 'shrink']);
    expect(() => memfd.addSeals(['write'])).toThrow(expect.objectContaining({ code: 'EPERM' }));
    expect(() => createSealedMemfd(-1)).toThrow(RangeError);
  });

  it('a plain memfd without sealing is still accepted as an argument (the kernel judges it)', () => {
    using dev = StandIn.devNull();
    using plain = Memfd.create('plain', { size: PAGE_SIZE, allowSealing: false });
    expect(() => dev.create(plain)).toThrow(reachedKernel('UDMABUF_CREATE'));
  });
});
