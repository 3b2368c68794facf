// The demo's frame: a gradient, colour bars and captions, drawn in XRGB8888 straight into whatever memory
// holds the frame (a grant mapping, a dumb buffer). The same function draws the reference a capture is
// compared with, so "the display showed the frontend's frame" is checked pixel by pixel.
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from './font.js';

export interface FrameGeometry {
  width: number;
  height: number;
  /** Bytes per row, a multiple of 4. */
  pitch: number;
}

export interface FrameContent {
  /** Caption lines, drawn centred in the lower band. */
  lines: readonly string[];
  /** Varies the colours so two frames of one run differ everywhere. */
  seed: number;
}

const BARS = [0xffffff, 0xffff00, 0x00ffff, 0x00ff00, 0xff00ff, 0xff0000, 0x0000ff, 0x101010];

export function frameBytes(g: FrameGeometry): number {
  return g.pitch * g.height;
}

/** Draws the frame into `target` (XRGB8888 little-endian: one u32 per pixel, X = 0xff). */
export function drawFrame(target: Uint8Array, g: FrameGeometry, content: FrameContent): void {
  const { width, height, pitch } = g;
  if (pitch % 4 !== 0 || pitch < width * 4)
    throw new RangeError(`pitch ${pitch} does not fit ${width} pixels`);
  if (target.byteOffset % 4 !== 0) throw new RangeError('the frame must start 4-byte aligned');
  if (target.byteLength < pitch * height) throw new RangeError(`the frame needs ${pitch * height} bytes`);
  const px = new Uint32Array(target.buffer, target.byteOffset, (pitch * height) / 4);
  const stride = pitch / 4;
  const blue = (content.seed * 97) & 0xff;
  const barsEnd = Math.floor(height / 5);
  const bandStart = Math.floor((height * 3) / 5);
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    const green = Math.floor((y * 255) / Math.max(1, height - 1));
    for (let x = 0; x < width; x++) {
      let rgb: number;
      if (y < barsEnd) rgb = BARS[Math.floor((x * BARS.length) / width)]! ^ (content.seed & 1 ? 0x202020 : 0);
      else if (y >= bandStart) rgb = 0x181830 + ((content.seed & 7) << 4);
      else rgb = (Math.floor((x * 255) / Math.max(1, width - 1)) << 16) | (green << 8) | blue;
      px[row + x] = (0xff000000 | rgb) >>> 0;
    }
  }
  // Captions: scaled so the longest line fills at most 90% of the width.
  const longest = Math.max(1, ...content.lines.map((l) => l.length));
  const scale = Math.max(1, Math.min(6, Math.floor((width * 0.9) / (longest * (GLYPH_WIDTH + 1)))));
  const lineHeight = (GLYPH_HEIGHT + 3) * scale;
  let top =
    bandStart + Math.max(scale, Math.floor((height - bandStart - lineHeight * content.lines.length) / 2));
  for (const line of content.lines) {
    const left = Math.floor((width - line.length * (GLYPH_WIDTH + 1) * scale) / 2);
    for (let c = 0; c < line.length; c++) {
      const rows = glyph(line[c]!);
      for (let gy = 0; gy < GLYPH_HEIGHT; gy++)
        for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
          if (!(rows[gy]! & (1 << (GLYPH_WIDTH - 1 - gx)))) continue;
          const x0 = left + (c * (GLYPH_WIDTH + 1) + gx) * scale;
          const y0 = top + gy * scale;
          for (let dy = 0; dy < scale; dy++) {
            if (y0 + dy >= height) break;
            for (let dx = 0; dx < scale; dx++)
              if (x0 + dx >= 0 && x0 + dx < width) px[(y0 + dy) * stride + x0 + dx] = 0xffffffff;
          }
        }
    }
    top += lineHeight;
  }
}

/** Pixels that differ (ignoring the X byte) between two XRGB8888 frames of the same geometry. */
export function countMismatches(
  a: Uint8Array,
  aPitch: number,
  b: Uint8Array,
  bPitch: number,
  width: number,
  height: number,
): number {
  let bad = 0;
  for (let y = 0; y < height; y++) {
    let i = y * aPitch;
    let j = y * bPitch;
    for (let x = 0; x < width; x++, i += 4, j += 4)
      if (a[i] !== b[j] || a[i + 1] !== b[j + 1] || a[i + 2] !== b[j + 2]) bad++;
  }
  return bad;
}
