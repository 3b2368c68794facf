// Fence status as the kernel reports it (1 signalled, 0 active, -errno error), as a tagged union.
import { errnoName } from '@zcopy/core';

export type FenceStatus =
  | { readonly state: 'active' }
  | { readonly state: 'signaled' }
  /** Signalled with an error: the work behind the fence failed (sw_sync: ENOENT when its timeline closed). */
  | { readonly state: 'error'; readonly errno: number; readonly code: string };

/** A status once the fence has signalled (with or without an error). */
export type SettledStatus = Exclude<FenceStatus, { state: 'active' }>;

const ACTIVE: FenceStatus = Object.freeze({ state: 'active' });
const SIGNALED: FenceStatus = Object.freeze({ state: 'signaled' });

export function decodeStatus(raw: number): FenceStatus {
  if (raw > 0) return SIGNALED;
  if (raw === 0) return ACTIVE;
  return Object.freeze({ state: 'error', errno: -raw, code: errnoName(-raw) });
}
