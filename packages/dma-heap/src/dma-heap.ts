// /dev/dma_heap/<name>: the upstream successor of Android's ION. Each heap node hands out dma-bufs of its kind
// of memory ('system': any pages; a CMA heap: physically contiguous pages from the CMA area).
import { constants as fsConstants, readdirSync } from 'node:fs';
import { charDeviceOf, type FdLike, FdObject, fdOf } from '@zcopy/core';
import { adoptOrClose, checkCharDevice, native, registerHints, withErrorContext } from '@zcopy/core/internal';
import { checkDmaBufName, type DmaBuf, PAGE_SIZE } from '@zcopy/dma-buf';
import { ownNewDmaBuf } from '@zcopy/dma-buf/internal';
import { binding } from './native.js';

export const DMA_HEAP_DIR = '/dev/dma_heap';

registerHints('DMA_HEAP_IOCTL_ALLOC', {
  EINVAL: ({ context }) =>
    context?.size === 0
      ? 'the size must be greater than 0'
      : 'the heap refused the request: the size must be greater than 0, heap flags 0, fd flags O_CLOEXEC and an ' +
        'access mode',
  ENOMEM: 'the heap has no memory for this size (a CMA heap can only give out what its reserved area holds)',
});
// A missing heap node: say which heaps there are (open() of a heap runs with { heapDir } as its context).
registerHints('open', {
  ENOENT: ({ context, path }) => {
    if (typeof context?.heapDir !== 'string') return undefined;
    const heaps = listHeaps(context.heapDir);
    return heaps.length
      ? `no heap named '${path?.slice(context.heapDir.length + 1)}'; this kernel has: ${heaps.join(', ')}`
      : 'this kernel offers no dma-heaps (CONFIG_DMABUF_HEAPS with the system or CMA heap)';
  },
});

/** How the new dma-buf fd is opened: what its mappings may do. */
export type HeapAccess = 'readwrite' | 'read' | 'write';

const accessModes: Record<HeapAccess, number> = {
  readwrite: fsConstants.O_RDWR,
  read: fsConstants.O_RDONLY,
  write: fsConstants.O_WRONLY,
};

export interface HeapAllocateOptions {
  /** The fd's access mode (default 'readwrite'); a 'read' buffer can only be mapped read-only. */
  access?: HeapAccess;
  /** DMA_BUF_SET_NAME for the new buffer (at most 31 bytes, checked before allocating). */
  name?: string;
}

/** Names of the heaps this kernel offers (entries of /dev/dma_heap), sorted; [] without dma-heap support. */
export function listHeaps(dir = DMA_HEAP_DIR): string[] {
  try {
    return readdirSync(dir).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

function checkHeapName(name: unknown): string {
  if (typeof name !== 'string') throw new TypeError(`heap name must be a string, got ${typeof name}`);
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0'))
    throw new RangeError(`'${name}' is not a heap name (a file name in ${DMA_HEAP_DIR})`);
  return name;
}

function checkSize(size: unknown): number {
  if (typeof size !== 'number' || !Number.isInteger(size))
    throw new TypeError(`size must be an integer, got ${String(size)}`);
  if (size < 0 || !Number.isSafeInteger(size))
    throw new RangeError(`size must be a non-negative safe integer, got ${size}`);
  return size;
}

// A dma-heap is a char device of the dma_heap class; its sysfs name is the heap's name.
function heapNameOf(fd: number, fallback?: string): string {
  checkCharDevice(fd, 'a dma-heap', 'dma_heap');
  return charDeviceOf(fd)?.name || fallback || 'unknown';
}

export class DmaHeap extends FdObject {
  /** The heap's name, e.g. 'system'. */
  readonly name: string;

  protected constructor(fd: number, name: string, owned = true) {
    super(fd, { owned });
    this.name = name;
  }

  /**
   * Opens /dev/dma_heap/<name>. A missing heap is a KernelError ENOENT that lists the heaps there are; a path
   * that is not a dma-heap (another dir's file) is a WrongFdError naming what it is, closed again.
   */
  static open(name: string, dir = DMA_HEAP_DIR): DmaHeap {
    checkHeapName(name);
    const path = `${dir}/${name}`;
    const fd = withErrorContext({ heapDir: dir }, () => native.open(path, fsConstants.O_RDONLY));
    return adoptOrClose(fd, (n) => new DmaHeap(n, heapNameOf(n, name)));
  }

  /** Take ownership of a dma-heap fd (inherited, received); WrongFdError, the fd left alone, if it is not one. */
  static adopt(fd: number): DmaHeap {
    const n = fdOf(fd);
    const name = heapNameOf(n);
    return new DmaHeap(native.adopt(n), name);
  }

  /** Use a dma-heap fd someone else owns and will close. */
  static borrow(target: FdLike): DmaHeap {
    const n = fdOf(target);
    return new DmaHeap(n, heapNameOf(n), false);
  }

  /** An owned duplicate of a dma-heap fd. */
  static dup(target: FdLike): DmaHeap {
    const n = fdOf(target);
    const name = heapNameOf(n);
    return adoptOrClose(native.dup(n), (d) => new DmaHeap(d, name));
  }

  /**
   * A new dma-buf of at least `size` bytes (the heap rounds up to whole pages; `DmaBuf.size` says how many).
   * Its contents are zero: heaps clear memory before handing it out.
   */
  allocate(size: number, options: HeapAllocateOptions = {}): DmaBuf {
    checkSize(size);
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const access = options.access ?? 'readwrite';
    const mode = Object.hasOwn(accessModes, access) ? accessModes[access] : undefined;
    if (mode === undefined)
      throw new TypeError(`access must be 'readwrite', 'read' or 'write', got ${String(access)}`);
    const name = options.name === undefined ? undefined : checkDmaBufName(options.name);
    const fd = withErrorContext({ size }, () => binding.alloc(this.fd, size, mode));
    // Every heap hands out PAGE_ALIGN(size) bytes (dma_heap_buffer_alloc): the size needs no lseek.
    const buf = ownNewDmaBuf(fd, Math.ceil(size / PAGE_SIZE) * PAGE_SIZE);
    if (name !== undefined) {
      try {
        buf.name = name;
      } catch (e) {
        buf.close();
        throw e;
      }
    }
    return buf;
  }
}
