// udmabuf in the guest kernel: memfd pages seen through the dma-buf (single range and lists), every rule the
// kernel enforces by code and by message, and no fd or mapping left behind.
import { readFileSync, readSync, writeSync } from 'node:fs';
import { Fd, Memfd } from '@zcopy/core';
import { PAGE_SIZE } from '@zcopy/dma-buf';
import { afterAll, describe, expect, it } from 'vitest';
import { holdings } from '../../dma-buf/test/helpers.js';
import { createSealedMemfd, UdmabufDevice, udmabufLimits } from '../src/index.js';

// By number: libuv (and so KernelError.code) does not know EBADFD. Values from asm-generic/errno*.h.
const errnoByName: Record<string, number> = { EINVAL: 22, EBADFD: 77 };

const start = holdings();
const dev = UdmabufDevice.open();
afterAll(() => {
  dev.close();
  expect(holdings()).toEqual(start);
});

function pwrite(fd: number, text: string, at: number): void {
  writeSync(fd, Buffer.from(text), 0, text.length, at);
}

function pread(fd: number, length: number, at: number): string {
  const b = Buffer.alloc(length);
  readSync(fd, b, 0, length, at);
  return b.toString();
}

describe('round trips', () => {
  it('allocate: an anonymous udmabuf, mapped, written and read back', () => {
    using buf = dev.allocate(3 * PAGE_SIZE, { name: 'anon' });
    expect(buf.size).toBe(3 * PAGE_SIZE);
    expect(buf.info()).toMatchObject({ exporter: 'udmabuf', name: 'anon', size: 3 * PAGE_SIZE });
    using m = buf.mmap();
    buf.withCpuAccess('write', () => m.buffer.fill(0xc3));
    using again = buf.mmap({ access: 'read' });
    expect(again.buffer.every((b) => b === 0xc3)).toBe(true);
  });

  it('one range: memfd writes appear in the dma-buf at the range offset, and the other way round', () => {
    using memfd = createSealedMemfd(4 * PAGE_SIZE);
    using buf = dev.create(memfd, { offset: PAGE_SIZE, size: 2 * PAGE_SIZE });
    expect(buf.size).toBe(2 * PAGE_SIZE);
    expect(buf.info().size).toBe(2 * PAGE_SIZE); // the kernel's figure agrees with the one known from the range
    using m = buf.mmap();
    pwrite(memfd.fd, 'from the memfd', PAGE_SIZE + 10);
    expect(buf.withCpuAccess('read', () => m.buffer.toString('utf8', 10, 24))).toBe('from the memfd');
    buf.withCpuAccess('write', () => m.buffer.write('from the dma-buf', PAGE_SIZE));
    expect(pread(memfd.fd, 16, 2 * PAGE_SIZE)).toBe('from the dma-buf');
  });

  it('the default range is the whole memfd from the offset; the dma-buf outlives the memfd', () => {
    const memfd = createSealedMemfd(2 * PAGE_SIZE);
    pwrite(memfd.fd, 'kept', PAGE_SIZE);
    using buf = dev.create(memfd, { offset: PAGE_SIZE });
    memfd.close();
    expect(buf.size).toBe(PAGE_SIZE);
    using m = buf.mmap();
    expect(m.buffer.toString('utf8', 0, 4)).toBe('kept');
  });

  it('a list: ranges of two memfds, concatenated in order, each seeing its memfd writes', () => {
    using a = createSealedMemfd(2 * PAGE_SIZE);
    using b = createSealedMemfd(3 * PAGE_SIZE);
    using buf = dev.createList(
      [
        { memfd: b, offset: 2 * PAGE_SIZE, size: PAGE_SIZE },
        { memfd: a },
        { memfd: b.fd, offset: 0, size: PAGE_SIZE },
      ],
      { name: 'list' },
    );
    expect(buf.size).toBe(4 * PAGE_SIZE);
    expect(buf.info().size).toBe(4 * PAGE_SIZE); // the sum of the ranges, as the kernel made it
    expect(buf.name).toBe('list');
    pwrite(b.fd, 'b2', 2 * PAGE_SIZE);
    pwrite(a.fd, 'a0', 0);
    pwrite(a.fd, 'a1', PAGE_SIZE);
    pwrite(b.fd, 'b0', 0);
    using m = buf.mmap({ access: 'read' });
    const at = (page: number) => m.buffer.toString('utf8', page * PAGE_SIZE, page * PAGE_SIZE + 2);
    buf.withCpuAccess('read', () => expect([0, 1, 2, 3].map(at)).toEqual(['b2', 'a0', 'a1', 'b0']));
  });
});

