// GntdevDmabuf: the dma-buf side of /dev/xen/gntdev.
// - exportFromRefs: another domain's grant refs become a dma-buf in this domain (no copy). Only in an
//   auto-translated (PVH/HVM) domain. Upstream's exporter cannot be mmapped or vmapped: CPU access goes through a
//   device that imported it, or a grant mapping of the same refs (the images' kernel patch adds it: cpu-access.ts).
// - waitReleased: the release handshake; the kernel finds the buffer by the fd number it returned at export.
// - importToRefs: any dma-buf's pages granted to another domain; the import holds the buffer until release().
import { constants } from 'node:fs';
import { type DmaBacking, dmaBackingFlags } from '@zcopy/balloon-dma';
import { type FdLike, FdObject, fdOf, TimeoutError, type WaitOptions } from '@zcopy/core';
import {
  adoptOrClose,
  checkCharDevice,
  checkWaitOptions,
  native as core,
  runBlocking,
} from '@zcopy/core/internal';
import { DmaBuf } from '@zcopy/dma-buf';
import { checkDomid, checkRefs, GNTDEV_PATH } from '@zcopy/xen';
import { GrantDmaBuf } from './cpu-access.js';
import './errors.js';
import { binding } from './native.js';

export { GNTDEV_PATH };
/** The page size of this kernel: every count of refs is a count of these pages. */
export const PAGE_SIZE = binding.constants.PAGE_SIZE;
/** The longest single wait the kernel takes (wait_to_ms is a u32). */
const MAX_WAIT_MS = 0xffffffff;

export interface ExportOptions {
  /** The memory behind the buffer (see @zcopy/balloon-dma): 'pages' (default), 'wc' or 'coherent'. */
  backing?: DmaBacking | readonly DmaBacking[];
}

export type ReleaseResult = 'released' | 'already-released';

function checkDmaBuf(dmabuf: unknown, what: string): DmaBuf {
  if (!(dmabuf instanceof DmaBuf)) throw new TypeError(`${what} must be a DmaBuf`);
  return dmabuf;
}

function checkGntdevFd(fd: number): void {
  checkCharDevice(fd, 'the gntdev device (/dev/xen/gntdev)', 'misc', /^(xen!)?gntdev$/);
}

export class GntdevDmabuf extends FdObject {
  // Kept apart from FdObject's fd: onClose runs after the fd getter has started to throw.
  readonly #rawFd: number;
  /** Exports of this fd → the fd number the kernel knows them by (it stays valid after the DmaBuf closes). */
  readonly #exported = new WeakMap<DmaBuf, number>();
  readonly #imports = new Set<ImportedRefs>();

  protected constructor(fd: number, owned: boolean) {
    super(fd, { owned });
    this.#rawFd = fd;
  }

  /**
   * Opens /dev/xen/gntdev (O_CLOEXEC). Each open file keeps its own exports and imports. A path that is another
   * file is a WrongFdError, closed again.
   */
  static open(path: string = GNTDEV_PATH): GntdevDmabuf {
    if (typeof path !== 'string') throw new TypeError('path must be a string');
    return adoptOrClose(core.open(path, constants.O_RDWR), (fd) => {
      checkGntdevFd(fd);
      return new GntdevDmabuf(fd, true);
    });
  }

  /** Take ownership of a gntdev fd (inherited, received); WrongFdError, the fd left alone, if it is not one. */
  static adopt(fd: number): GntdevDmabuf {
    const n = fdOf(fd);
    checkGntdevFd(n);
    return new GntdevDmabuf(core.adopt(n), true);
  }

  /** Use a gntdev fd someone else owns (never closed here). */
  static borrow(fd: FdLike): GntdevDmabuf {
    const n = fdOf(fd);
    checkGntdevFd(n);
    return new GntdevDmabuf(n, false);
  }

  /**
   * IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS: `refs` granted by `domid` become one dma-buf of refs.length pages.
   * Errors: TypeError/RangeError for bad arguments (and 'wc' with 'coherent'); KernelError EINVAL in a PV domain
   * (the message says so), ENOTTY without CONFIG_XEN_GNTDEV_DMABUF.
   */
  exportFromRefs(
    domid: number,
    refs: readonly number[] | Uint32Array,
    options: ExportOptions = {},
  ): GrantDmaBuf {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const d = checkDomid(domid);
    const list = checkRefs(refs);
    const flags = dmaBackingFlags(options.backing, binding.constants);
    const fd = binding.expFromRefs(this.fd, flags, d, list);
    const buf = GrantDmaBuf.ownExport(fd);
    this.#exported.set(buf, fd);
    return buf;
  }

