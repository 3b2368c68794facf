// GrantSharer: pages of this domain granted to another domain through /dev/xen/gntalloc.
// ALLOC_GREF allocates zeroed pages, grants them and returns refs plus a file offset; mmap(MAP_SHARED) of that
// offset maps them here. Pages (and their grants) end once they are deallocated, unmapped here and no longer
// mapped by the peer: until then they count against gntalloc's limit.
import { constants } from 'node:fs';
import { type FdLike, FdObject, fdOf, Mapping } from '@zcopy/core';
import { adoptOrClose, checkCharDevice, native as core, withErrorContext } from '@zcopy/core/internal';
import { GNTALLOC_PATH } from '@zcopy/xen';
import { checkCount, checkDomid, checkNotify, type UnmapNotifyOptions } from './checks.js';
import { GNTALLOC_LIMIT_PATH, readLimit } from './hints.js';
import { binding } from './native.js';

export { GNTALLOC_PATH };

export interface ShareOptions {
  /** Whether the peer may write (default true). This domain's own view is always writable. */
  writable?: boolean;
}

function checkGntalloc(fd: number): void {
  checkCharDevice(fd, 'the gntalloc device (/dev/xen/gntalloc)', 'misc', /^(xen!)?gntalloc$/);
}

export class GrantSharer extends FdObject {
  readonly #shares = new Set<SharedGrants>();

  /** Opens /dev/xen/gntalloc (O_CLOEXEC); a path that is another file is a WrongFdError, closed again. */
  static open(path: string = GNTALLOC_PATH): GrantSharer {
    if (typeof path !== 'string') throw new TypeError('path must be a string');
    return adoptOrClose(core.open(path, constants.O_RDWR), (fd) => {
      checkGntalloc(fd);
      return new GrantSharer(fd, { owned: true });
    });
  }

  /** Take ownership of a gntalloc fd (inherited, received); WrongFdError, the fd left alone, if it is not one. */
  static adopt(fd: number): GrantSharer {
    const n = fdOf(fd);
    checkGntalloc(n);
    return new GrantSharer(core.adopt(n), { owned: true });
  }

  /** Use a gntalloc fd someone else owns (never closed here). */
  static borrow(fd: FdLike): GrantSharer {
    const n = fdOf(fd);
    checkGntalloc(n);
    return new GrantSharer(n, { owned: false });
  }

  /** gntalloc's limit on grants allocated at once, over all processes of this domain. */
  static get limit(): number | undefined {
    return readLimit(GNTALLOC_LIMIT_PATH);
  }

  get shares(): ReadonlySet<SharedGrants> {
    return this.#shares;
  }

  /** Shares `count` new zeroed pages with `domid`; the grant refs are in the result's `refs`, in page order. */
  share(domid: number, count: number, options: ShareOptions = {}): SharedGrants {
    checkDomid(domid);
    checkCount(count);
    const writable = options.writable ?? true;
    if (typeof writable !== 'boolean') throw new TypeError('writable must be a boolean');
    const fd = this.fd;
    // An ENOSPC names the count and the limit (hints.ts).
    const alloc = withErrorContext({ grantCount: count }, () =>
      binding.allocGrefs(fd, domid, writable, count),
    );
    let mapping: Mapping;
    try {
      mapping = Mapping.map(fd, count * binding.constants.PAGE_SIZE, { offset: alloc.index, shared: true });
    } catch (e) {
      binding.deallocGrefs(fd, alloc.index, count);
      throw e;
    }
    const s = new SharedGrants(this, mapping, alloc.index, alloc.refs, domid, writable);
    this.#shares.add(s);
    return s;
  }

  /** @internal */
  forget(s: SharedGrants): void {
    this.#shares.delete(s);
  }

  protected override onClose(): void {
    for (const s of [...this.#shares]) s.unshare();
  }
}

export class SharedGrants implements Disposable {
  readonly #sharer: GrantSharer;
  readonly #mapping: Mapping;
  /** The gntalloc file offset of the pages. */
  readonly index: number;
  /** Grant refs, one per page, in page order: what the peer maps. */
  readonly refs: Uint32Array;
  readonly domid: number;
  readonly writable: boolean;
  readonly count: number;
  #shared = true;

  /** @internal */
  constructor(
    sharer: GrantSharer,
    mapping: Mapping,
    index: number,
    refs: Uint32Array,
    domid: number,
    writable: boolean,
  ) {
    this.#sharer = sharer;
    this.#mapping = mapping;
    this.index = index;
    this.refs = refs;
    this.domid = domid;
    this.writable = writable;
    this.count = refs.length;
  }

  get length(): number {
    return this.#mapping.length;
  }

  get shared(): boolean {
    return this.#shared;
  }

  /** This domain's view of the shared pages (no copy). */
  get buffer(): Buffer {
    return this.#mapping.buffer;
  }

  get arrayBuffer(): ArrayBuffer {
    return this.#mapping.arrayBuffer;
  }

  /**
   * When these pages are released here (unshare, close, or process death), the kernel clears the byte at
   * `clearByte` (the peer still sees it while it maps that page) and/or notifies event channel `port`.
   * gntalloc keeps the notify on the page holding the byte.
   */
  setUnmapNotify(options: UnmapNotifyOptions): void {
    if (!this.#shared) throw new RangeError('the pages are no longer shared');
    const { action, byteOffset, port } = checkNotify(options, this.length);
    binding.gntallocSetUnmapNotify(this.#sharer.fd, this.index + byteOffset, action, port);
  }

  /** Idempotent: the view detaches and the grants end (once the peer has unmapped them too). */
  unshare(): void {
    if (!this.#shared) return;
    this.#shared = false;
    this.#sharer.forget(this);
    this.#mapping.unmap();
    if (!this.#sharer.closed) binding.deallocGrefs(this.#sharer.fd, this.index, this.count);
  }

  [Symbol.dispose](): void {
    this.unshare();
  }
}
