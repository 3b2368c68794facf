// Memory mappings of fds. The Buffer views are backed by the mapping itself (no copy); unmap() detaches the
// ArrayBuffer, so every view of it becomes empty instead of pointing at pages that are gone.
import { ClosedError } from './errors.js';
import { type FdLike, fdOf } from './fd.js';
import { native } from './native.js';

export type MapAccess = 'read' | 'readwrite';

export interface MapOptions {
  /** 'readwrite' (default) or 'read'. */
  access?: MapAccess;
  /** Page-aligned offset into the fd (default 0). */
  offset?: number;
  /** MAP_SHARED (default true): writes reach the fd's pages, which is the point of zero-copy. */
  shared?: boolean;
}

const PROT_R = native.constants.PROT_READ;
const PROT_RW = native.constants.PROT_READ | native.constants.PROT_WRITE;
const MAP_SHARED = native.constants.MAP_SHARED;

export class Mapping implements Disposable {
  #ab: ArrayBuffer | undefined;
  #buffer: Buffer | undefined;
  readonly length: number;
  readonly access: MapAccess;
  #onUnmap: (() => void) | undefined;

  private constructor(ab: ArrayBuffer, access: MapAccess, onUnmap?: () => void) {
    this.#ab = ab;
    this.length = ab.byteLength;
    this.access = access;
    this.#onUnmap = onUnmap;
  }

  /** mmap `length` bytes of `target`. */
  static map(target: FdLike, length: number, options: MapOptions = {}, onUnmap?: () => void): Mapping {
    const fd = fdOf(target);
    if (!Number.isSafeInteger(length)) throw new TypeError('length must be an integer');
    if (length <= 0) throw new RangeError(`length must be greater than 0, got ${length}`);
    const access = options.access ?? 'readwrite';
    if (access !== 'read' && access !== 'readwrite')
      throw new TypeError(`access must be 'read' or 'readwrite'`);
    const offset = options.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new RangeError('offset must be a non-negative integer');
    const prot = access === 'read' ? PROT_R : PROT_RW;
    const flags = options.shared === false ? native.constants.MAP_PRIVATE : MAP_SHARED;
    return new Mapping(native.mmap(fd, length, prot, flags, offset), access, onUnmap);
  }

  get mapped(): boolean {
    return this.#ab !== undefined;
  }

  /** The mapped bytes as an ArrayBuffer (detached, byteLength 0, after unmap). */
  get arrayBuffer(): ArrayBuffer {
    if (!this.#ab) throw new ClosedError('Mapping');
    return this.#ab;
  }

  /** A Buffer over the mapped bytes; throws after unmap(), and earlier views read as empty. */
  get buffer(): Buffer {
    if (!this.#ab) throw new ClosedError('Mapping');
    this.#buffer ??= Buffer.from(this.#ab);
    return this.#buffer;
  }

  /** Idempotent. */
  unmap(): void {
    const ab = this.#ab;
    if (!ab) return;
    this.#ab = undefined;
    this.#buffer = undefined;
    native.munmap(ab);
    const cb = this.#onUnmap;
    this.#onUnmap = undefined;
    cb?.();
  }

  [Symbol.dispose](): void {
    this.unmap();
  }
}

/** Live mappings made through the core (for leak tests). */
export function liveMappings(): number {
  return native.mappingCount();
}
