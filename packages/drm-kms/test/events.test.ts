// Host: page-flip events matched to commits. A FIFO stands in for the DRM fd: the test writes drm_event_vblank
// records into it (the UAPI layout the addon static_asserts: type, length, user_data, tv_sec, tv_usec, sequence,
// crtc_id) and the native reader parses them when the fd polls readable.
import { execFileSync } from 'node:child_process';
import { constants, mkdtempSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { activePollers, Fd, TimeoutError } from '@zcopy/core';
import { afterAll, describe, expect, it } from 'vitest';
import { FlipEvents } from '../src/index.js';

const DRM_EVENT_VBLANK = 0x01;
const DRM_EVENT_FLIP_COMPLETE = 0x02;
const dir = mkdtempSync(join(tmpdir(), 'zcopy-kms-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function fifo(): Fd {
  const path = join(dir, `events-${n++}`);
  execFileSync('mkfifo', [path]);
  return Fd.open(path, constants.O_RDWR | constants.O_NONBLOCK);
}

function event(type: number, userData: number, crtcId: number, sequence: number): Buffer {
  const b = Buffer.alloc(32);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(32, 4);
  b.writeBigUInt64LE(BigInt(userData), 8);
  b.writeUInt32LE(100, 16);
  b.writeUInt32LE(sequence * 1000, 20);
  b.writeUInt32LE(sequence, 24);
  b.writeUInt32LE(crtcId, 28);
  return b;
}

const tick = () => new Promise((r) => setTimeout(r, 20));

describe('FlipEvents', () => {
  it('flips on different CRTCs resolve independently, each with its own event', async () => {
    using fd = fifo();
    const flips = new FlipEvents(fd);
    const u1 = flips.nextUserData();
    const u2 = flips.nextUserData();
    expect(u2).not.toBe(u1);
    let first: unknown;
    const p1 = flips.expect(u1, [10], { timeoutMs: 10_000 }).then((e) => {
      first = e;
      return e;
    });
    const p2 = flips.expect(u2, [20], { timeoutMs: 10_000 });
    expect(flips.pending).toBe(2);
    writeSync(fd.fd, event(DRM_EVENT_FLIP_COMPLETE, u2, 20, 7));
    expect(await p2).toEqual([{ crtcId: 20, sequence: 7, tvSec: 100, tvUsec: 7000 }]);
    await tick();
    expect(first).toBeUndefined(); // the other CRTC's flip is still in flight
    expect(flips.pending).toBe(1);
    writeSync(fd.fd, event(DRM_EVENT_FLIP_COMPLETE, u1, 10, 9));
    expect(await p1).toEqual([{ crtcId: 10, sequence: 9, tvSec: 100, tvUsec: 9000 }]);
    expect(flips.pending).toBe(0);
    await tick();
    expect(activePollers()).toBe(0); // nothing pending: the reader stopped polling
  });

  it('a commit on two CRTCs waits for both; foreign user_data and vblank events are skipped', async () => {
    using fd = fifo();
    const flips = new FlipEvents(fd);
    const u = flips.nextUserData();
    let done = false;
    const p = flips.expect(u, [10, 20], { timeoutMs: 10_000 }).finally(() => {
      done = true;
    });
    // One read gets all three records: a foreign flip, a vblank event, then this commit's first CRTC.
    writeSync(
      fd.fd,
      Buffer.concat([
        event(DRM_EVENT_FLIP_COMPLETE, u + 100, 10, 1),
        event(DRM_EVENT_VBLANK, u, 20, 2),
        event(DRM_EVENT_FLIP_COMPLETE, u, 10, 3),
      ]),
    );
    await tick();
    expect(done).toBe(false);
    writeSync(fd.fd, event(DRM_EVENT_FLIP_COMPLETE, u, 20, 4));
    expect((await p).map((e) => e.crtcId)).toEqual([10, 20]);
  });

  it('timeout, abort and close settle the wait and stop polling', async () => {
    const fd = fifo();
    const flips = new FlipEvents(fd);
    await expect(flips.expect(1, [10], { timeoutMs: 30 })).rejects.toBeInstanceOf(TimeoutError);
    const ac = new AbortController();
    const aborted = flips.expect(2, [10], { signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toThrow(/aborted/);
    await expect(flips.expect(3, [10], { signal: AbortSignal.abort() })).rejects.toThrow(/aborted/);
    expect(flips.pending).toBe(0);
    const closed = flips.expect(4, [10]);
    fd.close();
    await expect(closed).rejects.toThrow(/closed/);
    expect(flips.pending).toBe(0);
    await tick();
    expect(activePollers()).toBe(0);
    expect(() => flips.expect(5, [10], { timeoutMs: -1 })).toThrow(RangeError);
  });
});
