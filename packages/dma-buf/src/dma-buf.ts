// DmaBuf: the object every zcopy package accepts and returns for a dma-buf fd.
// Owned (adopt) or borrowed (borrow) fd; mappings made here are unmapped at close, and CPU-access brackets still
// open at close are ended. The fd stays public (`fd`) so other packages can issue their own dma-buf ioctls on
// it (e.g. sync-file export/import in @zcopy/dma-fence).
import { type FdLike, FdObject, type FdObjectOptions, fdOf, type MapAccess, Mapping } from '@zcopy/core';
import {
  adoptOrClose,
  checkFdKind,
  type HintInput,
  native,
  registerHints,
  withErrorContext,
} from '@zcopy/core/internal';
import { type CpuAccess, CpuAccessScope, runScoped, syncFlags } from './cpu-access.js';
import { type DmaBufInfo, readDmaBufInfo } from './fdinfo.js';
import { binding } from './native.js';

/** Longest name DMA_BUF_SET_NAME takes, in UTF-8 bytes (DMA_BUF_NAME_LEN minus the NUL). */
export const DMA_BUF_NAME_MAX = binding.constants.DMA_BUF_NAME_LEN - 1;

/** The CPU page size: mapping offsets, udmabuf ranges and heap sizes are counted in these. */
export const PAGE_SIZE = binding.pageSize;

const syncHints = {
  EINVAL:
    'the exporter refused this bracket edge: an end without a matching start (udmabuf refuses an end before its ' +
    'first start), or flags other than START/END with READ, WRITE or both',
};
const setNameHints = {
  EINVAL: `dma-buf names are at most ${DMA_BUF_NAME_MAX} bytes`,
  EBUSY: 'this kernel refuses to rename a dma-buf while a device is attached to it',
};
registerHints('DMA_BUF_IOCTL_SYNC', syncHints);
registerHints('DMA_BUF_SET_NAME', setNameHints);

// DMA_BUF_IOCTL_SYNC, with the rule in the message when the exporter refuses.
function sync(fd: number, flags: number): void {
  binding.sync(fd, flags);
}

export interface DmaBufMapOptions {
  /** 'readwrite' (default) or 'read'; the fd must have been opened with that access. */
  access?: MapAccess;
  /** Page-aligned byte offset into the buffer (default 0). */
  offset?: number;
  /** Bytes to map (default: from offset to the end of the buffer). */
  length?: number;
}

/** Where seek() counts from: SEEK_SET, SEEK_CUR, SEEK_END. */
export type SeekWhence = 'set' | 'cur' | 'end';

const seekWhence: Record<SeekWhence, number> = {
  set: binding.seekWhence.SET,
  cur: binding.seekWhence.CUR,
  end: binding.seekWhence.END,
};

const SEEK_RULE = 'a dma-buf seeks only to offset 0 from SEEK_SET or SEEK_END (which returns its size)';
const seekHint = ({ code, syscall }: HintInput) =>
  syscall === 'lseek' && code === 'EINVAL'
    ? SEEK_RULE
    : syscall === 'lseek' && code === 'ESPIPE'
      ? 'this fd cannot seek at all: it is not a dma-buf'
      : undefined;

/** Checks a name for DMA_BUF_SET_NAME: TypeError/RangeError, before any syscall. */
export function checkDmaBufName(name: unknown): string {
  if (typeof name !== 'string') throw new TypeError(`a dma-buf name must be a string, got ${typeof name}`);
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > DMA_BUF_NAME_MAX)
    throw new RangeError(
      `a dma-buf name is at most ${DMA_BUF_NAME_MAX} bytes (DMA_BUF_NAME_LEN), got ${bytes}`,
    );
  // NUL would cut the name short in the kernel; a newline would split it across fdinfo lines.
  if (/[\0\n]/.test(name)) throw new RangeError('a dma-buf name cannot contain NUL or newline characters');
  return name;
}

// mmap(2) failures carry no request name, so these are added here rather than registered for every mmap.
const mmapHints: Readonly<Record<string, string>> = {
  EINVAL:
    'dma-buf mappings must be shared and lie within the buffer, and some exporters cannot be mapped at all',
  EACCES:
    'the dma-buf fd was not opened for the access the mapping asks for (e.g. a read-only fd mapped read-write)',
};

