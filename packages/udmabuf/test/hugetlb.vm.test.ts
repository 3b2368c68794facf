// udmabuf over huge pages (hugetlb memfds, the guest reserves 2 MiB pages at boot), the device refused when it is
// the wrong file, and a udmabuf passed to another process that maps it there.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Memfd, receiveFds, WrongFdError } from '@zcopy/core';
import { DmaBuf, PAGE_SIZE } from '@zcopy/dma-buf';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type FdPeer, spawnFdPeer } from '../../core/test/peer.js';
import { holdings } from '../../dma-buf/test/helpers.js';
import { createSealedMemfd, UdmabufDevice } from '../src/index.js';

const HUGE = 2 * 1024 * 1024;
const start = holdings();
const dev = UdmabufDevice.open();
afterAll(() => {
  dev.close();
  expect(holdings()).toEqual(start);
});

let peer: FdPeer | undefined;
afterEach(async () => {
  await peer?.stop();
  peer = undefined;
});

function freeHugePages(): number {
  return Number(/HugePages_Free:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
}

describe('udmabuf over huge pages', () => {
  it('a hugetlb memfd: any page-aligned range of its huge pages, even one across two of them', () => {
    const free = freeHugePages();
    expect(free).toBeGreaterThanOrEqual(2);
    using memfd = createSealedMemfd(2 * HUGE, 'huge', { hugetlb: true });
    expect(memfd.pageSize).toBe(HUGE);
    expect(memfd.allocatedBytes).toBe(2 * HUGE);
    expect(freeHugePages()).toBe(free - 2);
    using map = memfd.map();
    map.buffer.write('first page of huge page 0', 0);
    map.buffer.write('last 4 KiB of huge page 0', HUGE - PAGE_SIZE);
    map.buffer.write('first 4 KiB of huge page 1', HUGE);
    // Offset and size need only be multiples of the CPU page size, not of the huge page (Linux 6.1).
    using whole = dev.create(memfd);
    expect(whole.size).toBe(2 * HUGE);
    using across = dev.create(memfd, { offset: HUGE - PAGE_SIZE, size: 2 * PAGE_SIZE });
    expect(across.size).toBe(2 * PAGE_SIZE);
    using view = across.mmap({ access: 'read' });
    across.withCpuAccess('read', () => {
      expect(view.buffer.toString('utf8', 0, 25)).toBe('last 4 KiB of huge page 0');
      expect(view.buffer.toString('utf8', PAGE_SIZE, PAGE_SIZE + 26)).toBe('first 4 KiB of huge page 1');
    });
    using w = whole.mmap();
    whole.withCpuAccess('write', () => w.buffer.write('through the dma-buf', HUGE + 100));
    expect(map.buffer.toString('utf8', HUGE + 100, HUGE + 119)).toBe('through the dma-buf');
    using list = dev.createList([
      { memfd, offset: HUGE, size: PAGE_SIZE },
      { memfd, offset: 0, size: PAGE_SIZE },
    ]);
    using lv = list.mmap({ access: 'read' });
    expect(lv.buffer.toString('utf8', 0, 26)).toBe('first 4 KiB of huge page 1');
    expect(lv.buffer.toString('utf8', PAGE_SIZE, PAGE_SIZE + 25)).toBe('first page of huge page 0');
  });

  it('mapped again and again, huge subpages leave the kernel clean: a pfn mapping (images patch 0004)', () => {
    // Linux 6.1's udmabuf faults a huge page's subpage in as if it were a small file page; the unmap then
    // reports "BUG: Bad page map" and the huge page's counts stay corrupted until a later reuse crashes the
    // kernel in free_huge_page (seen here from the second round on). The images' kernel maps raw pfns.
    const bugs = () => execFileSync('dmesg', { encoding: 'utf8' }).match(/Bad page (map|state).*/g) ?? [];
    expect(bugs()).toEqual([]);
    for (let round = 0; round < 4; round++) {
      using memfd = createSealedMemfd(2 * HUGE, `round${round}`, { hugetlb: true });
      using map = memfd.map();
      map.buffer.write(`tail ${round}`, HUGE - PAGE_SIZE);
      map.buffer.write(`head ${round}`, HUGE);
      using buf = dev.create(memfd, { offset: HUGE - PAGE_SIZE, size: 2 * PAGE_SIZE });
      buf.name = `huge-${round}`;
      using view = buf.mmap({ access: 'read' });
      expect(view.buffer.toString('utf8', 0, 6)).toBe(`tail ${round}`);
      expect(view.buffer.toString('utf8', PAGE_SIZE, PAGE_SIZE + 6)).toBe(`head ${round}`);
      const smaps = readFileSync('/proc/self/smaps', 'utf8');
      const entry = smaps.slice(smaps.indexOf(`/dmabuf:huge-${round}`));
      expect(/^VmFlags:(.*)$/m.exec(entry)?.[1]?.split(' ')).toContain('pf');
    }
    expect(bugs()).toEqual([]);
  });

  it("huge pages not yet allocated: the kernel's EINVAL, with the rule (allocate them first)", () => {
    using memfd = Memfd.create('lazy', { hugetlb: true, size: HUGE, seals: ['shrink', 'seal'] });
    expect(memfd.allocatedBytes).toBe(0);
    let err: unknown;
    try {
      dev.create(memfd, { size: PAGE_SIZE });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ name: 'KernelError', code: 'EINVAL', request: 'UDMABUF_CREATE' });
    expect((err as Error).message).toContain("takes a hugetlb memfd's huge pages only once they exist");
    memfd.allocate();
    using buf = dev.create(memfd, { size: PAGE_SIZE });
    expect(buf.size).toBe(PAGE_SIZE);
  });

  it('the same rules as shmem otherwise: a page-unaligned offset, a missing seal', () => {
    using memfd = createSealedMemfd(HUGE, 'rules', { hugetlb: true });
    expect(() => dev.create(memfd, { offset: 512, size: PAGE_SIZE })).toThrow(
      expect.objectContaining({
        code: 'EINVAL',
        message: expect.stringContaining('not a multiple of the page size'),
      }),
    );
    using unsealed = Memfd.create('unsealed', { hugetlb: true, size: HUGE });
    unsealed.allocate();
    expect(() => dev.create(unsealed)).toThrow(
      expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('F_SEAL_SHRINK') }),
    );
  });

  it('a hugetlb size that is not a multiple of the huge page is refused when the memfd is sized', () => {
    expect(() => createSealedMemfd(HUGE + PAGE_SIZE, 'odd', { hugetlb: true })).toThrow(
      expect.objectContaining({ name: 'KernelError', code: 'EINVAL', syscall: 'ftruncate' }),
    );
  });
});

