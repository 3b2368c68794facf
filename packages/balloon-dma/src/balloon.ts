// The Xen balloon's state (drivers/xen/xen-balloon.c, sysfs): what the domain has and what it is asked to have.
// DMA backings take contiguous memory out of the balloon, so current_kb moves while such a buffer lives.
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
