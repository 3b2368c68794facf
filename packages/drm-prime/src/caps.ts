// DRM capabilities: names ↔ the UAPI header's numbers, argument checks, and what the kernel's errnos mean.
import { KernelError, ZcopyError } from '@zcopy/core';
import { registerHints } from '@zcopy/core/internal';
import { binding } from './native.js';

/** DRM_CAP_* names (without the prefix) this package knows; the numbers come from the kernel header. */
export const drmCapNames = [
  'DUMB_BUFFER',
  'VBLANK_HIGH_CRTC',
  'DUMB_PREFERRED_DEPTH',
  'DUMB_PREFER_SHADOW',
  'PRIME',
  'TIMESTAMP_MONOTONIC',
  'ASYNC_PAGE_FLIP',
  'CURSOR_WIDTH',
  'CURSOR_HEIGHT',
  'ADDFB2_MODIFIERS',
  'PAGE_FLIP_TARGET',
  'CRTC_IN_VBLANK_EVENT',
  'SYNCOBJ',
  'SYNCOBJ_TIMELINE',
] as const;
export type DrmCapName = (typeof drmCapNames)[number];

/** DRM_CLIENT_CAP_* names (without the prefix). */
export const drmClientCapNames = [
  'STEREO_3D',
  'UNIVERSAL_PLANES',
  'ATOMIC',
  'ASPECT_RATIO',
  'WRITEBACK_CONNECTORS',
] as const;
export type DrmClientCapName = (typeof drmClientCapNames)[number];

/** The caps a driver without modesetting (render-only, e.g. vgem) still answers; the rest give EOPNOTSUPP. */
export const renderOnlyCaps: readonly DrmCapName[] = [
  'TIMESTAMP_MONOTONIC',
  'PRIME',
  'SYNCOBJ',
  'SYNCOBJ_TIMELINE',
];

/** DRM_CAP_* numbers by name, as compiled from the kernel header. */
export const DrmCap: Readonly<Record<DrmCapName, number>> = Object.freeze(pick(binding.caps, drmCapNames));
/** DRM_CLIENT_CAP_* numbers by name. */
export const DrmClientCap: Readonly<Record<DrmClientCapName, number>> = Object.freeze(
  pick(binding.clientCaps, drmClientCapNames),
);

function pick<K extends string>(table: Record<string, number>, names: readonly K[]): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const n of names) {
    const v = table[n];
    if (typeof v !== 'number')
      throw new ZcopyError('ERR_ZCOPY_UNSUPPORTED', `zcopy_drm_prime was built without DRM_CAP ${n}`);
    out[n] = v;
  }
  return out;
}

export interface PrimeCaps {
  /** DRM_PRIME_CAP_IMPORT: the driver turns dma-buf fds into GEM handles. */
  import: boolean;
  /** DRM_PRIME_CAP_EXPORT: the driver turns GEM handles into dma-buf fds. */
  export: boolean;
}

/** Decode the DRM_CAP_PRIME value. */
export function decodePrimeCaps(value: number): PrimeCaps {
  return {
    import: (value & binding.primeCapBits.IMPORT) !== 0,
    export: (value & binding.primeCapBits.EXPORT) !== 0,
  };
}

function capNumber<K extends string>(
  cap: K | number,
  table: Readonly<Record<K, number>>,
  what: string,
): number {
  if (typeof cap === 'number') {
    if (!Number.isSafeInteger(cap)) throw new TypeError(`${what} must be a name or an integer, got ${cap}`);
    if (cap < 0) throw new RangeError(`${what} must be non-negative, got ${cap}`);
    return cap;
  }
  if (typeof cap !== 'string') throw new TypeError(`${what} must be a name or an integer, got ${typeof cap}`);
  const n = Object.hasOwn(table, cap) ? table[cap] : undefined;
  if (n === undefined)
    throw new TypeError(`unknown ${what} '${cap}' (expected one of ${Object.keys(table).join(', ')})`);
  return n;
}

/** The number for a DRM_CAP name (numbers pass through, so caps newer than this package can be asked). */
export function drmCapNumber(cap: DrmCapName | number): number {
  return capNumber(cap, DrmCap, 'capability');
}

/** The number for a DRM_CLIENT_CAP name (or a raw number). */
export function drmClientCapNumber(cap: DrmClientCapName | number): number {
  return capNumber(cap, DrmClientCap, 'client capability');
}

/** Client cap values are u64 flags/levels; booleans mean 1/0. */
export function clientCapValue(value: number | boolean): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new TypeError(`client capability value must be a boolean or an integer, got ${String(value)}`);
  if (value < 0) throw new RangeError(`client capability value must be non-negative, got ${value}`);
  return value;
}

/** getCap(fd, cap); KernelError on failure. */
export function getCap(fd: number, cap: DrmCapName | number): number {
  return binding.getCap(fd, drmCapNumber(cap));
}

/** Every known cap, null where the driver does not answer it (EOPNOTSUPP without modesetting, EINVAL if unknown). */
export type DrmCaps = Record<DrmCapName, number | null>;

export function readCaps(fd: number): DrmCaps {
  const out = {} as DrmCaps;
  for (const name of drmCapNames) {
    try {
      out[name] = binding.getCap(fd, DrmCap[name]);
    } catch (e) {
      if (
        e instanceof KernelError &&
        (e.code === 'EINVAL' || e.code === 'ENOTSUP' || e.code === 'EOPNOTSUPP')
      )
        out[name] = null;
      else throw e;
    }
  }
  return out;
}

// Node names errno 95 ENOTSUP; the kernel says EOPNOTSUPP (the same number on Linux). Register both.
const noKms = {
  getCap:
    'this driver has no modesetting (KMS): it answers only TIMESTAMP_MONOTONIC, PRIME, SYNCOBJ and SYNCOBJ_TIMELINE',
  setClientCap: 'client caps need a modesetting (KMS) driver, and ATOMIC needs a driver with atomic support',
};
registerHints('DRM_IOCTL_GET_CAP', {
  EINVAL: 'the kernel does not know this capability (newer than the running kernel?)',
  ENOTSUP: noKms.getCap,
  EOPNOTSUPP: noKms.getCap,
});
registerHints('DRM_IOCTL_SET_CLIENT_CAP', {
  EACCES: 'client caps cannot be set on a render node (/dev/dri/renderD*): open the card node',
  EINVAL:
    'the kernel does not know this client capability, or the value is out of range (WRITEBACK_CONNECTORS needs ATOMIC first)',
  ENOTSUP: noKms.setClientCap,
  EOPNOTSUPP: noKms.setClientCap,
});
registerHints('DRM_IOCTL_VERSION', {
  ENOTTY: 'the fd is not a DRM device node (expected /dev/dri/card* or /dev/dri/renderD*)',
});
