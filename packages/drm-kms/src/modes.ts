// Display modes: drm_mode_modeinfo as a plain object. Read from a connector, passed back in a MODE_ID blob.
import type { RawMode } from './native.js';
import { binding } from './native.js';

/** Every field of struct drm_mode_modeinfo. clock is in kHz; timings in pixels and lines. */
export type DrmMode = RawMode;

const u16Fields = [
  'hdisplay',
  'hsyncStart',
  'hsyncEnd',
  'htotal',
  'hskew',
  'vdisplay',
  'vsyncStart',
  'vsyncEnd',
  'vtotal',
  'vscan',
] as const;
const u32Fields = ['clock', 'vrefresh', 'flags', 'type'] as const;

/** TypeError/RangeError for a mode the kernel could not even be handed (its own timing rules give EINVAL). */
export function checkMode(mode: DrmMode, what = 'mode'): DrmMode {
  if (mode === null || typeof mode !== 'object') throw new TypeError(`${what} must be a mode object`);
  for (const [fields, max] of [
    [u16Fields, 0xffff],
    [u32Fields, 0xffff_ffff],
  ] as const) {
    for (const f of fields) {
      const v = mode[f];
      if (typeof v !== 'number' || !Number.isInteger(v))
        throw new TypeError(`${what}.${f} must be an integer, got ${String(v)}`);
      if (v < 0 || v > max) throw new RangeError(`${what}.${f} must be within 0..${max}, got ${v}`);
    }
  }
  if (typeof mode.name !== 'string') throw new TypeError(`${what}.name must be a string`);
  if (Buffer.byteLength(mode.name) >= binding.DISPLAY_MODE_LEN)
    throw new RangeError(`${what}.name is limited to ${binding.DISPLAY_MODE_LEN - 1} bytes`);
  return mode;
}

/** The connector's preferred mode (DRM_MODE_TYPE_PREFERRED), else its first; undefined when it has none. */
export function preferredMode(modes: readonly DrmMode[]): DrmMode | undefined {
  return modes.find((m) => (m.type & binding.modeTypes.PREFERRED) !== 0) ?? modes[0];
}

/** Frames per second of a mode's timings (what the kernel's vblank period follows). */
export function refreshRate(mode: DrmMode): number {
  const total = mode.htotal * mode.vtotal * (mode.vscan > 1 ? mode.vscan : 1);
  return total === 0 ? 0 : (mode.clock * 1000) / total;
}

export interface CustomModeOptions {
  width: number;
  height: number;
  /** Frames per second (default 60). A low rate makes each frame last long: vkms times vblanks by the mode. */
  refreshHz?: number;
}

/** A user-defined mode with small blanking intervals, for virtual outputs (vkms) that take any timings. */
export function customMode(options: CustomModeOptions): DrmMode {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const { width, height, refreshHz = 60 } = options;
  for (const [k, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${k} must be an integer`);
    if (v < 1 || v > 0xffff - 64) throw new RangeError(`${k} must be within 1..${0xffff - 64}, got ${v}`);
  }
  if (typeof refreshHz !== 'number' || !(refreshHz > 0) || refreshHz > 1000)
    throw new RangeError(`refreshHz must be within (0, 1000], got ${refreshHz}`);
  const htotal = width + 32;
  const vtotal = height + 4;
  const clock = Math.max(1, Math.round((htotal * vtotal * refreshHz) / 1000));
  return {
    clock,
    hdisplay: width,
    hsyncStart: width + 8,
    hsyncEnd: width + 16,
    htotal,
    hskew: 0,
    vdisplay: height,
    vsyncStart: height + 1,
    vsyncEnd: height + 2,
    vtotal,
    vscan: 0,
    vrefresh: Math.max(1, Math.round(refreshHz)),
    flags: 0,
    type: binding.modeTypes.USERDEF,
    name: `${width}x${height}`,
  };
}
