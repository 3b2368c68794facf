// GrantMapper: another domain's grants mapped into this process through /dev/xen/gntdev.
// The kernel protocol: MAP_GRANT_REF records a batch and returns a file offset; mmap(MAP_SHARED) of exactly that
// offset and length asks the hypervisor to map the grants (a bad ref fails here); munmap plus UNMAP_GRANT_REF
// release it. A private writable mmap is refused, so every mapping here is MAP_SHARED.
import { constants } from 'node:fs';
import { type FdLike, FdObject, fdOf, KernelError, Mapping, type WaitOptions } from '@zcopy/core';
import {
  adoptOrClose,
  checkCharDevice,
  native as core,
  runBlocking,
  withErrorContext,
} from '@zcopy/core/internal';
import { GNTDEV_PATH } from '@zcopy/xen';
import { checkCount, checkDomids, checkNotify, checkRefs, type UnmapNotifyOptions } from './checks.js';
import {
  type GrantCopySegment,
  type GrantStatus,
  grantStatusNames,
  type PackedSegments,
  packSegments,
  releasePacked,
} from './copy.js';
import { GNTDEV_LIMIT_PATH, readLimit } from './hints.js';
import { binding, type CopyPlanHandle } from './native.js';
import './hints.js';

export { GNTDEV_PATH };

export type GrantAccess = 'read' | 'readwrite';

export interface MapGrantsOptions {
  /** 'readwrite' (default) or 'read': a read mapping of a grant works whether or not the grant is writable. */
  access?: GrantAccess;
}

/** The check behind open/adopt/borrow: the fd is gntdev (misc device 'xen/gntdev'). */
export function checkGntdev(fd: number): void {
  checkCharDevice(fd, 'the gntdev device (/dev/xen/gntdev)', 'misc', /^(xen!)?gntdev$/);
}

export class GrantMapper extends FdObject {
  readonly #mappings = new Set<GrantMapping>();

  /** Opens /dev/xen/gntdev (O_CLOEXEC); a path that is another file is a WrongFdError, closed again. */
  static open(path: string = GNTDEV_PATH): GrantMapper {
    if (typeof path !== 'string') throw new TypeError('path must be a string');
    return adoptOrClose(core.open(path, constants.O_RDWR), (fd) => {
      checkGntdev(fd);
      return new GrantMapper(fd, { owned: true });
    });
  }

  /** Take ownership of a gntdev fd (inherited, received); WrongFdError, the fd left alone, if it is not one. */
  static adopt(fd: number): GrantMapper {
    const n = fdOf(fd);
    checkGntdev(n);
    return new GrantMapper(core.adopt(n), { owned: true });
  }

  /** Use a gntdev fd someone else owns (never closed here). */
  static borrow(fd: FdLike): GrantMapper {
    const n = fdOf(fd);
    checkGntdev(n);
    return new GrantMapper(n, { owned: false });
  }

  /** Mappings of this mapper not yet unmapped. */
  get mappings(): ReadonlySet<GrantMapping> {
    return this.#mappings;
  }

  /**
   * Maps `refs` granted by `domid` (one domid, or one per ref) as one contiguous range of pages.
   * Errors: TypeError/RangeError for bad arguments; KernelError EINVAL from the ioctl for 0 or more than the
   * module's limit of refs; KernelError EINVAL from mmap when the hypervisor refuses a grant.
   */
  map(
    domid: number | readonly number[],
    refs: readonly number[] | Uint32Array,
    options: MapGrantsOptions = {},
  ): GrantMapping {
    const refList = checkRefs(refs);
    const domids = checkDomids(domid, refList.length);
    const access = options.access ?? 'readwrite';
    if (access !== 'read' && access !== 'readwrite')
      throw new TypeError(`access must be 'read' or 'readwrite'`);
    const fd = this.fd;
    const page = binding.constants.PAGE_SIZE;
    const index = binding.mapGrantRefs(fd, domids, refList);
    let mapping: Mapping;
    try {
      // The hint table says what an EINVAL from this mmap means (hints.ts: the hypervisor refused a grant).
      mapping = withErrorContext({ path: GNTDEV_PATH, grantMap: true }, () =>
        Mapping.map(fd, refList.length * page, { access, offset: index, shared: true }),
      );
    } catch (e) {
      // The batch stays reserved after a failed mmap: release it.
      binding.unmapGrantRef(fd, index, refList.length);
      throw e;
    }
    const m = new GrantMapping(this, mapping, index, refList, domids, access);
    this.#mappings.add(m);
    return m;
  }

  /**
   * libxengnttab's set_max_grants. Kernels since 4.x have no per-fd limit (the ioctl is gone: ENOTTY) and
   * limit each map request by the module parameter instead. Returns true when the kernel took the limit,
   * false when it has none to set; any other failure throws.
   */
  setMaxGrants(count: number): boolean {
    checkCount(count);
    try {
      binding.setMaxGrants(this.fd, count);
      return true;
    } catch (e) {
      if (e instanceof KernelError && e.code === 'ENOTTY') return false;
      throw e;
    }
  }

  /** The most refs one map() accepts (the gntdev module's limit), where the kernel shows it. */
  static get maxGrantsPerMap(): number | undefined {
    return readLimit(GNTDEV_LIMIT_PATH);
  }