describe('the device itself', () => {
  it('open of a path that is not udmabuf: WrongFdError naming it, nothing left open', () => {
    const before = holdings();
    expect(() => UdmabufDevice.open('/dev/null')).toThrow(WrongFdError);
    expect(() => UdmabufDevice.open('/dev/zero')).toThrow(
      /is \/dev\/zero \(char 1:5, mem\/zero\), not the udmabuf device/,
    );
    expect(holdings()).toEqual(before);
  });

  it('adopt, borrow and dup of the real device; a dma-buf given for it is refused', () => {
    using d = UdmabufDevice.dup(dev);
    expect(d.fd).not.toBe(dev.fd);
    using b = UdmabufDevice.borrow(dev);
    using buf = b.allocate(PAGE_SIZE);
    expect(buf.size).toBe(PAGE_SIZE);
    expect(() => UdmabufDevice.adopt(buf.fd)).toThrow(/is \/dmabuf:.*not the udmabuf device/);
    const raw = UdmabufDevice.dup(dev).detachFd();
    using adopted = UdmabufDevice.adopt(raw);
    using ab = adopted.allocate(PAGE_SIZE * 2);
    expect(ab.size).toBe(PAGE_SIZE * 2);
  });
});

describe('a udmabuf in another process', () => {
  it('sent over a unix socket, the child adopts it as a DmaBuf, maps it and writes; the memfd sees it', async () => {
    peer = spawnFdPeer();
    using memfd = createSealedMemfd(4 * PAGE_SIZE, 'to-the-child');
    using buf = dev.create(memfd, { name: 'shared-frame' });
    using mine = memfd.map();
    mine.buffer.write('parent wrote this', PAGE_SIZE);
    const answer = peer.run(async (ctx) => {
      const { DmaBuf } = await ctx.load('dma-buf');
      const { fds } = await ctx.socket().receiveFds({ as: [DmaBuf], timeoutMs: 10_000 });
      const buf = fds[0] as DmaBuf;
      const map = buf.mmap();
      let seen = '';
      buf.withCpuAccess('readwrite', () => {
        seen = map.buffer.toString('utf8', 4096, 4096 + 17);
        map.buffer.write('child wrote this', 3 * 4096);
      });
      const out = { seen, size: buf.size, name: buf.name, exporter: buf.info().exporter };
      buf.close();
      return out;
    });
    await peer.socket.sendFds([buf]);
    expect(await answer).toEqual({
      seen: 'parent wrote this',
      size: 4 * PAGE_SIZE,
      name: 'shared-frame',
      exporter: 'udmabuf',
    });
    expect(mine.buffer.toString('utf8', 3 * PAGE_SIZE, 3 * PAGE_SIZE + 16)).toBe('child wrote this');
  });

  it('the child sends a udmabuf it made; the parent adopts it as a DmaBuf', async () => {
    peer = spawnFdPeer();
    const sent = peer.run(async (ctx) => {
      const { UdmabufDevice } = await ctx.load('udmabuf');
      const dev = UdmabufDevice.open();
      const buf = dev.allocate(2 * 4096, { name: 'from-the-child' });
      const map = buf.mmap();
      buf.withCpuAccess('write', () => map.buffer.fill(0x7e));
      await ctx.socket().sendFds([buf]);
      buf.close();
      dev.close();
      return 'sent';
    });
    const { fds } = await receiveFds(peer.socket, { as: [DmaBuf], timeoutMs: 10_000 });
    using buf = fds[0];
    expect(await sent).toBe('sent');
    expect(buf.size).toBe(2 * PAGE_SIZE);
    expect(buf.name).toBe('from-the-child');
    using m = buf.mmap({ access: 'read' });
    expect(m.buffer.every((b) => b === 0x7e)).toBe(true);
  });
});
