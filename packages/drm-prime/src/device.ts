// DrmDevice: an owned (or borrowed) fd on a DRM card or render node, checked to be DRM when it is made.
import { constants } from 'node:fs';
import { type FdLike, FdObject, fdOf, native } from '@zcopy/core';
import { binding } from './binding.js';
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
import { type DrmNode, describeNode, type SysfsOptions } from './node.js';

/** DRM_IOCTL_VERSION: which driver serves the node. */
export interface DrmVersion {
  /** Driver name: 'vgem', 'vkms', 'virtio_gpu', 'i915', 'amdgpu', … */
  name: string;
  major: number;
  minor: number;
  patchlevel: number;
  /** The driver's date string, e.g. '20120112'. */
  date: string;
  /** The driver's description, e.g. 'Virtual GEM provider'. */
  desc: string;
}

function readVersion(fd: number): DrmVersion {
  const v = binding.version(fd);
  return {
    name: v.name,
    major: v.major,
    minor: v.minor,
    patchlevel: v.patchlevel,
    date: v.date,
    desc: v.desc,
  };
}

export class DrmDevice extends FdObject {
  /** The path it was opened from (undefined for adopted and borrowed fds). */
  readonly path: string | undefined;
  /** The driver, read once when the device was opened (it cannot change for an open fd). */
  readonly version: DrmVersion;
  #node: DrmNode | null | undefined;

  private constructor(fd: number, owned: boolean, path: string | undefined, version: DrmVersion) {
    super(fd, { owned });
    this.path = path;
    this.version = version;
  }

  /**
   * Open a DRM node read-write (O_CLOEXEC). ENOENT/EACCES… are KernelErrors with `path`; a node that is not
   * DRM fails with ENOTTY from DRM_IOCTL_VERSION and is closed again.
   */
  static open(path: string): DrmDevice {
    if (typeof path !== 'string') throw new TypeError(`path must be a string, got ${typeof path}`);
    if (path.length === 0) throw new TypeError('path must not be empty');
    const fd = native.open(path, constants.O_RDWR);
    let version: DrmVersion;
    try {
      version = readVersion(fd);
    } catch (e) {
      native.close(fd);
      throw e;
    }
    return new DrmDevice(fd, true, path, version);
  }

  /** Take ownership of a DRM fd opened elsewhere (checked with DRM_IOCTL_VERSION first; left alone if not DRM). */
  static adopt(fd: number): DrmDevice {
    const n = fdOf(fd);
    const version = readVersion(n);
    return new DrmDevice(native.adopt(n), true, undefined, version);
  }

  /** Use a DRM fd that someone else owns and will close. */
  static borrow(target: FdLike): DrmDevice {
    const n = fdOf(target);
    return new DrmDevice(n, false, undefined, readVersion(n));
  }

  /** Every card and render node under /dev/dri, with driver, bus and PRIME caps (see listDrmNodes). */
  static list(options?: ListOptions): DrmNodeInfo[] {
    return listDrmNodes(options);
  }

  /** Which node this is (card or render, device number) and its bus device, from sysfs. */
  node(options?: SysfsOptions): DrmNode {
    if (this.#node === undefined || options) {
      const node = describeNode(this.fd, options);
      if (!node) throw new Error(`fd ${this.fd} is not a character device`);
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
}
