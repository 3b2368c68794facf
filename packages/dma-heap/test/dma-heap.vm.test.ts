// dma-heap in the guest kernel: the heaps this kernel offers (system, and the CMA heap the image's CMA area
// creates), allocation, zeroed memory (the ION concern), errors by code, and no fd or mapping left behind.
import { readFileSync } from 'node:fs';
import { KernelError, WrongFdError } from '@zcopy/core';
import { PAGE_SIZE } from '@zcopy/dma-buf';
import { afterAll, describe, expect, it } from 'vitest';
import { firstNonZero, holdings } from '../../dma-buf/test/helpers.js';
import { DmaHeap, listHeaps } from '../src/index.js';

const start = holdings();
const heaps = listHeaps();
// Any heap that is not 'system' is a CMA heap in Linux 6.1; its name comes from the CMA area ('reserved' for
// the default area), so it is discovered, not assumed.
const cmaName = heaps.find((h) => h !== 'system');
const system = DmaHeap.open('system');
const cma = cmaName === undefined ? undefined : DmaHeap.open(cmaName);
afterAll(() => {
  system.close();
  cma?.close();
  expect(holdings()).toEqual(start);
});

const MiB = 1024 * 1024;

describe('heaps', () => {
  it('this kernel offers the system heap and a CMA heap (the image reserves a CMA area)', () => {
    expect(heaps).toContain('system');
    expect(cmaName).toBeDefined();
    expect(heaps).toHaveLength(2);
  });

  it('a heap that does not exist is ENOENT, naming the ones that do', () => {
    expect(() => DmaHeap.open('no-such-heap')).toThrow(
      expect.objectContaining({
        code: 'ENOENT',
        message: expect.stringContaining(`this kernel has: ${heaps.join(', ')}`),
      }),
    );
  });
});

