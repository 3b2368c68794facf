// Page-flip completion: the DRM fd turns readable when the kernel queues an event; one reader per device waits
// for that through core's uv_poll (never blocking the loop), reads and parses the events natively, and settles
// the commit waiting for each (matched by user_data, one event per CRTC of the commit).
import {
  abortReason,
  checkWaitOptions,
  type FdObject,
  TimeoutError,
  type WaitOptions,
  waitReadable,
} from '@zcopy/core';
import { binding, type RawEvent } from './binding.js';

/** A DRM_EVENT_FLIP_COMPLETE: the commit's new state is on screen on this CRTC. */
export interface FlipEvent {
  crtcId: number;
  /** The CRTC's vblank counter at the flip. */
  sequence: number;
  /** CLOCK_MONOTONIC time of the vblank, seconds and microseconds. */
  tvSec: number;
  tvUsec: number;
}

interface Pending {
  /** CRTCs still to report; empty: the first event settles it. */
  remaining: Set<number>;
  expectAny: boolean;
  events: FlipEvent[];
  settle(err: unknown, events?: FlipEvent[]): void;
}

export class FlipEvents {
  readonly #device: FdObject;
  readonly #pending = new Map<number, Pending>();
  #nextUserData = 1;
  #stop: AbortController | undefined;

  constructor(device: FdObject) {
    this.#device = device;
  }

  /** Commits whose events have not all arrived. */
  get pending(): number {
    return this.#pending.size;
  }

  /** A fresh user_data for a commit (the kernel copies it into each of the commit's events). */
  nextUserData(): number {
    const n = this.#nextUserData;
    this.#nextUserData = n >= 0x7fff_ffff ? 1 : n + 1;
    return n;
  }

  /**
   * Resolves with the events of `userData` once every CRTC in `crtcs` has reported (the first event when `crtcs`
   * is empty). Register right after the commit ioctl returns: events are only read on a later loop turn.
   */
  expect(userData: number, crtcs: Iterable<number>, options?: WaitOptions): Promise<FlipEvent[]> {
    const { timeoutMs, signal } = checkWaitOptions(options);
    return new Promise<FlipEvent[]>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => entry.settle(abortReason(signal!));
      const remaining = new Set(crtcs);
      const entry: Pending = {
        remaining,
        expectAny: remaining.size === 0,
        events: [],
        settle: (err, events) => {
          if (this.#pending.get(userData) !== entry) return;
          this.#pending.delete(userData);
          if (timer) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          if (this.#pending.size === 0) this.#stopReading();
          if (err !== undefined && err !== null) reject(err);
          else resolve(events ?? []);
        },
      };
      this.#pending.set(userData, entry);
      if (signal?.aborted) {
        entry.settle(abortReason(signal));
        return;
      }
      if (timeoutMs !== undefined)
        timer = setTimeout(() => entry.settle(new TimeoutError('page flip', timeoutMs)), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#startReading();
    });
  }

  /** Settles every pending wait with `err` (the device is closing). */
  failAll(err: unknown): void {
    for (const p of [...this.#pending.values()]) p.settle(err);
  }

  #startReading(): void {
    if (this.#stop) return;
    const stop = new AbortController();
    this.#stop = stop;
    void this.#read(stop.signal);
  }

  #stopReading(): void {
    this.#stop?.abort();
    this.#stop = undefined;
  }

  async #read(signal: AbortSignal): Promise<void> {
    try {
      while (!signal.aborted) {
        await waitReadable(this.#device, { signal });
        this.#dispatch(binding.readEvents(this.#device.fd));
      }
    } catch (e) {
      // Stopped on purpose (nothing pending), or the device closed / poll failed: every waiter learns why.
      if (!signal.aborted) {
        if (this.#stop?.signal === signal) this.#stop = undefined;
        this.failAll(e);
      }
    }
  }

  #dispatch(events: RawEvent[]): void {
    for (const e of events) {
      if (e.type !== binding.eventTypes.FLIP_COMPLETE || typeof e.userData !== 'number') continue;
      const p = this.#pending.get(e.userData);
      if (!p) continue; // another user of the fd, or a commit given up on (timeout, abort)
      const crtcId = e.crtcId ?? 0;
      p.events.push({
        crtcId,
        sequence: Number(e.sequence ?? 0),
        tvSec: e.tvSec ?? 0,
        tvUsec: e.tvUsec ?? 0,
      });
      p.remaining.delete(crtcId);
      if (p.expectAny || p.remaining.size === 0) p.settle(null, p.events);
    }
  }
}
