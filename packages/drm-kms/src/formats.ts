// Pixel formats: fourcc codes (the numbers from drm_fourcc.h, compiled into the addon) and the plane layout
// of the common ones, which framebuffer checks and capture buffers need.
import { ZcopyError } from '@zcopy/core';
import { binding } from './native.js';

/** 'XR24' → DRM_FORMAT_XRGB8888: four ASCII characters, little-endian, as drm_fourcc.h's fourcc_code(). */
export function fourcc(code: string): number {
  if (typeof code !== 'string') throw new TypeError(`fourcc code must be a string, got ${typeof code}`);
  if (code.length !== 4 || !/^[\x20-\x7e]{4}$/.test(code))
    throw new RangeError(`fourcc code must be 4 printable ASCII characters, got ${JSON.stringify(code)}`);
  return (
    (code.charCodeAt(0) |
      (code.charCodeAt(1) << 8) |
      (code.charCodeAt(2) << 16) |
      (code.charCodeAt(3) << 24)) >>>
    0
  );
}

/** DRM_FORMAT_XRGB8888 → 'XR24'. */
export function fourccName(format: number): string {
  if (!Number.isInteger(format) || format < 0 || format > 0xffff_ffff)
    throw new RangeError(`format must be a u32 fourcc, got ${format}`);
  return String.fromCharCode(format & 0xff, (format >>> 8) & 0xff, (format >>> 16) & 0xff, format >>> 24);
}

export const formatNames = [
  'XRGB8888',
  'ARGB8888',
  'XBGR8888',
  'ABGR8888',
  'RGBX8888',
  'BGRX8888',
  'RGB888',
  'BGR888',
  'RGB565',
  'XRGB2101010',
  'ARGB2101010',
  'XRGB16161616',
  'ARGB16161616',
  'XRGB16161616F',
  'C8',
  'YUYV',
  'UYVY',
  'NV12',
  'NV21',
  'YUV420',
] as const;
export type FormatName = (typeof formatNames)[number];

/** DRM_FORMAT_* by name (without the prefix), from the kernel header. */
export const Format: Readonly<Record<FormatName, number>> = Object.freeze(
  Object.fromEntries(
    formatNames.map((n) => {
      const v = binding.formats[n];
      if (typeof v !== 'number')
        throw new ZcopyError('ERR_ZCOPY_UNSUPPORTED', `zcopy_drm_kms was built without DRM_FORMAT_${n}`);
      return [n, v];
    }),
  ) as Record<FormatName, number>,
);

/** DRM_FORMAT_MOD_LINEAR (0): the layout dumb buffers have. */
export const FORMAT_MOD_LINEAR: bigint = binding.FORMAT_MOD_LINEAR;

/** Bytes per pixel of each plane and the chroma subsampling, as the kernel's drm_format_info has them. */
export interface FormatLayout {
  cpp: readonly number[];
  hsub: number;
  vsub: number;
}

const layouts = new Map<number, FormatLayout>();
const packed = (cpp: number): FormatLayout => ({ cpp: [cpp], hsub: 1, vsub: 1 });
for (const n of ['XRGB8888', 'ARGB8888', 'XBGR8888', 'ABGR8888', 'RGBX8888', 'BGRX8888'] as const)
  layouts.set(Format[n], packed(4));
for (const n of ['XRGB2101010', 'ARGB2101010'] as const) layouts.set(Format[n], packed(4));
for (const n of ['XRGB16161616', 'ARGB16161616', 'XRGB16161616F'] as const) layouts.set(Format[n], packed(8));
layouts.set(Format.RGB888, packed(3));
layouts.set(Format.BGR888, packed(3));
layouts.set(Format.RGB565, packed(2));
layouts.set(Format.C8, packed(1));
layouts.set(Format.YUYV, { cpp: [2], hsub: 2, vsub: 1 });
layouts.set(Format.UYVY, { cpp: [2], hsub: 2, vsub: 1 });
layouts.set(Format.NV12, { cpp: [1, 2], hsub: 2, vsub: 2 });
layouts.set(Format.NV21, { cpp: [1, 2], hsub: 2, vsub: 2 });
layouts.set(Format.YUV420, { cpp: [1, 1, 1], hsub: 2, vsub: 2 });

/** The plane layout of a format this package knows, or undefined. */
export function formatLayout(format: number): FormatLayout | undefined {
  return layouts.get(format);
}

/** A format as a number: a u32 fourcc, a 4-character code ('XR24') or a Format name ('XRGB8888'). */
export function formatNumber(format: number | string): number {
  if (typeof format === 'number') {
    if (!Number.isInteger(format)) throw new TypeError(`format must be an integer fourcc, got ${format}`);
    if (format < 0 || format > 0xffff_ffff)
      throw new RangeError(`format must be a u32 fourcc, got ${format}`);
    return format;
  }
  if (typeof format !== 'string')
    throw new TypeError(`format must be a fourcc number or string, got ${typeof format}`);
  if (Object.hasOwn(Format, format)) return Format[format as FormatName];
  return fourcc(format);
}
