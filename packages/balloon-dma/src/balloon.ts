// The Xen balloon's state (drivers/xen/xen-balloon.c, sysfs): what the domain has and what it is asked to have.
// A DMA-backed gntdev export does not move these numbers: the kernel hands the buffer's frames back to Xen
// directly (xenmem_reservation_decrease), past the balloon driver. The domain's memory as Xen counts it (xl list)
// drops by the buffer while it lives (measured in test/pvh-export of @zcopy/gntdev-dmabuf: 511 → 509 MiB for
// 512 pages, current_kb unchanged).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const BALLOON_SYSFS = '/sys/devices/system/xen_memory/xen_memory0';

export interface BalloonState {
  /** Memory the domain has now (info/current_kb). */
  currentKb: number;
  /** Memory the toolstack asks the domain to have (target_kb). */
  targetKb: number;
  /** Pages in the balloon, from low and high memory (info/low_kb, info/high_kb). */
  lowKb: number;
  highKb: number;
  /** Retry and delay settings of the balloon worker, where the kernel shows them. */
  retryCount?: number;
  maxRetryCount?: number;
  scheduleDelay?: number;
  maxScheduleDelay?: number;
}

function readNumber(dir: string, file: string): number | undefined {
  try {
    const n = Number(readFileSync(join(dir, file), 'utf8').trim());
    return Number.isSafeInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** The balloon's state, or undefined outside Xen (no xen_memory device). */
export function balloonState(dir: string = BALLOON_SYSFS): BalloonState | undefined {
  if (typeof dir !== 'string') throw new TypeError('dir must be a string');
  const currentKb = readNumber(dir, 'info/current_kb');
  const targetKb = readNumber(dir, 'target_kb');
  if (currentKb === undefined || targetKb === undefined) return undefined;
  const state: BalloonState = {
    currentKb,
    targetKb,
    lowKb: readNumber(dir, 'info/low_kb') ?? 0,
    highKb: readNumber(dir, 'info/high_kb') ?? 0,
  };
  const optional = {
    retryCount: 'retry_count',
    maxRetryCount: 'max_retry_count',
    scheduleDelay: 'schedule_delay',
    maxScheduleDelay: 'max_schedule_delay',
  } as const;
  for (const [key, file] of Object.entries(optional)) {
    const v = readNumber(dir, file);
    if (v !== undefined) state[key as keyof typeof optional] = v;
  }
  return state;
}
