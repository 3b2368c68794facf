// Page-flip completion: the DRM fd turns readable when the kernel queues an event; one reader per device (core's
// Pump: a uv_poll wait, never blocking the loop, only while a commit waits) reads and parses the events
// natively, and settles the commit waiting for each (matched by user_data, one event per CRTC of the commit).
import type { FdObject, WaitOptions } from '@zcopy/core';
import { checkWaitOptions, closableOf, Pump, type Waiter, waitFor } from '@zcopy/core/internal';
import { binding, type RawEvent } from './native.js';

/** A DRM_EVENT_FLIP_COMPLETE: the commit's new state is on screen on this CRTC. */
export interface FlipEvent {
  crtcId: number;
  /** The CRTC's vblank counter at the flip. */
  sequence: number;
  /** CLOCK_MONOTONIC time of the vblank, seconds and microseconds. */
  tvSec: number;
  tvUsec: number;
}

interface Pending extends Waiter<FlipEvent[]> {
  /** CRTCs still to report; empty: the first event settles it. */
  remaining: Set<number>;
  expectAny: boolean;
  events: FlipEvent[];
}

export class FlipEvents {
  readonly #device: FdObject;
  readonly #pending = new Map<number, Pending>();
  #nextUserData = 1;
  readonly #pump: Pump;

  constructor(device: FdObject) {
    this.#device = device;
    this.#pump = new Pump(device, {
      needed: () => this.#pending.size > 0,
      read: () => this.#dispatch(binding.readEvents(device.fd)),
      failed: (e) => this.failAll(e),
    });
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
    checkWaitOptions(options); // wrong options throw here, before the commit is sent
    const remaining = new Set(crtcs);
    return waitFor<FlipEvent[]>(options, {
      what: 'page flip',
      owner: closableOf(this.#device),
      start: (w) => {
        const entry: Pending = { ...w, remaining, expectAny: remaining.size === 0, events: [] };
        this.#pending.set(userData, entry);
        return () => {
          if (this.#pending.get(userData) === entry) this.#pending.delete(userData);
          this.#pump.update();
        };
      },
      kick: () => this.#pump.update(),
    });
  }

  /** Settles every pending wait with `err` (the device is closing, or reading its events failed). */
  failAll(err: unknown): void {
    for (const p of [...this.#pending.values()]) p.reject(err);
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
      if (p.expectAny || p.remaining.size === 0) p.resolve(p.events);
    }
  }
}
