// Framebuffers: ADDFB2 from GEM handles of the device fd (dumb buffers, PRIME imports), owned ids closed by RMFB.
import type { Mapping } from '@zcopy/core';
import { type HintInput, registerHints, withErrorContext } from '@zcopy/core/internal';
import { DumbBuffer, GemHandle } from '@zcopy/drm-prime';
import { formatLayout, formatNumber, fourccName } from './formats.js';
import { binding } from './native.js';
import { KmsObject, type KmsObjectOwner } from './owned.js';

const addFbRules =
  'the format must be one a plane of this device scans out, width and height within the device limits, ' +
  'each pitch at least width × bytes per pixel, and offset + pitch × height inside the buffer';
registerHints('DRM_IOCTL_MODE_ADDFB2', {
  EINVAL: addFbRules,
  ENOENT: 'no GEM object with this handle on this device fd (closed, or a handle of another fd)',
  ERANGE: 'offset + pitch × height overflows 32 bits',
  EOPNOTSUPP: 'this driver has no modesetting',
});
registerHints('DRM_IOCTL_MODE_RMFB', {
  ENOENT: 'no framebuffer with this id (already removed)',
});

export interface FramebufferPlane {
  /** A GEM handle (a DumbBuffer, an imported dma-buf) of this device's fd. */
  buffer: GemHandle;
  /** Bytes per row (default: the dumb buffer's pitch). */
  pitch?: number;
  /** Byte offset of the plane in the buffer (default 0). */
  offset?: number;
}

export interface FramebufferOptions {
  /** The buffer of a single-plane format (or use `planes`). */
  buffer?: GemHandle;
  /** Pixels (default: the dumb buffer's width). */
  width?: number;
  /** Rows (default: the dumb buffer's height). */
  height?: number;
  /** Fourcc: a number (Format.XRGB8888), a code ('XR24') or a Format name ('XRGB8888'). Default XRGB8888. */
  format?: number | string;
  /** Bytes per row of `buffer` (default: the dumb buffer's pitch). */
  pitch?: number;
  /** Byte offset in `buffer` (default 0). */
  offset?: number;
  /** Multi-planar formats (NV12…): one entry per plane, instead of buffer/pitch/offset. */
  planes?: FramebufferPlane[];
  /** A format modifier for every plane (sets DRM_MODE_FB_MODIFIERS); default none (linear, implicitly). */
  modifier?: bigint;
}

function u32(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new TypeError(`${what} must be an integer, got ${String(v)}`);
  if (v < 0 || v > 0xffff_ffff) throw new RangeError(`${what} must be a u32, got ${v}`);
  return v;
}

export interface CheckedFramebuffer {
  width: number;
  height: number;
  format: number;
  flags: number;
  planes: { buffer: GemHandle; pitch: number; offset: number }[];
  modifier: bigint | undefined;
}

/** TypeError/RangeError for wrong JS arguments; the kernel's rules are its own (EINVAL with the hint). */
export function checkFramebufferOptions(options: FramebufferOptions, deviceFd: number): CheckedFramebuffer {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const format = formatNumber(options.format ?? 'XRGB8888');
  let planes: FramebufferPlane[];
  if (options.planes !== undefined) {
    if (options.buffer !== undefined) throw new TypeError('give either buffer or planes, not both');
    if (!Array.isArray(options.planes) || options.planes.length < 1 || options.planes.length > 4)
      throw new RangeError('planes must be an array of 1 to 4 entries');
    planes = options.planes;
  } else {
    if (options.buffer === undefined)
      throw new TypeError('options.buffer (a GemHandle or DumbBuffer) is required');
    planes = [{ buffer: options.buffer, pitch: options.pitch, offset: options.offset }];
  }
  const first = planes[0]!.buffer;
  const dumb = first instanceof DumbBuffer ? first : undefined;
  const width = u32(options.width ?? dumb?.width, 'width');
  const height = u32(options.height ?? dumb?.height, 'height');
  const checked = planes.map((p, i) => {
    if (p === null || typeof p !== 'object') throw new TypeError(`planes[${i}] must be an object`);
    if (!(p.buffer instanceof GemHandle))
      throw new TypeError(`planes[${i}].buffer must be a GemHandle or DumbBuffer of @zcopy/drm-prime`);
    if (p.buffer.device.fd !== deviceFd)
      throw new TypeError(`planes[${i}].buffer belongs to another device fd: GEM handles are per fd`);
    const pitch = u32(
      p.pitch ?? (p.buffer instanceof DumbBuffer ? p.buffer.pitch : undefined),
      `planes[${i}].pitch`,
    );
    const offset = u32(p.offset ?? 0, `planes[${i}].offset`);
    return { buffer: p.buffer, pitch, offset };
  });
  let modifier: bigint | undefined;
  if (options.modifier !== undefined) {
    if (typeof options.modifier !== 'bigint') throw new TypeError('modifier must be a bigint');
    if (options.modifier < 0n || options.modifier > 0xffff_ffff_ffff_ffffn)
      throw new RangeError('modifier must be a u64');
    modifier = options.modifier;
  }
  return {
    width,
    height,
    format,
    flags: modifier === undefined ? 0 : binding.FB_MODIFIERS,
    planes: checked,
    modifier,
  };
}

