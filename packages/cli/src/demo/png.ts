// A minimal PNG writer (8-bit RGB, one IDAT) for frames captured from a display: XRGB8888 in, a file any
// image viewer opens out. Node's zlib does the deflate; the CRC table is built once.
import { deflateSync } from 'node:zlib';

const crcTable = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export interface PixelSource {
  /** XRGB8888 little-endian (bytes B, G, R, X per pixel), as DRM_FORMAT_XRGB8888. */
  pixels: Uint8Array;
  width: number;
  height: number;
  /** Bytes per row (≥ width * 4). */
  pitch: number;
}

/** Encodes an XRGB8888 frame as a PNG (RGB, no alpha: the X byte is padding). */
export function encodePng({ pixels, width, height, pitch }: PixelSource): Buffer {
  if (pitch < width * 4 || pixels.length < pitch * (height - 1) + width * 4)
    throw new RangeError(
      `a ${width}x${height} XRGB8888 frame with pitch ${pitch} needs more than ${pixels.length} bytes`,
    );
  const raw = Buffer.alloc(height * (1 + width * 3));
  let o = 0;
  for (let y = 0; y < height; y++) {
    raw[o++] = 0; // filter: none
    let i = y * pitch;
    for (let x = 0; x < width; x++, i += 4) {
      raw[o++] = pixels[i + 2]!;
      raw[o++] = pixels[i + 1]!;
      raw[o++] = pixels[i]!;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 6 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
