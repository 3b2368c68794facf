// Waits on several fences at once, from any driver: each fence is a uv_poll on its own fd, so unlike the
// kernel's dma_fence_wait_any_timeout there is no restriction on where the fences come from.
import { type FdLike, fdOf, type WaitOptions } from '@zcopy/core';
import { waitFor } from '@zcopy/core/internal';
import type { SettledStatus } from './status.js';
import { fenceStatus, signaledAtNs, waitFence } from './sync-file.js';

export interface WaitAnyResult<T extends FdLike> {
  /** Index in the array given to waitAny of the fence that signalled first. */
  index: number;
  fence: T;
  status: SettledStatus;
}

function checkFences<T extends FdLike>(fences: readonly T[], what: string): readonly T[] {
  if (!Array.isArray(fences)) throw new TypeError(`${what}: fences must be an array of sync_file fds`);
  for (const [i, f] of fences.entries()) fdOf(f, `fences[${i}]`);
  return fences;
}

/**
 * Runs `body` with one AbortSignal that fires once the group's wait is over — it settled, timed out, was
 * aborted — so the per-fence waits still pending then stop (their pollers close) instead of lingering.
 */
function grouped<R>(
  what: string,
  options: WaitOptions | undefined,
  body: (signal: AbortSignal) => Promise<R>,
): Promise<R> {
  return waitFor<R>(options, {
    what,
    start(w) {
      const inner = new AbortController();
      body(inner.signal).then(w.resolve, w.reject);
      return () => inner.abort();
    },
  });
}

/** Resolves with every fence's final status once all have signalled (a fence that failed is { state: 'error' }). */
export async function waitAll(fences: readonly FdLike[], options?: WaitOptions): Promise<SettledStatus[]> {
  checkFences(fences, 'waitAll');
  return grouped('waitAll', options, (signal) =>
    Promise.all(fences.map((f) => waitFence(f, { signal }, 'waitAll'))),
  );
}

// Among fences that have signalled, the one with the earliest signal timestamp (ties: the lowest index).
function firstSignaled<T extends FdLike>(fences: readonly T[]): WaitAnyResult<T> | undefined {
  let best: { index: number; at: bigint; status: SettledStatus } | undefined;
  fences.forEach((fence, index) => {
    const status = fenceStatus(fence);
    if (status.state === 'active') return;
    const at = signaledAtNs(fence) ?? 0n;
    if (!best || at < best.at) best = { index, at, status };
  });
  return best && { index: best.index, fence: fences[best.index]!, status: best.status };
}

/**
 * Resolves with the fence that signalled first: the earliest kernel signal timestamp among those that have,
 * so two fences signalled before the event loop saw either still come back in signal order.
 */
export async function waitAny<T extends FdLike>(
  fences: readonly T[],
  options?: WaitOptions,
): Promise<WaitAnyResult<T>> {
  checkFences(fences, 'waitAny');
  if (fences.length === 0) throw new RangeError('waitAny needs at least one fence');
  return grouped('waitAny', options, async (signal) => {
    for (;;) {
      const done = firstSignaled(fences);
      if (done) return done;
      await Promise.race(fences.map((f) => waitFence(f, { signal }, 'waitAny')));
    }
  });
}