let construct!: (fd: number, size: number | undefined) => DmaBuf;

/**
 * For addon packages (@zcopy/dma-buf/internal): an owned DmaBuf for a dma-buf fd the kernel has just returned from
 * an ioctl that makes dma-bufs (a heap allocation, a PRIME export, UDMABUF_CREATE). The ioctl vouches for the kind,
 * so there is no fstatfs/F_GETFD probe as in DmaBuf.adopt(); `size` is for callers the kernel's rule tells the exact
 * size (it then needs no lseek). Whatever fails closes the fd.
 */
export function ownNewDmaBuf(fd: number, size?: number): DmaBuf {
  return adoptOrClose(fd, (n) => construct(native.own(n), size));
}

export class DmaBuf extends FdObject {
  static {
    construct = (fd, size) => {
      const buf = new DmaBuf(fd, { owned: true });
      buf.#size = size;
      return buf;
    };
  }

  // Kept apart from FdObject's fd: close() runs onClose after the fd getter has started to throw.
  readonly #rawFd: number;
  #size: number | undefined;
  readonly #mappings = new Set<Mapping>();
  readonly #scopes = new Set<CpuAccessScope>();

  protected constructor(fd: number, options: FdObjectOptions) {
    super(fd, options);
    this.#rawFd = fd;
  }

  /** true if `target` is a dma-buf fd (it lives on the kernel's dmabuf filesystem). */
  static isDmaBuf(target: FdLike): boolean {
    return binding.isDmaBuf(fdOf(target));
  }

  /**
   * Take ownership of a dma-buf fd received from elsewhere (another library, SCM_RIGHTS, an allocator).
   * TypeError (and the fd stays the caller's) if it is not a dma-buf.
   */
  static adopt(fd: number): DmaBuf {
    DmaBuf.#checkIsDmaBuf(fd);
    return new DmaBuf(native.adopt(fd), { owned: true });
  }

  /** Use a dma-buf fd that someone else owns and will close; close() here only drops this object's mappings. */
  static borrow(fd: number): DmaBuf {
    DmaBuf.#checkIsDmaBuf(fd);
    return new DmaBuf(fd, { owned: false });
  }

