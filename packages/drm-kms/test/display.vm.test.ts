// VM: framebuffers, a modeset showing a drawn pattern, and its capture by writeback, on vkms (Linux 6.1).
import { openFdCount } from '@zcopy/core';
import { describe, expect, it } from 'vitest';
import { Format, Framebuffer, fourccName } from '../src/index.js';
import { drawPattern, kernelError, openVkms, procFdCount, rejectsWithKernelError } from './helpers.js';

describe('framebuffers', () => {
  it('ADDFB2 over a dumb buffer: listed by GETRESOURCES while open, gone after close (RMFB)', () => {
    using kms = openVkms();
    using buf = kms.drm.createDumb({ width: 64, height: 32, bpp: 32 });
    const fb = kms.addFramebuffer({ buffer: buf, format: 'XR24' });
    expect(fb).toBeInstanceOf(Framebuffer);
    expect([fb.width, fb.height, fb.format, fb.pitches]).toEqual([64, 32, Format.XRGB8888, [256]]);
    expect(kms.framebufferIds()).toEqual([fb.id]);
    expect(kms.liveObjects).toBe(1);
    fb.close();
    fb.close(); // idempotent
    expect(kms.framebufferIds()).toEqual([]);
    expect(kms.liveObjects).toBe(0);
    expect(() => fb.id).toThrow(/closed/);
  });

  it('the framebuffer keeps the buffer: closing the GEM handle first leaves it valid', () => {
    using kms = openVkms();
    const buf = kms.drm.createDumb({ width: 32, height: 32, bpp: 32 });
    using fb = kms.addFramebuffer({ buffer: buf });
    buf.close();
    expect(kms.drm.gemHandles()).toEqual([]);
    expect(kms.framebufferIds()).toEqual([fb.id]);
  });

  it('a format no plane scans out: EINVAL naming the format and the supported ones', () => {
    using kms = openVkms();
    using buf = kms.drm.createDumb({ width: 64, height: 64, bpp: 16 });
    const k = kernelError(() => kms.addFramebuffer({ buffer: buf, format: 'NV12', planes: undefined }));
    expect(k.code).toBe('EINVAL');
    expect(k.request).toBe('DRM_IOCTL_MODE_ADDFB2');
    expect(k.message).toContain('format NV12');
    expect(k.message).toContain('XR24');
    // A code the kernel does not know at all
    const j = kernelError(() => kms.addFramebuffer({ buffer: buf, format: 'ZZZZ' }));
    expect(j.code).toBe('EINVAL');
    expect(j.message).toContain('ZZZZ');
    expect(kms.framebufferIds()).toEqual([]);
  });

  it('a pitch below width × bytes per pixel: EINVAL naming the pitch rule', () => {
    using kms = openVkms();
    using buf = kms.drm.createDumb({ width: 64, height: 32, bpp: 32 });
    const k = kernelError(() => kms.addFramebuffer({ buffer: buf, pitch: 100 }));
    expect(k.code).toBe('EINVAL');
    expect(k.message).toContain('bad pitch');
    expect(k.message).toContain('64 × 4 = 256');
  });

  it('a framebuffer larger than its buffer: EINVAL naming the size rule', () => {
    using kms = openVkms();
    using buf = kms.drm.createDumb({ width: 64, height: 32, bpp: 32 });
    const k = kernelError(() => kms.addFramebuffer({ buffer: buf, height: 64 }));
    expect(k.code).toBe('EINVAL');
    expect(k.message).toContain('too small');
  });

  it('a size below the device minimum (vkms: 20x20): EINVAL naming the limits', () => {
    using kms = openVkms();
    using buf = kms.drm.createDumb({ width: 16, height: 16, bpp: 32 });
    const k = kernelError(() => kms.addFramebuffer({ buffer: buf }));
    expect(k.code).toBe('EINVAL');
    expect(k.message).toContain("width 16 is outside the device's 20..8192");
  });

  it('wrong JS arguments are TypeError/RangeError before any ioctl', () => {
    using kms = openVkms();
    using buf = kms.drm.createDumb({ width: 8, height: 8, bpp: 32 });
    expect(() => kms.addFramebuffer({} as never)).toThrow(TypeError);
    expect(() => kms.addFramebuffer({ buffer: 5 as never })).toThrow(TypeError);
    expect(() => kms.addFramebuffer({ buffer: buf, width: -1 })).toThrow(RangeError);
    expect(() => kms.addFramebuffer({ buffer: buf, format: 'XR2' })).toThrow(RangeError);
    expect(() => kms.addFramebuffer({ buffer: buf, pitch: 1.5 })).toThrow(TypeError);
    expect(() => kms.addFramebuffer({ buffer: buf, modifier: 1 as never })).toThrow(TypeError);
    // A handle of another fd: GEM handles are per fd
    using other = openVkms();
    using foreign = other.drm.createDumb({ width: 8, height: 8, bpp: 32 });
    expect(() => kms.addFramebuffer({ buffer: foreign })).toThrow(/another device fd/);
    expect(kms.framebufferIds()).toEqual([]);
  });

  it('blobs: create, read back, destroy; a MODE_ID blob round-trips a mode', () => {
    using kms = openVkms();
    const data = Buffer.from('zcopy blob bytes');
    const blob = kms.createBlob(data);
    expect(kms.blob(blob.id).equals(data)).toBe(true);
    const id = blob.id;
    blob.close();
    expect(kernelError(() => kms.blob(id)).code).toBe('ENOENT');
    const { mode } = kms.pick();
    using mb = kms.createModeBlob(mode);
    expect(kms.modeOfBlob(mb.id)).toEqual(mode);
    expect(kms.blob(mb.id).length).toBe(68);
    expect(() => kms.modeOfBlob(kms.createBlob(Buffer.alloc(4)).id)).toThrow(RangeError);
  });
});