  /**
   * IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED, on the threadpool: resolves 'released' once every user of a buffer
   * this fd exported has let go (close your own DmaBuf too), or 'already-released' when it was gone before the
   * call (the kernel's ENOENT, which its header says is no error). TimeoutError after timeoutMs.
   */
  async waitReleased(dmabuf: DmaBuf, options: WaitOptions = {}): Promise<ReleaseResult> {
    checkDmaBuf(dmabuf, 'dmabuf');
    const { timeoutMs } = checkWaitOptions(options);
    const number = this.#exported.get(dmabuf);
    if (number === undefined) throw new RangeError('the dma-buf was not exported by this GntdevDmabuf');
    const fd = this.fd;
    const what = 'waitReleased';
    const waitMs = Math.min(timeoutMs ?? MAX_WAIT_MS, MAX_WAIT_MS);
    const r = await runBlocking(() => binding.expWaitReleasedAsync(fd, number, waitMs), {
      ...options,
      owner: this,
      what,
    });
    if (r === binding.constants.ETIMEDOUT) throw new TimeoutError(what, timeoutMs ?? waitMs);
    return r === binding.constants.ENOENT ? 'already-released' : 'released';
  }

  /**
   * IOCTL_GNTDEV_DMABUF_IMP_TO_REFS: grants every page of `dmabuf` to `domid` (read-write). The import keeps
   * its own reference to the buffer (a dup'ed fd) until release() or this object's close.
   * Errors: RangeError when the buffer is not whole pages; KernelError EINVAL when its pages start within a page,
   * others with the rule in the message.
   */
  importToRefs(dmabuf: DmaBuf, domid: number): ImportedRefs {
    checkDmaBuf(dmabuf, 'dmabuf');
    const d = checkDomid(domid);
    const size = dmabuf.size;
    if (size === 0 || size % PAGE_SIZE !== 0)
      throw new RangeError(
        `the dma-buf is ${size} bytes: only whole pages (${PAGE_SIZE} bytes) can be granted`,
      );
    // The kernel keys the import by fd number: an fd of our own keeps that number ours until release.
    const own = dmabuf.dup();
    let refs: Uint32Array;
    try {
      refs = binding.impToRefs(this.fd, own.fd, d, size / PAGE_SIZE);
    } catch (e) {
      own.close();
      throw e;
    }
    const imp = new ImportedRefs(this, own, d, refs);
    this.#imports.add(imp);
    return imp;
  }

  /** Imports of this fd not yet released. */
  get imports(): ReadonlySet<ImportedRefs> {
    return this.#imports;
  }

  /** @internal */
  releaseImport(imp: ImportedRefs, dmabufFd: number): void {
    this.#imports.delete(imp);
    binding.impRelease(this.#rawFd, dmabufFd);
  }

  protected override onClose(): void {
    // Closing the gntdev file would release them too; doing it here also closes our dup'ed fds.
    for (const imp of [...this.#imports]) imp.release();
  }
}

/** The grant refs of an imported dma-buf, granted to one domain. */
export class ImportedRefs implements Disposable {
  readonly #dev: GntdevDmabuf;
  readonly #dmabuf: DmaBuf;
  readonly domid: number;
  readonly refs: Uint32Array;
  #released = false;

  /** @internal */
  constructor(dev: GntdevDmabuf, dmabuf: DmaBuf, domid: number, refs: Uint32Array) {
    this.#dev = dev;
    this.#dmabuf = dmabuf;
    this.domid = domid;
    this.refs = refs;
  }

  get count(): number {
    return this.refs.length;
  }

  get released(): boolean {
    return this.#released;
  }

  /**
   * IOCTL_GNTDEV_DMABUF_IMP_RELEASE: ends the grants and drops the buffer. Idempotent. The peer should have
   * unmapped first: a grant still mapped stays in use by Xen until it is unmapped.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    try {
      this.#dev.releaseImport(this, this.#dmabuf.fd);
    } finally {
      this.#dmabuf.close();
    }
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
