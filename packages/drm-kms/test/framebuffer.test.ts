// Host: framebuffer argument checks and which ADDFB2 rule an EINVAL broke.
import { describe, expect, it } from 'vitest';
import { addFbRuleBroken, checkFramebufferOptions, Format } from '../src/index.js';

const limits = {
  formats: new Set([Format.XRGB8888, Format.ARGB8888]),
  minWidth: 20,
  maxWidth: 8192,
  minHeight: 20,
  maxHeight: 8192,
};
const plane = (pitch: number) => ({ buffer: {} as never, pitch, offset: 0 });
const fb = (over: object) => ({
  width: 64,
  height: 32,
  format: Format.XRGB8888,
  flags: 0,
  planes: [plane(256)],
  modifier: undefined,
  ...over,
});

describe('framebuffer options', () => {
  it('TypeError/RangeError for wrong JS arguments', () => {
    expect(() => checkFramebufferOptions(null as never, 3)).toThrow(TypeError);
    expect(() => checkFramebufferOptions({}, 3)).toThrow(/buffer/);
    expect(() => checkFramebufferOptions({ buffer: {} as never, width: 8, height: 8, pitch: 32 }, 3)).toThrow(
      /GemHandle/,
    );
    expect(() => checkFramebufferOptions({ planes: [] }, 3)).toThrow(RangeError);
    expect(() => checkFramebufferOptions({ planes: [plane(4)], buffer: {} as never }, 3)).toThrow(TypeError);
    expect(() => checkFramebufferOptions({ buffer: {} as never, format: 'XR2' }, 3)).toThrow(RangeError);
  });

  it('names the rule an EINVAL broke: format, size limits, pitch', () => {
    expect(addFbRuleBroken(fb({}), limits)).toBeUndefined();
    expect(addFbRuleBroken(fb({ format: Format.NV12 }), limits)).toMatch(
      /scans out format NV12 \(supported: XR24, AR24\)/,
    );
    expect(addFbRuleBroken(fb({ width: 10 }), limits)).toContain("width 10 is outside the device's 20..8192");
    expect(addFbRuleBroken(fb({ height: 9000 }), limits)).toContain('height 9000');
    expect(addFbRuleBroken(fb({ planes: [plane(255)] }), limits)).toContain('bad pitch: plane 0 pitch 255');
    const nv = { ...limits, formats: new Set([Format.NV12]) };
    expect(addFbRuleBroken(fb({ format: Format.NV12, planes: [plane(64)] }), nv)).toContain(
      '2 planes, 1 were given',
    );
    expect(addFbRuleBroken(fb({ format: Format.NV12, planes: [plane(64), plane(63)] }), nv)).toContain(
      'plane 1 pitch 63 is below width × bytes per pixel (32 × 2 = 64)',
    );
  });
});