describe('modeset and writeback capture', () => {
  it('setMode shows a drawn pattern; writeback captures exactly it (X byte written as 0xff)', async () => {
    const fds = procFdCount();
    const tracked = openFdCount();
    {
      using kms = openVkms();
      const { crtc, connector, plane, mode } = kms.pick();
      using fb = kms.createFramebuffer({ width: mode.hdisplay, height: mode.vdisplay, format: 'XRGB8888' });
      {
        using m = fb.map();
        drawPattern(m.buffer, fb.width, fb.height, fb.pitch, 1);
      }
      await kms.setMode(crtc, connector, mode, fb);

      const now = kms.crtc(crtc);
      expect(now.mode).toEqual(mode);
      expect(now.fbId).toBe(fb.id);
      expect(kms.plane(plane).fbId).toBe(fb.id);
      expect(kms.property(crtc, 'ACTIVE')).toBe(1n);
      expect(kms.property(connector, 'CRTC_ID')).toBe(BigInt(crtc.id));
      expect(kms.modeOfBlob(Number(kms.property(crtc, 'MODE_ID')))).toEqual(mode);
      expect(kms.liveObjects).toBe(1); // the mode blob of setMode is released; the CRTC keeps its own reference

      const frame = await kms.capture(crtc, { timeoutMs: 30_000 });
      // vkms (6.1) declares no encoder clones: the capture took the Virtual connector off the CRTC and put it back.
      expect(kms.property(connector, 'CRTC_ID')).toBe(BigInt(crtc.id));
      const wb = kms.connectors().find((c) => c.writeback)!;
      expect(kms.property(wb, 'CRTC_ID')).toBe(0n);
      expect(kms.crtc(crtc).fbId).toBe(fb.id);
      expect([frame.width, frame.height, fourccName(frame.format)]).toEqual([
        mode.hdisplay,
        mode.vdisplay,
        'XR24',
      ]);
      const expected = Buffer.alloc(frame.pitch * frame.height);
      drawPattern(expected, frame.width, frame.height, frame.pitch, 1);
      for (let i = 3; i < expected.length; i += 4) expected[i] = 0xff;
      expect(frame.data.length).toBe(expected.length);
      expect(Buffer.compare(frame.data, expected)).toBe(0);

      // A second capture after redrawing sees the new pixels (the scanout reads the mapping's pages).
      {
        using m = fb.map();
        drawPattern(m.buffer, fb.width, fb.height, fb.pitch, 2);
      }
      const again = await kms.capture(crtc, { timeoutMs: 30_000 });
      drawPattern(expected, again.width, again.height, again.pitch, 2);
      for (let i = 3; i < expected.length; i += 4) expected[i] = 0xff;
      expect(Buffer.compare(again.data, expected)).toBe(0);
      expect(kms.framebufferIds()).toEqual([fb.id]); // the capture buffers are gone
      expect(kms.drm.gemHandles()).toEqual([fb.buffer.handle]);
      await kms.disable(crtc);
      expect(kms.property(crtc, 'ACTIVE')).toBe(0n);
    }
    expect(procFdCount()).toBe(fds);
    expect(openFdCount()).toBe(tracked);
  });

  it('lower level: writeback into a framebuffer of mine, await capture.done, read its mapping', async () => {
    using kms = openVkms();
    const { crtc, connector, mode } = kms.pick();
    using shown = kms.createFramebuffer({ width: mode.hdisplay, height: mode.vdisplay });
    {
      using m = shown.map();
      drawPattern(m.buffer, shown.width, shown.height, shown.pitch, 9);
    }
    await kms.setMode(crtc, connector, mode, shown);
    using target = kms.createFramebuffer({ width: mode.hdisplay, height: mode.vdisplay });
    const capture = await kms.writeback(crtc, target, { timeoutMs: 30_000 });
    expect(capture.fence.closed).toBe(false);
    // The writeback connector's fence: driver vkms, timeline named after the connector
    const [info] = capture.fence.info().fences;
    expect([info?.driver, info?.timeline]).toEqual(['vkms', `CONNECTOR:${capture.connectorId}-Writeback-1`]);
    expect(capture.detached).toEqual([connector.id]);
    expect(kms.property(connector, 'CRTC_ID')).toBe(0n);
    expect(kms.property(capture.connectorId, 'CRTC_ID')).toBe(BigInt(crtc.id));
    await capture.done;
    expect(capture.fence.closed).toBe(true);
    await capture.reattach();
    expect(kms.property(connector, 'CRTC_ID')).toBe(BigInt(crtc.id));
    expect(kms.property(capture.connectorId, 'CRTC_ID')).toBe(0n);
    using got = target.map({ access: 'read' });
    using want = shown.map({ access: 'read' });
    for (const y of [0, mode.vdisplay >> 1, mode.vdisplay - 1]) {
      for (const x of [0, 1, mode.hdisplay - 1]) {
        const o = y * target.pitch + x * 4;
        expect([...got.buffer.subarray(o, o + 3)], `pixel ${x},${y}`).toEqual([
          ...want.buffer.subarray(o, o + 3),
        ]);
        expect(got.buffer[o + 3]).toBe(0xff);
      }
    }
  });

  it('writeback errors: a framebuffer not the mode size, and a CRTC that is off', async () => {
    using kms = openVkms();
    const { crtc, connector, mode } = kms.pick();
    using small = kms.createFramebuffer({ width: 64, height: 64 });
    await kms.disable(crtc); // a closed fd leaves its CRTC on (vkms lets the primary plane go): start from off
    expect(kms.crtc(crtc).mode).toBeNull();
    // Off: a writeback framebuffer needs an active CRTC.
    const off = await rejectsWithKernelError(kms.writeback(crtc, small));
    expect(off.code).toBe('EINVAL');
    expect(off.request).toBe('DRM_IOCTL_MODE_ATOMIC');
    expect(off.message).toContain('is off');
    await expect(kms.capture(crtc)).rejects.toThrow(/is off/);
    using fb = kms.createFramebuffer({ width: mode.hdisplay, height: mode.vdisplay });
    await kms.setMode(crtc, connector, mode, fb);
    const k = await rejectsWithKernelError(kms.writeback(crtc, small));
    expect(k.code).toBe('EINVAL');
    expect(k.message).toContain(`is 64x64, it must be the mode size ${mode.hdisplay}x${mode.vdisplay}`);
    // Without detaching the Virtual connector: its encoder and the writeback's are not clones.
    using full = kms.createFramebuffer({ width: mode.hdisplay, height: mode.vdisplay });
    const c = await rejectsWithKernelError(kms.writeback(crtc, full, { detachOthers: false }));
    expect(c.code).toBe('EINVAL');
    expect(c.message).toContain(`${connector.name} cannot share CRTC ${crtc.id}`);
    expect(kms.liveObjects).toBe(3);
    expect(kms.property(connector, 'CRTC_ID')).toBe(BigInt(crtc.id));
  });

  it('a mode change without allowModeset is EINVAL; testOnly checks without changing anything', async () => {
    using kms = openVkms();
    const { crtc, connector, plane, mode } = kms.pick();
    using fb = kms.createFramebuffer({ width: mode.hdisplay, height: mode.vdisplay });
    await kms.disable(crtc);
    using blob = kms.createModeBlob(mode);
    const req = kms
      .atomic()
      .set(connector, 'CRTC_ID', crtc.id)
      .set(crtc, 'MODE_ID', blob)
      .set(crtc, 'ACTIVE', true)
      .set(plane, 'FB_ID', fb)
      .set(plane, 'CRTC_ID', crtc.id)
      .set(plane, 'SRC_W', mode.hdisplay << 16)
      .set(plane, 'SRC_H', mode.vdisplay << 16)
      .set(plane, 'CRTC_W', mode.hdisplay)
      .set(plane, 'CRTC_H', mode.vdisplay);
    const refused = await req.test();
    expect(refused.ok).toBe(false);
    expect((refused.reason as { code?: string }).code).toBe('EINVAL');
    expect((await req.test({ allowModeset: true })).ok).toBe(true);
    expect(kms.property(crtc, 'ACTIVE')).toBe(0n); // test only
    const k = await rejectsWithKernelError(req.commit());
    expect(k.code).toBe('EINVAL');
    await req.commit({ allowModeset: true });
    expect(kms.property(crtc, 'ACTIVE')).toBe(1n);
  });
});
