// DrmDevice: an owned (or borrowed) fd on a DRM card or render node, checked to be DRM when it is made.
import { constants } from 'node:fs';
import { describeFd, type FdLike, FdObject, fdOf, WrongFdError } from '@zcopy/core';
import { adoptOrClose, checkFdKind, native } from '@zcopy/core/internal';
import type { DmaBuf } from '@zcopy/dma-buf';
import {
  clientCapValue,
  type DrmCapName,
  type DrmCaps,
  type DrmClientCapName,
  decodePrimeCaps,
  drmClientCapNumber,
  getCap,
  type PrimeCaps,
  readCaps,
} from './caps.js';
import { type DrmNodeInfo, type ListOptions, listDrmNodes } from './discovery.js';
import { createDumb, type DumbBuffer, type DumbBufferOptions } from './dumb.js';
import { GemHandle, HandleTable } from './handles.js';
import { binding } from './native.js';
import { type DrmNode, describeNode, type SysfsOptions } from './node.js';
import type { DrmOwner } from './owner.js';
import { importHandle } from './prime.js';
import { type DrmVersion, readVersion } from './version.js';

// The handle table of every device fd open through this module: an owner and its borrowers share one.
const tablesByFd = new Map<number, HandleTable>();

function tableFor(fd: number, fresh: boolean): HandleTable {
  let table = fresh ? undefined : tablesByFd.get(fd);
  if (!table || table.dead) {
    table = new HandleTable(fd);
    tablesByFd.set(fd, table);
  }
  table.users++;
  return table;
}

export type { DrmVersion };

// DRM_IOCTL_VERSION answers on every DRM node and ENOTTY elsewhere: the check that an fd is DRM.
function versionOf(fd: number): DrmVersion {
  let version: DrmVersion | undefined;
  checkFdKind(fd, 'a DRM device', () => {
    version = readVersion(fd);
  });
  return version!;
}

export class DrmDevice extends FdObject implements DrmOwner {
  /** The path it was opened from (undefined for adopted and borrowed fds). */
  readonly path: string | undefined;
  /** The driver, read once when the device was opened (it cannot change for an open fd). */
  readonly version: DrmVersion;
  #node: DrmNode | null | undefined;
  readonly #table: HandleTable;

  private constructor(
    fd: number,
    owned: boolean,
    path: string | undefined,
    version: DrmVersion,
    table: HandleTable,
  ) {
    super(fd, { owned });
    this.path = path;
    this.version = version;
    this.#table = table;
  }

  /**
   * Open a DRM node read-write (O_CLOEXEC). ENOENT/EACCES… are KernelErrors with `path`; a node that is not
   * DRM is a WrongFdError naming what it is (its cause DRM_IOCTL_VERSION's ENOTTY) and is closed again.
   */
  static open(path: string): DrmDevice {
    if (typeof path !== 'string') throw new TypeError(`path must be a string, got ${typeof path}`);
    if (path.length === 0) throw new TypeError('path must not be empty');
    return adoptOrClose(native.open(path, constants.O_RDWR), (fd) => {
      const version = versionOf(fd);
      return new DrmDevice(fd, true, path, version, tableFor(fd, true));
    });
  }

  /**
   * Take ownership of a DRM fd opened elsewhere or received (SCM_RIGHTS). Checked with DRM_IOCTL_VERSION first:
   * WrongFdError, and the fd left alone, if it is not DRM.
   */
  static adopt(fd: number): DrmDevice {
    const n = fdOf(fd);
    const version = versionOf(n);
    return new DrmDevice(native.adopt(n), true, undefined, version, tableFor(n, false));
  }

  /**
   * Use a DRM fd that someone else owns and will close. Borrowing a DrmDevice (or the fd number of one) shares
   * its GEM handle references, so a handle imported through either is counted once for the fd.
   */
  static borrow(target: FdLike): DrmDevice {
    const n = fdOf(target);
    const version = versionOf(n);
    const table = target instanceof DrmDevice ? target.#table : undefined;
    if (table) table.users++;
    return new DrmDevice(n, false, undefined, version, table ?? tableFor(n, false));
  }

