// memfd and eventfd: the fd kinds the other packages (udmabuf, tests) build on.
import { fstatSync, readlinkSync } from 'node:fs';
import { type WaitOptions, waitReadable } from './async.js';
import { type HintInput, KernelError, withErrorContext } from './errors.js';
import { type FdLike, FdObject, type FdObjectOptions, fdOf } from './fd.js';
import { checkFdKind } from './fd-kind.js';
import { type MapOptions, Mapping } from './memory.js';
import { native } from './native.js';

export type Seal = 'seal' | 'shrink' | 'grow' | 'write';

const sealBits: Record<Seal, number> = {
  seal: native.constants.F_SEAL_SEAL,
  shrink: native.constants.F_SEAL_SHRINK,
  grow: native.constants.F_SEAL_GROW,
  write: native.constants.F_SEAL_WRITE,
};

function sealMask(seals: readonly Seal[]): number {
  if (!Array.isArray(seals)) throw new TypeError('seals must be an array of seal names');
  let mask = 0;
  for (const s of seals as readonly Seal[]) {
    const bit = sealBits[s];
    if (bit === undefined)
      throw new TypeError(`unknown seal '${String(s)}' (expected ${Object.keys(sealBits).join(', ')})`);
    mask |= bit;
  }
  return mask;
}

// Node's fs errors carry errno as a negative number; make them KernelErrors like the rest.
function fsCall<T>(syscall: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (typeof err.errno === 'number') throw new KernelError({ errno: Math.abs(err.errno), syscall });
    throw e;
  }
}

/** Huge page sizes MFD_HUGETLB can ask for (the kernel must have a hugetlbfs pool of that size). */
export type HugePageSize =
  | '64KB'
  | '512KB'
  | '1MB'
  | '2MB'
  | '8MB'
  | '16MB'
  | '32MB'
  | '256MB'
  | '512MB'
  | '1GB'
  | '2GB'
  | '16GB';

const hugeLog2: Record<HugePageSize, number> = {
  '64KB': 16,
  '512KB': 19,
  '1MB': 20,
  '2MB': 21,
  '8MB': 23,
  '16MB': 24,
  '32MB': 25,
  '256MB': 28,
  '512MB': 29,
  '1GB': 30,
  '2GB': 31,
  '16GB': 34,
};

function hugetlbFlags(hugetlb: boolean | HugePageSize | undefined): number {
  if (hugetlb === undefined || hugetlb === false) return 0;
  if (hugetlb === true) return native.constants.MFD_HUGETLB;
  const log2 = hugeLog2[hugetlb];
  if (log2 === undefined || typeof hugetlb !== 'string')
    throw new TypeError(
      `hugetlb must be a boolean or one of ${Object.keys(hugeLog2).join(', ')}, got ${String(hugetlb)}`,
    );
  // Unsigned: the 16GB encoding sets bit 31.
  return (native.constants.MFD_HUGETLB | (log2 << native.constants.MFD_HUGE_SHIFT)) >>> 0;
}

const hugetlbHints: Record<string, string> = {
  EINVAL: "a hugetlb memfd's size must be a multiple of its huge page size",
  ENOENT: 'no hugetlbfs pool of that page size: the kernel has no such huge page size',
  ENODEV: 'the kernel has no hugetlbfs (CONFIG_HUGETLBFS) or no huge pages of that size',
  ENOSPC: 'too few free huge pages: reserve more (vm.nr_hugepages, or hugepages= on the kernel command line)',
  ENOMEM: 'too few free huge pages: reserve more (vm.nr_hugepages, or hugepages= on the kernel command line)',
};
const hugetlbHint = ({ code }: { code: string }) => hugetlbHints[code];

export interface MemfdOptions {
  /** ftruncate to this size after creating (a hugetlb memfd: a multiple of its huge page size). */
  size?: number;
  /**
   * MFD_HUGETLB: back the memfd with huge pages (true: the default huge page size; or a size such as '2MB').
   * The pages come from the kernel's reserved pool (vm.nr_hugepages) when first touched or `allocate()`d.
   */
  hugetlb?: boolean | HugePageSize;
  /** MFD_ALLOW_SEALING (default true: udmabuf needs F_SEAL_SHRINK). */
  allowSealing?: boolean;
  /** Seals to add after sizing. */
  seals?: Seal[];
}

