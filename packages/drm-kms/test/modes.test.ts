// Host: mode objects (checks, the preferred mode, custom timings).
import { describe, expect, it } from 'vitest';
import { checkMode, customMode, type DrmMode, preferredMode, refreshRate } from '../src/index.js';

describe('modes', () => {
  it('customMode: consistent timings at the asked rate, named WxH, user-defined', () => {
    const m = customMode({ width: 1024, height: 768, refreshHz: 2 });
    expect([m.hdisplay, m.vdisplay, m.name]).toEqual([1024, 768, '1024x768']);
    expect(m.hdisplay).toBeLessThan(m.hsyncStart);
    expect(m.hsyncStart).toBeLessThan(m.hsyncEnd);
    expect(m.hsyncEnd).toBeLessThan(m.htotal);
    expect(m.vdisplay).toBeLessThan(m.vsyncStart);
    expect(m.vsyncEnd).toBeLessThan(m.vtotal);
    expect(refreshRate(m)).toBeCloseTo(2, 2);
    expect(refreshRate(customMode({ width: 640, height: 480 }))).toBeCloseTo(60, 1);
    expect(checkMode(m)).toBe(m);
  });

  it('preferredMode: the one flagged PREFERRED, else the first', () => {
    const a = customMode({ width: 800, height: 600 });
    const b = { ...customMode({ width: 1024, height: 768 }), type: 0x48 }; // DRIVER | PREFERRED
    expect(preferredMode([a, b])).toBe(b);
    expect(preferredMode([a])).toBe(a);
    expect(preferredMode([])).toBeUndefined();
  });

  it('checkMode: TypeError/RangeError per field, before anything reaches the kernel', () => {
    const m = customMode({ width: 64, height: 64 });
    expect(() => checkMode(null as never)).toThrow(TypeError);
    expect(() => checkMode({ ...m, clock: 1.5 })).toThrow(/mode.clock/);
    expect(() => checkMode({ ...m, hdisplay: 70000 })).toThrow(RangeError);
    expect(() => checkMode({ ...m, vtotal: -1 })).toThrow(RangeError);
    expect(() => checkMode({ ...m, name: 'x'.repeat(32) })).toThrow(RangeError);
    const { name: _, ...noName } = m;
    expect(() => checkMode(noName as DrmMode)).toThrow(TypeError);
    expect(() => customMode({ width: 0, height: 10 })).toThrow(RangeError);
    expect(() => customMode({ width: 10, height: 10, refreshHz: 0 })).toThrow(RangeError);
  });
});