describe('the kernel rules, by code and by message', () => {
  const rejects = (fn: () => unknown, code: string, message: RegExp) =>
    expect(fn).toThrow(
      expect.objectContaining({
        name: 'KernelError',
        errno: errnoByName[code],
        message: expect.stringMatching(message),
      }),
    );

  it('offset and size must be page-aligned', () => {
    using memfd = createSealedMemfd(2 * PAGE_SIZE);
    rejects(
      () => dev.create(memfd, { offset: 512, size: PAGE_SIZE }),
      'EINVAL',
      /offset 512 is not a multiple of the page size/,
    );
    rejects(
      () => dev.create(memfd, { size: PAGE_SIZE + 1 }),
      'EINVAL',
      /size 4097 is not a multiple of the page size/,
    );
    rejects(() => dev.createList([{ memfd }, { memfd, offset: 1 }]), 'EINVAL', /range 1: offset 1/);
  });

  it('the memfd needs F_SEAL_SHRINK and must not have F_SEAL_WRITE', () => {
    using unsealed = Memfd.create('unsealed', { size: PAGE_SIZE });
    using noSealing = Memfd.create('no-sealing', { size: PAGE_SIZE, allowSealing: false });
    using writeSealed = Memfd.create('write-sealed', { size: PAGE_SIZE, seals: ['shrink', 'write'] });
    rejects(() => dev.create(unsealed), 'EINVAL', /needs F_SEAL_SHRINK/);
    rejects(() => dev.create(noSealing), 'EINVAL', /needs F_SEAL_SHRINK/);
    rejects(() => dev.create(writeSealed), 'EINVAL', /must not carry F_SEAL_WRITE/);
    // The shrink seal alone is enough.
    using justShrink = Memfd.create('shrink', { size: PAGE_SIZE, seals: ['shrink'] });
    dev.create(justShrink).close();
  });

  it('the total size may not exceed size_limit_mb, and the message says the limit this kernel has', () => {
    const mb = Number.parseInt(readFileSync('/sys/module/udmabuf/parameters/size_limit_mb', 'utf8'), 10);
    expect(udmabufLimits().sizeLimit).toBe(mb * 1024 * 1024);
    using big = createSealedMemfd(mb * 1024 * 1024 + PAGE_SIZE); // sparse: the kernel refuses before touching pages
    rejects(() => dev.create(big), 'EINVAL', new RegExp(`size limit of ${mb} MiB .*size_limit_mb`));
    rejects(
      () =>
        dev.createList([
          { memfd: big, size: mb * 1024 * 1024 },
          { memfd: big, size: PAGE_SIZE },
        ]),
      'EINVAL',
      /size limit/,
    );
    dev.create(big, { size: mb * 1024 * 1024 }).close(); // exactly the limit is allowed
  });

  it('a list may hold at most list_limit ranges', () => {
    const limit = udmabufLimits().listLimit!;
    expect(limit).toBe(
      Number.parseInt(readFileSync('/sys/module/udmabuf/parameters/list_limit', 'utf8'), 10),
    );
    using memfd = createSealedMemfd(PAGE_SIZE);
    const ranges = Array.from({ length: limit + 1 }, () => ({ memfd, size: PAGE_SIZE }));
    rejects(() => dev.createList(ranges), 'EINVAL', new RegExp(`at most ${limit} ranges`));
    using full = dev.createList(ranges.slice(0, limit));
    expect(full.size).toBe(limit * PAGE_SIZE);
  });

  it('empty buffers, ranges past the end of the memfd, and fds that are not memfds', () => {
    using memfd = createSealedMemfd(PAGE_SIZE);
    rejects(() => dev.create(memfd, { size: 0 }), 'EINVAL', /greater than 0/);
    rejects(() => dev.createList([]), 'EINVAL', /greater than 0/);
    rejects(
      () => dev.create(memfd, { size: 2 * PAGE_SIZE }),
      'EINVAL',
      /runs past the end of the 4096-byte memfd/,
    );
    using notMemfd = Fd.open('/dev/null', 0);
    rejects(() => dev.create(notMemfd, { size: PAGE_SIZE }), 'EBADFD', /needs a memfd/);
    rejects(
      () =>
        dev.createList([
          { memfd, size: PAGE_SIZE },
          { memfd: notMemfd, size: PAGE_SIZE },
        ]),
      'EBADFD',
      /needs a memfd/,
    );
  });

  it('failures leave no fd behind', () => {
    const before = holdings();
    using memfd = Memfd.create('unsealed', { size: PAGE_SIZE });
    for (let i = 0; i < 100; i++) {
      expect(() => dev.create(memfd)).toThrow();
      expect(() => dev.create(memfd, { offset: 1 })).toThrow();
      expect(() => dev.allocate(PAGE_SIZE, { name: 'x'.repeat(40) })).toThrow(RangeError);
    }
    memfd.close();
    expect(holdings()).toEqual(before);
  });
});

describe('lifecycle', () => {
  it('10,000 create/map/bracket/close cycles leave no fd and no mapping behind', () => {
    using memfd = createSealedMemfd(4 * PAGE_SIZE);
    const before = holdings();
    for (let i = 0; i < 10_000; i++) {
      const buf =
        i % 2 ? dev.create(memfd, { offset: (i % 4) * PAGE_SIZE, size: PAGE_SIZE }) : dev.allocate(PAGE_SIZE);
      const m = buf.mmap();
      buf.withCpuAccess('write', () => {
        m.buffer[0] = i & 0xff;
      });
      if (i % 3 === 0) m.unmap();
      buf.close();
    }
    expect(holdings()).toEqual(before);
  });
});
