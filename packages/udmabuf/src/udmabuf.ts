// /dev/udmabuf: wraps pages of sealed memfds into a dma-buf, without copying them. The dma-buf holds its own
// references to the pages, so the memfd may be closed afterwards; writes through either side are seen by both.
import { constants as fsConstants, fstatSync } from 'node:fs';
import { type FdLike, FdObject, fdOf, type HugePageSize, Memfd } from '@zcopy/core';
import {
  adoptOrClose,
  checkCharDevice,
  type HintInput,
  native,
  registerHints,
  withErrorContext,
} from '@zcopy/core/internal';
import { checkDmaBufName, type DmaBuf } from '@zcopy/dma-buf';
import { ownNewDmaBuf } from '@zcopy/dma-buf/internal';
import { explainEinval, type ResolvedRange } from './diagnose.js';
import { binding } from './native.js';

export const UDMABUF_DEVICE = '/dev/udmabuf';

// EBADFD (77) is missing from libuv's errno table, so core names it 'E77' for now: the hint says the name.
const ebadfd = 'EBADFD: each range needs a memfd (a shmem or hugetlbfs file), this fd is something else';
// EINVAL: the rule the ranges broke, worked out from the ranges themselves (the ioctl runs with them as context).
const einval = ({ context }: HintInput) =>
  Array.isArray(context?.udmabufRanges) ? explainEinval(context.udmabufRanges as ResolvedRange[]) : undefined;
const createHints = { EBADFD: ebadfd, E77: ebadfd, EINVAL: einval };
for (const request of ['UDMABUF_CREATE', 'UDMABUF_CREATE_LIST']) registerHints(request, createHints);

export interface UdmabufRange {
  /** A memfd created with sealing allowed, sealed with F_SEAL_SHRINK, without F_SEAL_WRITE. */
  memfd: FdLike;
  /** Page-aligned byte offset into the memfd (default 0). */
  offset?: number;
  /** Page-aligned byte count (default: from offset to the memfd's current end). */
  size?: number;
}

export interface UdmabufOptions {
  /** DMA_BUF_SET_NAME for the new buffer (at most 31 bytes, checked before anything is created). */
  name?: string;
}

export interface SealedMemfdOptions {
  /**
   * Back it with huge pages (MFD_HUGETLB: true, or a size such as '2MB'). `size` must then be a multiple of the
   * huge page size, and the huge pages are allocated at once (udmabuf takes only pages already in the file).
   */
  hugetlb?: boolean | HugePageSize;
}

/**
 * A memfd the way udmabuf wants it: sized, sealed against shrinking, and sealed so no write seal can follow.
 * With `hugetlb`, a memfd of huge pages taken from the pool now (KernelError ENOSPC when too few are free).
 */
export function createSealedMemfd(
  size: number,
  name = 'zcopy-udmabuf',
  options: SealedMemfdOptions = {},
): Memfd {
  if (!Number.isSafeInteger(size) || size < 0)
    throw new RangeError(`size must be a non-negative integer, got ${size}`);
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const { hugetlb } = options;
  // F_SEAL_SEAL too: a later F_SEAL_WRITE would be broken by writes through the dma-buf's mappings.
  const memfd = Memfd.create(name, { size, allowSealing: true, seals: ['shrink', 'seal'], hugetlb });
  if (hugetlb && size > 0) {
    try {
      memfd.allocate();
    } catch (e) {
      memfd.close();
      throw e;
    }
  }
  return memfd;
}

function checkCount(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new TypeError(`${what} must be an integer, got ${String(value)}`);
  if (value < 0 || !Number.isSafeInteger(value))
    throw new RangeError(`${what} must be a non-negative safe integer, got ${value}`);
  return value;
}

function resolveRange(range: UdmabufRange, what: string): ResolvedRange {
  if (range === null || typeof range !== 'object')
    throw new TypeError(`${what} must be an object with a memfd`);
  const memfd = fdOf(range.memfd, `${what}.memfd`);
  const offset = checkCount(range.offset ?? 0, `${what}.offset`);
  let size: number;
  if (range.size === undefined) {
    const end = fstatSync(memfd).size;
    if (offset > end)
      throw new RangeError(`${what}.offset ${offset} is past the end of the ${end}-byte memfd`);
    size = end - offset;
  } else size = checkCount(range.size, `${what}.size`);
  return { memfd, offset, size };
}

