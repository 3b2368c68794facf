// DmaBuf against real exporters (system heap, CMA heap, udmabuf) in the guest kernel.
import { constants, readFileSync } from 'node:fs';
import { KernelError, liveMappings } from '@zcopy/core';
import { afterAll, describe, expect, it } from 'vitest';
import { DMA_BUF_NAME_MAX, DmaBuf, PAGE_SIZE } from '../src/index.js';
import { DmaHeap, UdmabufDevice } from './exporters.js';
import { dmaBufMapCount, holdings } from './helpers.js';

const O_ACCMODE = 3; // not in Node's fs.constants

const start = holdings();
const system = DmaHeap.open('system');
const udmabuf = UdmabufDevice.open();
afterAll(() => {
  system.close();
  udmabuf.close();
  expect(holdings()).toEqual(start);
});

describe('adopt, borrow, dup', () => {
  it('recognises dma-bufs and nothing else', () => {
    using buf = system.allocate(PAGE_SIZE);
    expect(DmaBuf.isDmaBuf(buf)).toBe(true);
    expect(DmaBuf.isDmaBuf(system)).toBe(false); // the heap device node is not a dma-buf
    expect(() => DmaBuf.adopt(system.fd)).toThrow(TypeError);
  });

  it('adopt owns the fd: close() closes it', () => {
    const raw = system.allocate(PAGE_SIZE).detachFd();
    const buf = DmaBuf.adopt(raw);
    expect(buf.owned).toBe(true);
    expect(buf.size).toBe(PAGE_SIZE);
    buf.close();
    expect(() => DmaBuf.isDmaBuf(raw)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('borrow never closes the fd, but drops its own mappings at close', () => {
    using owner = system.allocate(2 * PAGE_SIZE);
    const borrowed = DmaBuf.borrow(owner.fd);
    const m = borrowed.mmap();
    m.buffer[0] = 0x5a;
    borrowed.close();
    expect(m.mapped).toBe(false);
    using again = owner.mmap();
    expect(again.buffer[0]).toBe(0x5a);
    expect(owner.info().exporter).toBe('system');
  });

  it('dup is the same buffer on another fd: same inode, shared name and contents', () => {
    using a = system.allocate(PAGE_SIZE);
    using b = a.dup();
    expect(b.fd).not.toBe(a.fd);
    expect(b.info().inode).toBe(a.info().inode);
    a.name = 'shared';
    expect(b.name).toBe('shared');
    using ma = a.mmap();
    using mb = b.mmap();
    ma.buffer.write('via a');
    expect(mb.buffer.toString('utf8', 0, 5)).toBe('via a');
    using other = system.allocate(PAGE_SIZE);
    expect(other.info().inode).not.toBe(a.info().inode);
  });
});

describe('size, name and fdinfo as the kernel reports them', () => {
  it('size is lseek(SEEK_END) and agrees with fdinfo, rounded up to pages by the heap', () => {
    for (const [asked, pages] of [
      [1, 1],
      [PAGE_SIZE, 1],
      [PAGE_SIZE + 1, 2],
      [1 << 20, (1 << 20) / PAGE_SIZE],
    ] as const) {
      using buf = system.allocate(asked);
      expect(buf.size).toBe(pages * PAGE_SIZE); // the heap's rule (PAGE_ALIGN), known without a syscall
      expect(buf.info().size).toBe(pages * PAGE_SIZE);
      using borrowed = DmaBuf.borrow(buf.fd); // knows nothing: asks lseek(SEEK_END)
      expect(borrowed.size).toBe(pages * PAGE_SIZE);
    }
  });

  it('names: unset is undefined; set, renamed and read back from fdinfo; 31 bytes fit, 32 do not', () => {
    using buf = system.allocate(PAGE_SIZE);
    expect(buf.name).toBeUndefined();
    buf.name = 'camera: frame 1';
    expect(buf.name).toBe('camera: frame 1');
    buf.name = 'ü'.repeat(15); // 30 bytes
    expect(buf.info().name).toBe('ü'.repeat(15));
    const longest = 'n'.repeat(DMA_BUF_NAME_MAX);
    buf.name = longest;
    expect(buf.name).toBe(longest);
    expect(() => {
      buf.name = `${longest}x`;
    }).toThrow(RangeError);
    expect(buf.name).toBe(longest);
    buf.name = '';
    expect(buf.name).toBe('');
  });

  it('the name shows where the kernel shows dma-bufs: /proc/self/maps', () => {
    using buf = system.allocate(PAGE_SIZE, { name: 'mapped-name' });
    using m = buf.mmap();
    const maps = readFileSync('/proc/self/maps', 'utf8');
    expect(maps).toContain('/dmabuf:mapped-name');
    expect(m.length).toBe(PAGE_SIZE);
  });

  it('info: exporter, flags and the reference count (fds and mappings)', () => {
    using buf = system.allocate(PAGE_SIZE);
    const info = buf.info();
    expect(info.exporter).toBe('system');
    expect(info.flags & O_ACCMODE).toBe(constants.O_RDWR);
    expect(info.flags & 0o2000000).toBe(0o2000000); // O_CLOEXEC
    expect(info.count).toBe(1);
    const m = buf.mmap();
    expect(buf.info().count).toBe(2);
    const d = buf.dup();
    expect(buf.info().count).toBe(3);
    d.close();
    m.unmap();
    expect(buf.info().count).toBe(1);

    using u = udmabuf.allocate(PAGE_SIZE);
    expect(u.info().exporter).toBe('udmabuf');
  });
});

describe('mmap', () => {
  it('writes through one mapping are read through another, at page offsets', () => {
    using buf = system.allocate(4 * PAGE_SIZE);
    using whole = buf.mmap();
    using tail = buf.mmap({ offset: 2 * PAGE_SIZE, length: PAGE_SIZE, access: 'read' });
    whole.buffer.write('third page', 2 * PAGE_SIZE);
    expect(tail.buffer.toString('utf8', 0, 10)).toBe('third page');
    expect(tail.length).toBe(PAGE_SIZE);
  });

  it('close() unmaps every mapping it made and detaches their views', () => {
    const before = { core: liveMappings(), maps: dmaBufMapCount() };
    const buf = system.allocate(2 * PAGE_SIZE);
    const views = [
      buf.mmap().buffer,
      buf.mmap({ offset: PAGE_SIZE }).buffer,
      buf.mmap({ access: 'read' }).buffer,
    ];
    expect(dmaBufMapCount()).toBe(before.maps + 3);
    expect(liveMappings()).toBe(before.core + 3);
    buf.close();
    expect(views.map((v) => v.length)).toEqual([0, 0, 0]);
    expect(liveMappings()).toBe(before.core);
    expect(dmaBufMapCount()).toBe(before.maps);
  });

  it('a read-only dma-buf maps read-only, and refuses a writable mapping with EACCES', () => {
    using ro = system.allocate(PAGE_SIZE, { access: 'read' });
    expect(ro.info().flags & O_ACCMODE).toBe(constants.O_RDONLY);
    using m = ro.mmap({ access: 'read' });
    expect(m.buffer[0]).toBe(0);
    expect(() => ro.mmap()).toThrow(
      expect.objectContaining({ code: 'EACCES', message: expect.stringMatching(/read-only fd/) }),
    );
  });
});

describe('CPU access brackets', () => {
  it('every exporter accepts start/end for each access mode', () => {
    using heapBuf = system.allocate(PAGE_SIZE);
    using udma = udmabuf.allocate(PAGE_SIZE);
    for (const buf of [heapBuf, udma])
      for (const access of ['read', 'write', 'readwrite'] as const) {
        buf.syncStart(access);
        buf.syncEnd(access);
      }
  });

  it('udmabuf refuses an end before its first start, by code and with the rule in the message', () => {
    using buf = udmabuf.allocate(PAGE_SIZE);
    let err: unknown;
    try {
      buf.syncEnd('write');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelError);
    expect(err).toMatchObject({ code: 'EINVAL', request: 'DMA_BUF_IOCTL_SYNC' });
    expect((err as Error).message).toMatch(/end without a matching start/);
  });

  it('withCpuAccess starts before it ends: on a fresh udmabuf an unstarted end would fail', () => {
    using buf = udmabuf.allocate(PAGE_SIZE);
    using map = buf.mmap();
    const out = buf.withCpuAccess('write', () => {
      map.buffer.write('bracketed');
      return 'ok';
    });
    expect(out).toBe('ok');
    expect(buf.withCpuAccess('read', () => map.buffer.toString('utf8', 0, 9))).toBe('bracketed');
  });

  it('withCpuAccess ends after a throw and after a rejected promise, and stays usable', async () => {
    using buf = system.allocate(PAGE_SIZE);
    expect(() =>
      buf.withCpuAccess('readwrite', () => {
        throw new Error('fn failed');
      }),
    ).toThrow('fn failed');
    await expect(
      buf.withCpuAccess('write', async () => {
        await new Promise((r) => setTimeout(r, 1));
        throw new Error('async fn failed');
      }),
    ).rejects.toThrow('async fn failed');
    await expect(buf.withCpuAccess('read', async () => 7)).resolves.toBe(7);
  });

  it('beginCpuAccess with `using`, and close() ends a bracket left open', () => {
    const buf = udmabuf.allocate(PAGE_SIZE);
    {
      using access = buf.beginCpuAccess('write');
      expect(access.active).toBe(true);
    }
    const open = buf.beginCpuAccess('read');
    buf.close();
    expect(open.active).toBe(false);
  });
});