let construct!: (fd: number, options: FdObjectOptions) => Memfd;

// F_GET_SEALS answers only on memfds (EINVAL on other files).
function checkMemfd(fd: number): void {
  checkFdKind(fd, 'a memfd', () => {
    native.getSeals(fd);
  });
}

export class Memfd extends FdObject {
  static {
    construct = (fd, options) => new Memfd(fd, options);
  }

  static create(name = 'zcopy', options: MemfdOptions = {}): Memfd {
    if (typeof name !== 'string') throw new TypeError('name must be a string');
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const { size, allowSealing = true, seals, hugetlb } = options;
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0))
      throw new RangeError(`size must be a non-negative integer, got ${size}`);
    const mask = seals ? sealMask(seals) : 0;
    const huge = hugetlbFlags(hugetlb);
    const flags = ((allowSealing ? native.constants.MFD_ALLOW_SEALING : 0) | huge) >>> 0;
    // Without hugetlb, one call makes and sizes it (closed again in C if the size fails); a hugetlb memfd is
    // sized by truncate(), whose errors carry the huge-page hints.
    const m = huge
      ? withErrorContext(
          { hint: hugetlbHint },
          () => new Memfd(native.memfdCreate(name, flags), { owned: true }),
        )
      : new Memfd(native.memfdCreate(name, flags, size), { owned: true });
    m.#huge = huge !== 0;
    try {
      if (huge && size !== undefined) m.truncate(size);
      if (mask) native.addSeals(m.fd, mask);
    } catch (e) {
      m.close();
      throw e;
    }
    return m;
  }

  /** Take ownership of a memfd fd (inherited, received over a socket). WrongFdError if it is not a memfd. */
  static adopt(fd: number): Memfd {
    const n = fdOf(fd);
    checkMemfd(n);
    return construct(native.adopt(n), { owned: true });
  }

  /** Use a memfd someone else owns and will close. */
  static borrow(target: FdLike): Memfd {
    const n = fdOf(target);
    checkMemfd(n);
    return construct(n, { owned: false });
  }

  /** An owned duplicate (F_DUPFD_CLOEXEC): the same file, pages and seals. */
  static dup(target: FdLike): Memfd {
    const n = fdOf(target);
    checkMemfd(n);
    return construct(native.dup(n), { owned: true });
  }

  /** The size of its pages: the CPU page size, or the huge page size of a hugetlb memfd. */
  get pageSize(): number {
    return fsCall('fstat', () => fstatSync(this.fd)).blksize;
  }

  #hintContext: Record<string, unknown> | undefined;
  // Whether it is a hugetlb memfd, when this process made it (create()); undefined for an adopted, borrowed or
  // duplicated one, whose failures ask (fstat) when they happen.
  #huge: boolean | undefined;

  // The huge-page rules, as the hint of a failure of a hugetlb memfd. Asked only when a call fails: a map or a
  // truncate that succeeds makes no fstat to learn whether the memfd is a hugetlb one.
  #hints(): Record<string, unknown> {
    this.#hintContext ??= {
      hint: (input: HintInput) => (this.#isHugetlb() ? hugetlbHint(input) : undefined),
    };
    return this.#hintContext;
  }

  #isHugetlb(): boolean {
    try {
      return this.hugetlb;
    } catch {
      return false; // closed meanwhile: no hint rather than a second error
    }
  }

  /** true for a hugetlb memfd (its pages are larger than the CPU's). */
  get hugetlb(): boolean {
    return this.pageSize > native.pageSize;
  }

  /** Bytes of memory the memfd holds now (st_blocks): pages written, touched through a mapping or allocated. */
  get allocatedBytes(): number {
    return fsCall('fstat', () => fstatSync(this.fd)).blocks * 512;
  }

  /**
   * fallocate: allocate the pages of [offset, offset + length) now (default: the whole memfd). A hugetlb memfd
   * has no write(2), so this (or a write through a mapping) is how its huge pages are taken from the pool;
   * KernelError ENOSPC when the pool has too few.
   */
  allocate(offset = 0, length?: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new RangeError(`offset must be a non-negative integer, got ${offset}`);
    const len = length ?? this.size - offset;
    if (!Number.isSafeInteger(len) || len <= 0)
      throw new RangeError(`length must be a positive integer, got ${len}`);
    const fd = this.fd;
    withErrorContext(this.#hints(), () => native.fallocate(fd, 0, offset, len));
  }

  get size(): number {
    return fstatSync(this.fd).size;
  }

  truncate(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0)
      throw new RangeError(`size must be a non-negative integer, got ${size}`);
    const fd = this.fd;
    withErrorContext(this.#hints(), () => native.ftruncate(fd, size));
  }

  addSeals(seals: Seal[]): void {
    native.addSeals(this.fd, sealMask(seals));
  }

  get seals(): Seal[] {
    const mask = native.getSeals(this.fd);
    return (Object.keys(sealBits) as Seal[]).filter((s) => mask & sealBits[s]);
  }

  map(options: MapOptions & { length?: number } = {}): Mapping {
    const length = options.length ?? this.size;
    // A memfd made here without hugetlb needs no hint context (a hot path: no closure, no context object).
    if (this.#huge === false) return Mapping.map(this.fd, length, options);
    // A hugetlb mapping reserves its huge pages up front: ENOMEM when the pool has too few.
    return withErrorContext(this.#hints(), () => Mapping.map(this, length, options));
  }
}

export interface EventFdOptions {
  /** O_NONBLOCK (default true: read() of a zero counter throws EAGAIN instead of blocking the event loop). */
  nonblocking?: boolean;
  semaphore?: boolean;
}

let constructEventFd!: (fd: number, options: FdObjectOptions) => EventFd;

function checkEventFd(fd: number): void {
  fsCall('fstat', () => fstatSync(fd, { bigint: true })); // EBADF for an fd that is not open (bigint: see charDeviceOf)
  checkFdKind(fd, 'an eventfd', () => {
    const target = readlinkSync(`/proc/self/fd/${fd}`);
    return target === 'anon_inode:[eventfd]';
  });
}

export class EventFd extends FdObject {
  static {
    constructEventFd = (fd, options) => new EventFd(fd, options);
  }

  /** Take ownership of an eventfd (inherited, received over a socket). WrongFdError if it is not one. */
  static adopt(fd: number): EventFd {
    const n = fdOf(fd);
    checkEventFd(n);
    return constructEventFd(native.adopt(n), { owned: true });
  }

  /** Use an eventfd someone else owns and will close. */
  static borrow(target: FdLike): EventFd {
    const n = fdOf(target);
    checkEventFd(n);
    return constructEventFd(n, { owned: false });
  }

  /** An owned duplicate (F_DUPFD_CLOEXEC) of an eventfd: the same counter. */
  static dup(target: FdLike): EventFd {
    const n = fdOf(target);
    checkEventFd(n);
    return constructEventFd(native.dup(n), { owned: true });
  }

  static create(initval = 0, options: EventFdOptions = {}): EventFd {
    if (!Number.isInteger(initval) || initval < 0 || initval > 0xffffffff)
      throw new RangeError(`initval must be a 32-bit unsigned integer, got ${initval}`);
    const { nonblocking = true, semaphore = false } = options;
    const flags =
      (nonblocking ? native.constants.EFD_NONBLOCK : 0) | (semaphore ? native.constants.EFD_SEMAPHORE : 0);
    return new EventFd(native.eventfd(initval, flags), { owned: true });
  }

  /** Adds `n` to the counter. */
  write(n: number | bigint = 1n): void {
    const v = BigInt(n);
    if (v <= 0n || v >= 0xffffffffffffffffn) throw new RangeError('n must be within 1..2^64-2');
    native.eventfdWrite(this.fd, v);
  }

  /** Reads and resets the counter (or takes 1 in semaphore mode). */
  read(): bigint {
    return native.eventfdRead(this.fd);
  }

  /** Resolves once the counter is non-zero. */
  wait(options?: WaitOptions): Promise<number> {
    return waitReadable(this, options);
  }
}