function checkOptions(options: UdmabufOptions): string | undefined {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  return options.name === undefined ? undefined : checkDmaBufName(options.name);
}

// The misc device sysfs calls 'udmabuf': anything else (e.g. /dev/null) is refused when it is opened or adopted.
function checkUdmabuf(fd: number): void {
  checkCharDevice(fd, 'the udmabuf device', 'misc', 'udmabuf');
}

/** An open /dev/udmabuf. Keep one for many buffers; each buffer outlives it. */
export class UdmabufDevice extends FdObject {
  /** Opens the udmabuf device (O_CLOEXEC); a path that is some other file is a WrongFdError, closed again. */
  static open(path = UDMABUF_DEVICE): UdmabufDevice {
    if (typeof path !== 'string') throw new TypeError('path must be a string');
    return adoptOrClose(native.open(path, fsConstants.O_RDWR), (fd) => {
      checkUdmabuf(fd);
      return new UdmabufDevice(fd, { owned: true });
    });
  }

  /** Take ownership of a /dev/udmabuf fd (inherited, received); WrongFdError, the fd left alone, if it is not one. */
  static adopt(fd: number): UdmabufDevice {
    const n = fdOf(fd);
    checkUdmabuf(n);
    return new UdmabufDevice(native.adopt(n), { owned: true });
  }

  /** Use a /dev/udmabuf fd someone else owns and will close. */
  static borrow(target: FdLike): UdmabufDevice {
    const n = fdOf(target);
    checkUdmabuf(n);
    return new UdmabufDevice(n, { owned: false });
  }

  /** An owned duplicate of a /dev/udmabuf fd. */
  static dup(target: FdLike): UdmabufDevice {
    const n = fdOf(target);
    checkUdmabuf(n);
    return adoptOrClose(native.dup(n), (d) => new UdmabufDevice(d, { owned: true }));
  }

  /** A dma-buf over [offset, offset + size) of `memfd` (UDMABUF_CREATE). */
  create(memfd: FdLike, options: UdmabufOptions & { offset?: number; size?: number } = {}): DmaBuf {
    const name = checkOptions(options);
    const range = resolveRange({ memfd, offset: options.offset, size: options.size }, 'range');
    const fd = withErrorContext({ udmabufRanges: [range] }, () =>
      binding.create(this.fd, range.memfd, range.offset, range.size),
    );
    return wrap(fd, name, [range]);
  }

  /** One dma-buf over several ranges, of one or more memfds, in order (UDMABUF_CREATE_LIST). */
  createList(ranges: readonly UdmabufRange[], options: UdmabufOptions = {}): DmaBuf {
    const name = checkOptions(options);
    if (!Array.isArray(ranges)) throw new TypeError('ranges must be an array');
    const resolved = ranges.map((r, i) => resolveRange(r, `ranges[${i}]`));
    const fd = withErrorContext({ udmabufRanges: resolved }, () =>
      binding.createList(
        this.fd,
        resolved.map((r) => r.memfd),
        resolved.map((r) => r.offset),
        resolved.map((r) => r.size),
      ),
    );
    return wrap(fd, name, resolved);
  }

  /**
   * A dma-buf over a fresh sealed memfd of `size` bytes (page-aligned); the memfd is closed afterwards, the
   * dma-buf keeps the pages. To also write through the memfd, use createSealedMemfd() and create().
   */
  allocate(size: number, options: UdmabufOptions = {}): DmaBuf {
    checkOptions(options);
    using memfd = createSealedMemfd(checkCount(size, 'size'));
    return this.create(memfd, { ...options, offset: 0, size });
  }
}

// Wraps a fresh dma-buf fd; a failure after the ioctl closes it rather than leak it. Its size is the sum of the
// ranges (the kernel takes only whole pages and makes the buffer exactly that long): no lseek needed.
function wrap(fd: number, name: string | undefined, ranges: readonly ResolvedRange[]): DmaBuf {
  const buf = ownNewDmaBuf(
    fd,
    ranges.reduce((sum, r) => sum + r.size, 0),
  );
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