  static #checkIsDmaBuf(fd: number): void {
    const n = fdOf(fd);
    checkFdKind(n, 'a dma-buf', () => binding.isDmaBuf(n));
  }

  /** The size of any dma-buf fd: lseek(fd, 0, SEEK_END), the one way the kernel tells it. */
  static sizeOf(target: FdLike): number {
    return withErrorContext({ hint: seekHint }, () => binding.size(fdOf(target)));
  }

  /** An owned duplicate fd (F_DUPFD_CLOEXEC) of any dma-buf fd (WrongFdError if it is not one). */
  static dup(target: FdLike): DmaBuf {
    const n = fdOf(target);
    DmaBuf.#checkIsDmaBuf(n);
    return adoptOrClose(native.dup(n), (d) => new DmaBuf(d, { owned: true }));
  }

  /** An owned duplicate fd (F_DUPFD_CLOEXEC) of the same buffer, e.g. to hand to another owner. */
  dup(): DmaBuf {
    return new DmaBuf(native.dup(this.fd), { owned: true });
  }

  /** Size in bytes (lseek SEEK_END; a dma-buf never changes size). */
  get size(): number {
    this.#size ??= DmaBuf.sizeOf(this.fd);
    return this.#size;
  }

  /**
   * lseek(2) as a dma-buf allows it: offset 0 from 'set' (returns 0) or from 'end' (returns the size, and
   * leaves the file position there). The kernel refuses every other seek ('cur', a non-zero offset) with
   * EINVAL: a KernelError (syscall 'lseek') whose message says the rule. Wrong JS arguments: TypeError/RangeError.
   */
  seek(offset: number, whence: SeekWhence): number {
    if (!Number.isInteger(offset)) throw new TypeError(`offset must be an integer, got ${offset}`);
    if (Math.abs(offset) > 0x7fffffff) throw new RangeError(`offset must fit in 32 bits, got ${offset}`);
    const w = seekWhence[whence];
    if (w === undefined || typeof whence !== 'string')
      throw new TypeError(`whence must be 'set', 'cur' or 'end', got ${String(whence)}`);
    const fd = this.fd;
    return withErrorContext({ hint: seekHint }, () => binding.lseek(fd, offset, w));
  }

  /** The name set with DMA_BUF_SET_NAME (by anyone holding the buffer), read back from fdinfo. */
  get name(): string | undefined {
    return this.info().name;
  }

  /** DMA_BUF_SET_NAME: at most 31 UTF-8 bytes (RangeError before the syscall). Shows in fdinfo and debugfs. */
  set name(value: string) {
    const name = checkDmaBufName(value);
    binding.setName(this.fd, name);
  }

  /** What the kernel reports for this fd in /proc/self/fdinfo. */
  info(): DmaBufInfo {
    return readDmaBufInfo(this.fd);
  }

  /**
   * mmap (MAP_SHARED) the buffer or a page-aligned part of it. The mapping is this object's: close() unmaps it.
   * Bracket CPU access with withCpuAccess()/beginCpuAccess(): the exporter keeps caches coherent only inside.
   */
  mmap(options: DmaBufMapOptions = {}): Mapping {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const fd = this.fd;
    const size = this.size;
    const offset = options.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new RangeError(`offset must be a non-negative integer, got ${offset}`);
    if (offset % PAGE_SIZE !== 0)
      throw new RangeError(`offset must be a multiple of the page size (${PAGE_SIZE}), got ${offset}`);
    const length = options.length ?? size - offset;
    if (!Number.isSafeInteger(length) || length <= 0)
      throw new RangeError(`length must be a positive integer, got ${length}`);
    if (offset + length > size)
      throw new RangeError(`offset + length (${offset} + ${length}) exceeds the buffer's ${size} bytes`);
    // An mmap failure carries this buffer's rule for its errno (an exporter's subclass may know better).
    const mapping: Mapping = withErrorContext({ hint: ({ code }: HintInput) => this.mmapHint(code) }, () =>
      Mapping.map(fd, length, { access: options.access ?? 'readwrite', offset, shared: true }, () =>
        this.#mappings.delete(mapping),
      ),
    );
    this.#mappings.add(mapping);
    return mapping;
  }

  /** The rule behind an mmap errno (exporters that know why they refuse say it in a subclass). */
  protected mmapHint(code: string): string | undefined {
    return mmapHints[code];
  }

  /** This object's live mappings. */
  get mappings(): readonly Mapping[] {
    return [...this.#mappings];
  }

  /** DMA_BUF_IOCTL_SYNC start. Prefer withCpuAccess(), which cannot forget the end. */
  syncStart(access: CpuAccess = 'readwrite'): void {
    sync(this.fd, syncFlags(access, 'start'));
  }

  /** DMA_BUF_IOCTL_SYNC end. */
  syncEnd(access: CpuAccess = 'readwrite'): void {
    sync(this.fd, syncFlags(access, 'end'));
  }

  /** Starts a CPU-access bracket and returns its scope: `using access = buf.beginCpuAccess('write')`. */
  beginCpuAccess(access: CpuAccess = 'readwrite'): CpuAccessScope {
    this.syncStart(access);
    // The raw fd: close() ends the brackets still open after the fd getter has started to throw.
    const scope = new CpuAccessScope(access, () => {
      this.#scopes.delete(scope);
      sync(this.#rawFd, syncFlags(access, 'end'));
    });
    this.#scopes.add(scope);
    return scope;
  }

  /**
   * Runs fn between a sync start and end for `access`. The end always runs: after fn returns, after it throws,
   * and, when fn returns a promise, after that promise settles. Returns what fn returns.
   */
  withCpuAccess<T>(access: CpuAccess, fn: () => T): T {
    if (typeof fn !== 'function') throw new TypeError('fn must be a function');
    return runScoped(this.beginCpuAccess(access), fn);
  }

  protected override onClose(): void {
    // The fd is still open here; a failure to end a bracket has nobody left to be reported to.
    for (const scope of [...this.#scopes]) {
      try {
        scope.end();
      } catch {
        // the buffer is going away from this object either way
      }
    }
    for (const m of [...this.#mappings]) m.unmap();
  }
}
