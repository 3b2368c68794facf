// Typed view of the drm-prime addon (raw: fd numbers in, plain values out; validation and policy live in TS).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBinding } from '@zcopy/core';

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
}

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const binding: DrmBinding = loadBinding<DrmBinding>(packageDir, 'zcopy_drm_prime');
