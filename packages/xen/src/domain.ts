// Facts about the domain this process runs in, read from xenfs and sysfs (never cached: tests change them).
import { readFileSync } from 'node:fs';
import { CAPABILITIES_PATH, GUEST_TYPE_PATH } from './paths.js';

function readTrimmed(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** 'PV', 'PVH', 'HVM' (Xen guests), or undefined when the kernel does not say. */
export function guestType(path = GUEST_TYPE_PATH): string | undefined {
  return readTrimmed(path) || undefined;
}

/** The capabilities xenfs lists ('control_d' in dom0); [] where xenfs is not mounted. */
export function xenCapabilities(path = CAPABILITIES_PATH): string[] {
  return (readTrimmed(path) ?? '').split(/[\s,]+/).filter(Boolean);
}

/** True in the control domain (dom0): xenfs says control_d. */
export function isDom0(path = CAPABILITIES_PATH): boolean {
  return xenCapabilities(path).includes('control_d');
}
