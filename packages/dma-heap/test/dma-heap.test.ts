// Host: argument rules only (this host has no dma-heaps). /dev/null, opened as a "heap" named 'null' in /dev,
// shows which calls reach the kernel (ENOTTY there) and which are refused before it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Fd, openFdCount, WrongFdError } from '@zcopy/core';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DmaHeap, listHeaps } from '../src/index.js';

const fakeDir = mkdtempSync(join(tmpdir(), 'dma-heap-'));
for (const name of ['system', 'reserved']) writeFileSync(join(fakeDir, name), '');
afterAll(() => rmSync(fakeDir, { recursive: true, force: true }));

let fdsBefore: number;
beforeEach(() => {
  fdsBefore = openFdCount();
});
afterEach(() => {
  expect(openFdCount()).toBe(fdsBefore);
});

describe('listHeaps', () => {
  it('lists the heap nodes sorted, and nothing where there is no dma_heap directory', () => {
    expect(listHeaps(fakeDir)).toEqual(['reserved', 'system']);
    expect(listHeaps('/nonexistent/dma_heap')).toEqual([]);
  });
});

describe('DmaHeap.open', () => {
  it('refuses names that are not a file in the heap directory', () => {
    expect(() => DmaHeap.open('')).toThrow(RangeError);
    expect(() => DmaHeap.open('../null')).toThrow(RangeError);
    expect(() => DmaHeap.open('..')).toThrow(RangeError);
    expect(() => DmaHeap.open(7 as unknown as string)).toThrow(TypeError);
  });

  it('a missing heap says which heaps exist', () => {
    expect(() => DmaHeap.open('linux,cma', fakeDir)).toThrow(
      /no heap named 'linux,cma'; this kernel has: reserved, system/,
    );
    expect(() => DmaHeap.open('system', '/nonexistent/dma_heap')).toThrow(
      expect.objectContaining({ code: 'ENOENT', message: expect.stringMatching(/offers no dma-heaps/) }),
    );
  });
});

// open() refuses /dev/null (WrongFdError): the stand-in is made past the check, as a subclass can.
class StandIn extends DmaHeap {
  static devNull(): DmaHeap {
    return new StandIn(Fd.open('/dev/null', 0).detachFd(), 'null');
  }
}

describe('DmaHeap.allocate', () => {
  it('open, adopt and borrow of a device that is not a heap: WrongFdError naming it, nothing left open', () => {
    const before = openFdCount();
    expect(() => DmaHeap.open('null', '/dev')).toThrow(WrongFdError);
    expect(() => DmaHeap.open('null', '/dev')).toThrow(
      /is \/dev\/null \(char 1:3, mem\/null\), not a dma-heap/,
    );
    expect(openFdCount()).toBe(before);
    using f = Fd.open('/dev/null', 0);
    expect(() => DmaHeap.adopt(f.fd)).toThrow(WrongFdError);
    expect(() => DmaHeap.borrow(f)).toThrow(WrongFdError);
    expect(() => DmaHeap.dup(f)).toThrow(WrongFdError);
  });

  it('checks size, access and name before the ioctl', () => {
    using heap = StandIn.devNull();
    expect(heap.name).toBe('null');
    expect(() => heap.allocate(-4096)).toThrow(RangeError);
    expect(() => heap.allocate(1.5)).toThrow(TypeError);
    expect(() => heap.allocate(2 ** 60)).toThrow(RangeError);
    expect(() => heap.allocate(4096, { access: 'rw' as 'read' })).toThrow(TypeError);
    expect(() => heap.allocate(4096, { name: 'n'.repeat(32) })).toThrow(RangeError);
    expect(() => heap.allocate(4096, null as unknown as object)).toThrow(TypeError);
    expect(() => heap.allocate(4096, { access: 'read', name: 'ok' })).toThrow(
      expect.objectContaining({ code: 'ENOTTY', request: 'DMA_HEAP_IOCTL_ALLOC' }),
    );
  });
});