  /** Grant copy, synchronous: one status per segment. */
  copy(segments: readonly GrantCopySegment[]): Array<GrantStatus | `unknown(${number})`> {
    const p = packSegments(segments);
    try {
      if (p.count === 0) return [];
      return grantStatusNames(binding.grantCopy(this.fd, p.words, p.count, p.buffers));
    } finally {
      releasePacked(p);
    }
  }

  /** Grant copy on the threadpool: the event loop keeps running while the hypervisor copies. */
  copyAsync(
    segments: readonly GrantCopySegment[],
    options: WaitOptions = {},
  ): Promise<Array<GrantStatus | `unknown(${number})`>> {
    let p: PackedSegments;
    try {
      p = packSegments(segments);
    } catch (e) {
      return Promise.reject(e);
    }
    if (p.count === 0) {
      releasePacked(p);
      return Promise.resolve([]);
    }
    // The addon copies the packed words when the call starts: the array is free again once it has started. The
    // statuses are named in runBlocking's map: no async function and await around it (a frame loop pays each
    // promise on every frame).
    return runBlocking(
      () => packedCall(p, () => binding.grantCopyAsync(this.fd, p.words, p.count, p.buffers)),
      {
        ...options,
        owner: this,
        what: 'grant copy',
        map: grantStatusNames,
      },
    );
  }

  /**
   * Checks and packs `segments` once for repeated copies (a frame every frame): `plan.run()` then costs one
   * ioctl and no per-segment JS work. The plan holds references to its local buffers while it lives.
   */
  prepareCopy(segments: readonly GrantCopySegment[]): GrantCopyPlan {
    const p = packSegments(segments);
    if (p.count === 0) {
      releasePacked(p);
      throw new RangeError('a copy plan needs at least one segment');
    }
    return new GrantCopyPlan(
      this,
      packedCall(p, () => binding.prepareCopy(p.words, p.count, p.buffers)),
      p.count,
    );
  }

  /** @internal */
  forget(m: GrantMapping): void {
    this.#mappings.delete(m);
  }

  protected override onClose(): void {
    // Closing the fd releases every batch in the kernel; detach the views first so none outlives its pages.
    for (const m of [...this.#mappings]) m.unmap();
  }
}

/** Grant copy segments packed once (GrantMapper.prepareCopy); run as often as needed. */
export class GrantCopyPlan {
  readonly #mapper: GrantMapper;
  readonly #plan: CopyPlanHandle;
  readonly segments: number;

  /** @internal */
  constructor(mapper: GrantMapper, plan: CopyPlanHandle, segments: number) {
    this.#mapper = mapper;
    this.#plan = plan;
    this.segments = segments;
  }

  /** One status per segment. */
  run(): Array<GrantStatus | `unknown(${number})`> {
    return grantStatusNames(binding.runCopy(this.#mapper.fd, this.#plan));
  }

  /** On the threadpool. */
  runAsync(options: WaitOptions = {}): Promise<Array<GrantStatus | `unknown(${number})`>> {
    return runBlocking(() => binding.runCopyAsync(this.#mapper.fd, this.#plan), {
      ...options,
      owner: this.#mapper,
      what: 'grant copy',
      map: grantStatusNames,
    });
  }
}

// Runs a native call that reads packed segments (it copies them before returning), then frees the packing array.
function packedCall<T>(p: PackedSegments, call: () => T): T {
  try {
    return call();
  } finally {
    releasePacked(p);
  }
}

export class GrantMapping implements Disposable {
  readonly #mapper: GrantMapper;
  readonly #mapping: Mapping;
  /** The gntdev file offset of the batch (the mmap offset). */
  readonly index: number;
  readonly refs: Uint32Array;
  readonly domids: Uint32Array;
  readonly access: GrantAccess;
  readonly count: number;
  #unmapped = false;

  /** @internal */
  constructor(
    mapper: GrantMapper,
    mapping: Mapping,
    index: number,
    refs: Uint32Array,
    domids: Uint32Array,
    access: GrantAccess,
  ) {
    this.#mapper = mapper;
    this.#mapping = mapping;
    this.index = index;
    this.refs = refs;
    this.domids = domids;
    this.access = access;
    this.count = refs.length;
  }

  get length(): number {
    return this.#mapping.length;
  }

  get mapped(): boolean {
    return !this.#unmapped;
  }

  /** The mapped pages (no copy). Writing through the Buffer of a 'read' mapping faults: don't. */
  get buffer(): Buffer {
    return this.#mapping.buffer;
  }

  get arrayBuffer(): ArrayBuffer {
    return this.#mapping.arrayBuffer;
  }

  /**
   * When this mapping goes (unmap, close, or process death), the kernel clears the byte at `clearByte` in the
   * granting domain's page and/or notifies event channel `port`. A later call replaces the earlier one.
   */
  setUnmapNotify(options: UnmapNotifyOptions): void {
    if (this.#unmapped) throw new RangeError('the mapping is unmapped');
    const { action, byteOffset, port } = checkNotify(options, this.length);
    binding.gntdevSetUnmapNotify(this.#mapper.fd, this.index + byteOffset, action, port);
  }

  /** Idempotent: the views detach, then the batch is released (its notify fires once both are gone). */
  unmap(): void {
    if (this.#unmapped) return;
    this.#unmapped = true;
    this.#mapper.forget(this);
    this.#mapping.unmap();
    if (!this.#mapper.closed) binding.unmapGrantRef(this.#mapper.fd, this.index, this.count);
  }

  [Symbol.dispose](): void {
    this.unmap();
  }
}
