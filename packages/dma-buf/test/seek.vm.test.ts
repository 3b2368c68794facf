// VM: lseek on dma-bufs as the kernel allows it (offset 0 from SEEK_SET or SEEK_END only) from every exporter the
// guest has, the refusals as typed errors, and the fd-kind checks of adopt/borrow/dup against real fds.
import { KernelError, WrongFdError } from '@zcopy/core';
import { afterAll, describe, expect, it } from 'vitest';
import { DmaBuf, PAGE_SIZE, type SeekWhence } from '../src/index.js';
import { DmaHeap, UdmabufDevice } from './exporters.js';
import { holdings } from './helpers.js';

const start = holdings();
const system = DmaHeap.open('system');
const udmabuf = UdmabufDevice.open();
afterAll(() => {
  system.close();
  udmabuf.close();
  expect(holdings()).toEqual(start);
});

const exporters: [string, () => ReturnType<DmaHeap['allocate']>][] = [
  ['system heap', () => system.allocate(3 * PAGE_SIZE)],
  ['udmabuf', () => udmabuf.allocate(3 * PAGE_SIZE)],
];

describe.each(exporters)('seek on a %s dma-buf', (_, make) => {
  it('SEEK_END 0 is the size, SEEK_SET 0 is 0; sizeOf tells the size of any dma-buf fd', () => {
    using buf = make();
    expect(buf.seek(0, 'end')).toBe(3 * PAGE_SIZE);
    expect(buf.seek(0, 'set')).toBe(0);
    expect(DmaBuf.sizeOf(buf)).toBe(3 * PAGE_SIZE);
    expect(DmaBuf.sizeOf(buf.fd)).toBe(buf.size);
  });

  it("every other seek is the kernel's EINVAL, a KernelError that says the rule; the position is unchanged", () => {
    using buf = make();
    buf.seek(0, 'end');
    const refused: [number, SeekWhence][] = [
      [1, 'set'],
      [PAGE_SIZE, 'set'],
      [0, 'cur'],
      [1, 'cur'],
      [-1, 'end'],
      [1, 'end'],
    ];
    for (const [offset, whence] of refused) {
      let err: unknown;
      try {
        buf.seek(offset, whence);
      } catch (e) {
        err = e;
      }
      expect(err, `${offset} ${whence}`).toBeInstanceOf(KernelError);
      expect(err).toMatchObject({ code: 'EINVAL', errno: 22, syscall: 'lseek' });
      expect((err as Error).message).toContain('seeks only to offset 0 from SEEK_SET or SEEK_END');
    }
    // Still at the end: a refused seek moved nothing (SEEK_SET 0 then reports 0, SEEK_END the size).
    expect(buf.seek(0, 'end')).toBe(3 * PAGE_SIZE);
  });
});

describe('adopt, borrow and dup check the fd at once', () => {
  it("a dma-heap device, a memfd behind a udmabuf, /dev/null: WrongFdError naming each; the fds stay the caller's", () => {
    const before = holdings();
    expect(() => DmaBuf.adopt(system.fd)).toThrow(WrongFdError);
    expect(() => DmaBuf.borrow(system.fd)).toThrow(
      /is \/dev\/dma_heap\/system \(char \d+:\d+, dma_heap\/system\), not a dma-buf/,
    );
    expect(() => DmaBuf.dup(udmabuf)).toThrow(
      /is \/dev\/udmabuf \(char 10:\d+, misc\/udmabuf\), not a dma-buf/,
    );
    expect(holdings()).toEqual(before);
    expect(system.name).toBe('system'); // still open
  });

  it('static dup of a dma-buf fd: an owned fd of the same buffer, which outlives the original', () => {
    const buf = system.allocate(PAGE_SIZE);
    const d = DmaBuf.dup(buf.fd);
    expect(d.fd).not.toBe(buf.fd);
    expect(d.owned).toBe(true);
    const m = buf.mmap();
    buf.withCpuAccess('write', () => m.buffer.write('same buffer'));
    buf.close();
    using view = d.mmap({ access: 'read' });
    expect(view.buffer.toString('utf8', 0, 11)).toBe('same buffer');
    expect(d.info().exporter).toBe('system');
    d.close();
  });
});