/** What ADDFB2's rules depend on: the formats the planes scan out and the device's size limits. */
export interface ScanoutLimits {
  formats: ReadonlySet<number>;
  minWidth: number;
  maxWidth: number;
  minHeight: number;
  maxHeight: number;
}

/** Which of ADDFB2's rules a request breaks, when this side can tell (else the generic hint stands). */
export function addFbRuleBroken(fb: CheckedFramebuffer, limits: ScanoutLimits): string | undefined {
  const name = fourccName(fb.format);
  const supportedFormats = limits.formats;
  if (fb.width < limits.minWidth || fb.width > limits.maxWidth)
    return `width ${fb.width} is outside the device's ${limits.minWidth}..${limits.maxWidth}`;
  if (fb.height < limits.minHeight || fb.height > limits.maxHeight)
    return `height ${fb.height} is outside the device's ${limits.minHeight}..${limits.maxHeight}`;
  if (supportedFormats.size > 0 && !supportedFormats.has(fb.format))
    return (
      `no plane of this device scans out format ${name} ` +
      `(supported: ${[...supportedFormats].map(fourccName).join(', ')})`
    );
  const layout = formatLayout(fb.format);
  if (!layout) return undefined;
  for (const [i, p] of fb.planes.entries()) {
    const cpp = layout.cpp[i];
    if (cpp === undefined)
      return `format ${name} has ${layout.cpp.length} plane(s), ${fb.planes.length} were given`;
    const w = i === 0 ? fb.width : Math.ceil(fb.width / layout.hsub);
    const h = i === 0 ? fb.height : Math.ceil(fb.height / layout.vsub);
    if (p.pitch < w * cpp)
      return `bad pitch: plane ${i} pitch ${p.pitch} is below width × bytes per pixel (${w} × ${cpp} = ${w * cpp}) for ${name}`;
    if (p.buffer instanceof DumbBuffer) {
      const end = p.offset + p.pitch * (h - 1) + w * cpp;
      if (end > p.buffer.size)
        return `the buffer is too small: plane ${i} ends at byte ${end} (offset + pitch × (height-1) + width × bpp), the buffer has ${p.buffer.size}`;
    }
  }
  if (fb.planes.length < layout.cpp.length)
    return `format ${name} has ${layout.cpp.length} planes, ${fb.planes.length} were given`;
  return undefined;
}

/** ADDFB2 of checked options; an EINVAL names the rule broken when it can be told. */
export function addFb2(fd: number, fb: CheckedFramebuffer, limits: () => ScanoutLimits): number {
  const handles = new Uint32Array(4);
  const pitches = new Uint32Array(4);
  const offsets = new Uint32Array(4);
  const modifiers = new BigUint64Array(4);
  fb.planes.forEach((p, i) => {
    handles[i] = p.buffer.handle;
    pitches[i] = p.pitch;
    offsets[i] = p.offset;
    if (fb.modifier !== undefined) modifiers[i] = fb.modifier;
  });
  // An EINVAL says which rule of the framebuffer the kernel refused, worked out from the framebuffer itself.
  const hint = ({ code }: HintInput) => (code === 'EINVAL' ? addFbRuleBroken(fb, limits()) : undefined);
  return withErrorContext({ hint }, () =>
    binding.addFb2(fd, fb.width, fb.height, fb.format, fb.flags, handles, pitches, offsets, modifiers),
  );
}

/** A framebuffer id of the device fd. close() removes it (RMFB: a plane still showing it is turned off). */
export class Framebuffer extends KmsObject {
  readonly width: number;
  readonly height: number;
  /** Fourcc number (see fourccName). */
  readonly format: number;
  readonly pitches: readonly number[];

  /** @internal */
  constructor(owner: KmsObjectOwner, id: number, fb: CheckedFramebuffer) {
    super(owner, id, (fd, fbId) => binding.rmFb(fd, fbId));
    this.width = fb.width;
    this.height = fb.height;
    this.format = fb.format;
    this.pitches = fb.planes.map((p) => p.pitch);
  }
}

/** A framebuffer with its own dumb buffer (KmsDevice.createFramebuffer): draw through map(). */
export class DumbFramebuffer extends Framebuffer {
  readonly buffer: DumbBuffer;

  /** @internal */
  constructor(owner: KmsObjectOwner, id: number, fb: CheckedFramebuffer, buffer: DumbBuffer) {
    super(owner, id, fb);
    this.buffer = buffer;
  }

  /** Bytes per row of the pixels. */
  get pitch(): number {
    return this.buffer.pitch;
  }

  /** The pixels, mapped (MAP_SHARED: writes are what the display shows). Unmapped when this closes. */
  map(options?: { access?: 'read' | 'readwrite' }): Mapping {
    return this.buffer.map(options);
  }

  /** Removes the framebuffer, then drops the dumb buffer (and its mappings). */
  override close(): void {
    try {
      super.close();
    } finally {
      this.buffer.close();
    }
  }

  override invalidate(fd?: number): void {
    super.invalidate(fd);
    this.buffer.close();
  }
}
