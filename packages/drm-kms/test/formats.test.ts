// Host: fourcc codes and the format table (numbers from the kernel header, compiled into the addon).
import { describe, expect, it } from 'vitest';
import { Format, formatLayout, formatNames, formatNumber, fourcc, fourccName } from '../src/index.js';

describe('fourcc', () => {
  it("fourcc('XR24') is drm_fourcc.h's DRM_FORMAT_XRGB8888, and names round-trip", () => {
    expect(fourcc('XR24')).toBe(Format.XRGB8888);
    expect(fourcc('AR24')).toBe(Format.ARGB8888);
    expect(fourcc('RG16')).toBe(Format.RGB565);
    expect(fourcc('NV12')).toBe(Format.NV12);
    for (const n of formatNames) expect(fourcc(fourccName(Format[n]))).toBe(Format[n]);
    expect(fourccName(Format.XRGB16161616)).toBe('XR48');
  });

  it('formatNumber takes a number, a fourcc code or a Format name', () => {
    expect(formatNumber(Format.XRGB8888)).toBe(Format.XRGB8888);
    expect(formatNumber('XR24')).toBe(Format.XRGB8888);
    expect(formatNumber('XRGB8888')).toBe(Format.XRGB8888);
    expect(formatNumber('ZZZZ')).toBe(fourcc('ZZZZ')); // unknown codes pass: the kernel decides
  });

  it('wrong arguments: TypeError/RangeError', () => {
    expect(() => fourcc('XR2')).toThrow(RangeError);
    expect(() => fourcc('XR2\u00e9')).toThrow(RangeError);
    expect(() => fourcc(5 as never)).toThrow(TypeError);
    expect(() => fourccName(-1)).toThrow(RangeError);
    expect(() => formatNumber(1.5)).toThrow(TypeError);
    expect(() => formatNumber(2 ** 32)).toThrow(RangeError);
    expect(() => formatNumber('XRGB888')).toThrow(RangeError);
    expect(() => formatNumber(null as never)).toThrow(TypeError);
  });

  it('plane layouts of the common formats', () => {
    expect(formatLayout(Format.XRGB8888)).toEqual({ cpp: [4], hsub: 1, vsub: 1 });
    expect(formatLayout(Format.RGB565)!.cpp).toEqual([2]);
    expect(formatLayout(Format.NV12)).toEqual({ cpp: [1, 2], hsub: 2, vsub: 2 });
    expect(formatLayout(fourcc('ZZZZ'))).toBeUndefined();
  });
});