  /** Every card and render node under /dev/dri, with driver, bus and PRIME caps (see listDrmNodes). */
  static list(options?: ListOptions): DrmNodeInfo[] {
    return listDrmNodes(options);
  }

  /** Which node this is (card or render, device number) and its bus device, from sysfs. */
  node(options?: SysfsOptions): DrmNode {
    if (this.#node === undefined || options) {
      const node = describeNode(this.fd, options);
      if (!node) throw new WrongFdError(this.fd, describeFd(this.fd), 'a character device');
      if (options) return node;
      this.#node = node;
    }
    return this.#node!;
  }

  /** DRM_IOCTL_GET_CAP. A name from DrmCap, or a raw number for caps newer than this package. */
  getCap(cap: DrmCapName | number): number {
    const fd = this.fd;
    return getCap(fd, cap);
  }

  /** Every known cap; null for those the driver does not answer (render-only drivers answer only a few). */
  caps(): DrmCaps {
    return readCaps(this.fd);
  }

  /** DRM_CAP_PRIME decoded: can this driver import and export dma-bufs? */
  prime(): PrimeCaps {
    return decodePrimeCaps(this.getCap('PRIME'));
  }

  /** DRM_IOCTL_SET_CLIENT_CAP: opt this fd into a client capability (e.g. ATOMIC, UNIVERSAL_PLANES). */
  setClientCap(cap: DrmClientCapName | number, value: number | boolean = true): void {
    const n = drmClientCapNumber(cap);
    const v = clientCapValue(value);
    binding.setClientCap(this.fd, n, v);
  }

  /**
   * MODE_CREATE_DUMB: a CPU-drawable buffer of width × height pixels of bpp bits. Only on a card node (render
   * nodes: EACCES); zero sizes and sizes beyond 32 bits are the kernel's EINVAL.
   */
  createDumb(options: DumbBufferOptions): DumbBuffer {
    return createDumb(this, this.#table, options);
  }

  /**
   * PRIME_FD_TO_HANDLE: any dma-buf (a DmaBuf, an FdObject or a fd number; heap, udmabuf, another DRM device…)
   * as a reference to a GEM handle of this fd. Importing a buffer this fd already holds returns another
   * reference to the same kernel handle (`handle` equal, `refs` counting both); it stays open until both close.
   */
  importDmaBuf(dmabuf: FdLike): GemHandle {
    const handle = importHandle(this, dmabuf);
    return new GemHandle(this, this.#table, handle);
  }

  /** PRIME_HANDLE_TO_FD of a handle of this device: `handle.exportDmaBuf(options)`. */
  exportDmaBuf(handle: GemHandle, options?: { access?: 'readwrite' | 'read' }): DmaBuf {
    if (!(handle instanceof GemHandle)) throw new TypeError('handle must be a GemHandle of this device');
    if (!(handle.device instanceof DrmDevice) || handle.device.#table !== this.#table)
      throw new TypeError('handle belongs to another device fd: GEM handles are per fd');
    return handle.exportDmaBuf(options);
  }

  /** Kernel GEM handles this fd holds through zcopy (each with at least one open reference), ascending. */
  gemHandles(): number[] {
    return this.#table.handles();
  }

  /**
   * Closing the owner closes the fd, which frees every handle on it in the kernel: all handle objects of the fd
   * (borrowers' too) become closed. Closing a borrower drops the references it made.
   */
  protected override onClose(): void {
    const table = this.#table;
    table.users--;
    if (this.owned) table.kill();
    else for (const h of table.holders()) if (h.device === this) h.close();
    if ((this.owned || table.users === 0) && tablesByFd.get(table.fd) === table) tablesByFd.delete(table.fd);
  }
}
