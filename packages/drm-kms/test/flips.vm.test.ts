// VM: page flips on vkms (Linux 6.1): completion as Promises from DRM_EVENT_FLIP_COMPLETE, EBUSY, abort, leaks.
import { activePollers, openFdCount } from '@zcopy/core';
import { describe, expect, it } from 'vitest';
import { customMode, type DumbFramebuffer, type KmsDevice, type Output } from '../src/index.js';
import { drawPattern, openVkms, procFdCount, rejectsWithKernelError } from './helpers.js';

/** Two framebuffers of the mode's size with different patterns, the first shown by a modeset. */
async function twoBuffers(kms: KmsDevice, out: Output): Promise<[DumbFramebuffer, DumbFramebuffer]> {
  const fbs = [1, 2].map((seed) => {
    const fb = kms.createFramebuffer({ width: out.mode.hdisplay, height: out.mode.vdisplay });
    using m = fb.map();
    drawPattern(m.buffer, fb.width, fb.height, fb.pitch, seed);
    return fb;
  }) as [DumbFramebuffer, DumbFramebuffer];
  await kms.setMode(out.crtc, out.connector, out.mode, fbs[0]);
  return fbs;
}

describe('page flips', () => {
  it('flip between two framebuffers: each resolves with its CRTC and a later vblank; the frame shows it', async () => {
    using kms = openVkms();
    const out = kms.pick();
    const [a, b] = await twoBuffers(kms, out);
    using _a = a;
    using _b = b;
    const first = await kms.flip(out.crtc, b, { timeoutMs: 30_000 });
    expect(first.crtcId).toBe(out.crtc.id);
    expect(kms.crtc(out.crtc).fbId).toBe(b.id);
    const second = await kms.flip(out.crtc, a, { timeoutMs: 30_000 });
    expect(second.crtcId).toBe(out.crtc.id);
    expect(second.sequence).toBeGreaterThan(first.sequence);
    expect(second.tvSec * 1e6 + second.tvUsec).toBeGreaterThan(first.tvSec * 1e6 + first.tvUsec);
    expect(kms.plane(out.plane).fbId).toBe(a.id);
    await kms.flip(out.crtc, b, { timeoutMs: 30_000 });
    // What is on screen now is b: the writeback sees b's pattern.
    const frame = await kms.capture(out.crtc, { timeoutMs: 30_000 });
    const want = Buffer.alloc(frame.data.length);
    drawPattern(want, frame.width, frame.height, frame.pitch, 2);
    for (let i = 3; i < want.length; i += 4) want[i] = 0xff;
    expect(Buffer.compare(frame.data, want)).toBe(0);
    expect(kms.pendingFlips).toBe(0);
  });

  it('a second flip on the CRTC before the first completed: EBUSY with the rule; the first still resolves', async () => {
    using kms = openVkms();
    const out = kms.pick();
    // 2 frames a second (vkms times its vblanks by the mode): the second ioctl comes long before the next vblank.
    const slow = customMode({ width: out.mode.hdisplay, height: out.mode.vdisplay, refreshHz: 2 });
    const [a, b] = await twoBuffers(kms, { ...out, mode: slow });
    using _a = a;
    using _b = b;
    expect(kms.crtc(out.crtc).mode).toEqual(slow);
    const first = kms.flip(out.crtc, b, { timeoutMs: 30_000 });
    const busy = await rejectsWithKernelError(kms.flip(out.crtc, a, { timeoutMs: 30_000 }));
    expect(busy.code).toBe('EBUSY');
    expect(busy.request).toBe('DRM_IOCTL_MODE_ATOMIC');
    expect(busy.message).toContain('await its page-flip event');
    expect((await first).crtcId).toBe(out.crtc.id);
    expect(kms.crtc(out.crtc).fbId).toBe(b.id);
    // Once completed, the CRTC takes the next flip.
    await kms.flip(out.crtc, a, { timeoutMs: 30_000 });
    expect(kms.crtc(out.crtc).fbId).toBe(a.id);
  });

  it('abort stops the wait (the flip still happens); an aborted signal commits nothing; close rejects waits', async () => {
    const kms = openVkms();
    const out = kms.pick();
    const [a, b] = await twoBuffers(kms, out);
    const ac = new AbortController();
    const p = kms.flip(out.crtc, b, { signal: ac.signal });
    ac.abort(); // the event can only be read on a later turn of the loop
    await expect(p).rejects.toThrow(/aborted/);
    expect(kms.pendingFlips).toBe(0);
    // A blocking commit waits for the flip in flight; its stray event is ignored by the next flip's reader.
    await kms.atomic().set(out.plane, 'FB_ID', b).commit();
    expect(kms.crtc(out.crtc).fbId).toBe(b.id);
    await expect(kms.flip(out.crtc, a, { signal: AbortSignal.abort() })).rejects.toThrow(/aborted/);
    expect(kms.crtc(out.crtc).fbId).toBe(b.id); // nothing committed
    const ev = await kms.flip(out.crtc, a, { timeoutMs: 30_000 });
    expect(ev.crtcId).toBe(out.crtc.id);

    const pending = kms.flip(out.crtc, b);
    kms.close();
    await expect(pending).rejects.toThrow(/closed/);
    expect(a.closed && b.closed).toBe(true); // the fd went, and its framebuffers with it
    expect(activePollers()).toBe(0);
  });

  it('no fd, GEM handle, framebuffer or poller growth over 100 flips', async () => {
    using kms = openVkms();
    const out = kms.pick();
    const [a, b] = await twoBuffers(kms, out);
    using _a = a;
    using _b = b;
    await kms.flip(out.crtc, b, { timeoutMs: 30_000 }); // warm: the reader and its poller have run once
    const fds = procFdCount();
    const tracked = openFdCount();
    const handles = kms.drm.gemHandles();
    const fbs = kms.framebufferIds();
    expect(fbs).toEqual([a.id, b.id].sort((x, y) => x - y));
    let last = 0;
    for (let i = 0; i < 100; i++) {
      const ev = await kms.flip(out.crtc, i % 2 === 0 ? a : b, { timeoutMs: 30_000 });
      expect(ev.sequence).toBeGreaterThan(last);
      last = ev.sequence;
    }
    expect(procFdCount()).toBe(fds);
    expect(openFdCount()).toBe(tracked);
    expect(kms.drm.gemHandles()).toEqual(handles);
    expect(kms.framebufferIds()).toEqual(fbs);
    expect(kms.liveObjects).toBe(2);
    expect(kms.pendingFlips).toBe(0);
    expect(activePollers()).toBe(0);
  });
});