describe('allocate', () => {
  for (const kind of ['system', 'cma'] as const) {
    it(`${kind}: sizes, exporter name and buffer name as fdinfo reports them; write and read back`, () => {
      const heap = kind === 'system' ? system : cma!;
      for (const size of [PAGE_SIZE, 3 * PAGE_SIZE + 1, MiB, 8 * MiB]) {
        using buf = heap.allocate(size, { name: `${kind}-${size}` });
        const rounded = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
        expect(buf.size).toBe(rounded);
        expect(buf.info()).toMatchObject({
          size: rounded,
          exporter: heap.name,
          name: `${kind}-${size}`,
          count: 1,
        });
        using m = buf.mmap();
        buf.withCpuAccess('write', () => {
          m.buffer.fill(0x3c);
          m.buffer.write('end', rounded - 3);
        });
        using r = buf.mmap({ access: 'read' });
        buf.withCpuAccess('read', () => {
          expect(r.buffer[0]).toBe(0x3c);
          expect(r.buffer[rounded >> 1]).toBe(0x3c);
          expect(r.buffer.toString('utf8', rounded - 3)).toBe('end');
        });
      }
    });
  }

  it('0 bytes is EINVAL, with the rule in the message', () => {
    for (const heap of [system, cma!]) {
      let err: unknown;
      try {
        heap.allocate(0);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KernelError);
      expect(err).toMatchObject({ code: 'EINVAL', request: 'DMA_HEAP_IOCTL_ALLOC' });
      expect((err as Error).message).toMatch(/size must be greater than 0/);
    }
  });

  it('more than the CMA area holds is ENOMEM', () => {
    const cmaTotal = Number(/CmaTotal:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
    expect(cmaTotal).toBeGreaterThan(0);
    expect(() => cma!.allocate(cmaTotal + MiB)).toThrow(
      expect.objectContaining({ code: 'ENOMEM', request: 'DMA_HEAP_IOCTL_ALLOC' }),
    );
  });

  it('access modes: a read-only buffer maps only read-only', () => {
    using ro = system.allocate(PAGE_SIZE, { access: 'read' });
    using m = ro.mmap({ access: 'read' });
    expect(m.buffer[0]).toBe(0);
    expect(() => ro.mmap()).toThrow(expect.objectContaining({ code: 'EACCES' }));
    using wo = system.allocate(PAGE_SIZE, { access: 'write' });
    expect(() => wo.mmap({ access: 'read' })).toThrow(expect.objectContaining({ code: 'EACCES' }));
  });
});

describe('security: fresh buffers are zero (no stale data to an unprivileged user)', () => {
  // Fill each buffer with a pattern before freeing it; the next allocations reuse those pages, and must still
  // read back as zeros. The pattern is checked on the way out, so the test cannot pass by never writing.
  const cycle = (heap: DmaHeap, size: number, rounds: number) => {
    for (let i = 0; i < rounds; i++) {
      using buf = heap.allocate(size);
      using m = buf.mmap();
      const bytes = m.buffer;
      buf.withCpuAccess('read', () => {
        const at = firstNonZero(bytes);
        if (at !== -1)
          throw new Error(`${heap.name} ${size}-byte buffer #${i}: byte ${at} is ${bytes[at]}, not 0`);
      });
      const pattern = 0xa5 ^ (i & 0x3f);
      buf.withCpuAccess('write', () => bytes.fill(pattern));
      expect(bytes[size - 1]).toBe(pattern);
    }
  };

  it('system heap: 4 KiB, 64 KiB, 1 MiB and 8 MiB buffers over many pattern-filled cycles', () => {
    cycle(system, PAGE_SIZE, 500);
    cycle(system, 64 * 1024, 200);
    cycle(system, MiB, 100);
    cycle(system, 8 * MiB, 20);
  });

  it('CMA heap: 4 KiB, 1 MiB and 8 MiB buffers over many pattern-filled cycles', () => {
    cycle(cma!, PAGE_SIZE, 300);
    cycle(cma!, MiB, 100);
    cycle(cma!, 8 * MiB, 20);
  });

  it('many buffers held at once, then freed and reallocated, are all zero', () => {
    const held = Array.from({ length: 64 }, () => system.allocate(64 * 1024));
    for (const buf of held) {
      using m = buf.mmap();
      m.buffer.fill(0xff);
    }
    for (const buf of held) buf.close();
    cycle(system, 64 * 1024, 64);
  });
});

describe('lifecycle', () => {
  it('10,000 allocate/map/bracket/close cycles leave no fd and no mapping behind', () => {
    const before = holdings();
    for (let i = 0; i < 10_000; i++) {
      const buf = (i % 10 === 0 ? cma! : system).allocate(PAGE_SIZE);
      const m = buf.mmap();
      buf.withCpuAccess('write', () => {
        m.buffer[0] = i & 0xff;
      });
      if (i % 2) m.unmap();
      buf.close();
    }
    expect(holdings()).toEqual(before);
  });
});

describe('adopt, borrow and dup: the fd must be a dma-heap', () => {
  it('a heap fd is taken with its name from sysfs; a dma-buf or a udmabuf device is refused, naming it', () => {
    using d = DmaHeap.dup(system);
    expect(d.name).toBe('system');
    using b = DmaHeap.borrow(system);
    expect(b.owned).toBe(false);
    using buf = b.allocate(PAGE_SIZE);
    expect(buf.size).toBe(PAGE_SIZE);
    const raw = DmaHeap.dup(system).detachFd();
    using adopted = DmaHeap.adopt(raw);
    expect(adopted.name).toBe('system');
    expect(() => DmaHeap.adopt(buf.fd)).toThrow(WrongFdError);
    expect(() => DmaHeap.borrow(buf)).toThrow(/is \/dmabuf:.*, not a dma-heap$/);
    const before = holdings();
    expect(() => DmaHeap.open('udmabuf', '/dev')).toThrow(
      /is \/dev\/udmabuf \(char 10:\d+, misc\/udmabuf\), not a dma-heap$/,
    );
    expect(holdings()).toEqual(before);
  });
});
