// Typed view of the drm-prime addon (raw: fd numbers in, plain values out; validation and policy live in TS).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBinding } from '@zcopy/core/internal';

export interface RawVersion {
  major: number;
  minor: number;
  patchlevel: number;
  name: string;
  date: string;
  desc: string;
}

export interface DrmBinding {
  /** DRM_IOCTL_VERSION. */
  version(fd: number): RawVersion;
  /** DRM_IOCTL_GET_CAP. */
  getCap(fd: number, capability: number): number;
  /** DRM_IOCTL_SET_CLIENT_CAP. */
  setClientCap(fd: number, capability: number, value: number): void;
  /** DRM_CAP_* from the UAPI header, without the prefix. */
  caps: Record<string, number>;
  /** DRM_CLIENT_CAP_* from the UAPI header, without the prefix. */
  clientCaps: Record<string, number>;
  /** DRM_PRIME_CAP_IMPORT / DRM_PRIME_CAP_EXPORT. */
  primeCapBits: { IMPORT: number; EXPORT: number };

  /** DRM_IOCTL_MODE_CREATE_DUMB (flags 0). */
  createDumb(fd: number, width: number, height: number, bpp: number): RawDumb;
  /** DRM_IOCTL_MODE_MAP_DUMB: the fake offset to mmap the device fd at. */
  mapDumb(fd: number, handle: number): number;
  /** DRM_IOCTL_GEM_CLOSE. */
  gemClose(fd: number, handle: number): void;
  /** DRM_IOCTL_PRIME_HANDLE_TO_FD; DRM_CLOEXEC is always added. Returns the new dma-buf fd (untracked). */
  handleToFd(fd: number, handle: number, flags: number): number;
  /** DRM_IOCTL_PRIME_FD_TO_HANDLE. */
  fdToHandle(fd: number, dmabufFd: number): number;
  /** DRM_CLOEXEC / DRM_RDWR (open(2)'s O_CLOEXEC / O_RDWR). */
  primeFlags: { CLOEXEC: number; RDWR: number };
  /** DRM_IOCTL_VGEM_FENCE_ATTACH: returns the fence id. Only on a vgem fd. */
  vgemFenceAttach(fd: number, handle: number, flags: number): number;
  /** DRM_IOCTL_VGEM_FENCE_SIGNAL. Only on a vgem fd. */
  vgemFenceSignal(fd: number, fence: number, flags: number): void;
  VGEM_FENCE_WRITE: number;
}

export interface RawDumb {
  handle: number;
  pitch: number;
  size: number;
}

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const binding: DrmBinding = loadBinding<DrmBinding>(packageDir, 'zcopy_drm_prime');
