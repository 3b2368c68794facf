// The EDID a GET_EDID request gets (displif protocol version 2): one EDID 1.3 base block whose preferred
// detailed timing is the connector's resolution at 60 Hz (reduced blanking, CVT-RB-like figures) and whose
// display name is "zcopy". A data format of VESA's, not a kernel struct: built byte by byte here.

const NAME = 'zcopy';

/** A 128-byte EDID 1.3 block for a `width`×`height` display (both 1..4095). */
export function edidFor(width: number, height: number): Uint8Array {
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width < 1 ||
    height < 1 ||
    width > 4095 ||
    height > 4095
  )
    throw new RangeError(`an EDID timing holds 1..4095 pixels each way, got ${width}x${height}`);
  const e = new Uint8Array(128);
  e.set([0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00], 0);
  // Manufacturer "XEN": three 5-bit letters, big-endian.
  const id = (('X'.charCodeAt(0) - 64) << 10) | (('E'.charCodeAt(0) - 64) << 5) | ('N'.charCodeAt(0) - 64);
  e[8] = id >> 8;
  e[9] = id & 0xff;
  e[10] = 0x01; // product code
  e[16] = 1; // week
  e[17] = 2026 - 1990; // year
  e[18] = 1; // EDID 1.3
  e[19] = 3;
  e[20] = 0x80; // digital input
  e[23] = 0x78; // gamma 2.2
  e[24] = 0x0a; // RGB colour, the first detailed timing is the preferred mode
  for (let i = 38; i < 54; i++) e[i] = 0x01; // no standard timings
  // Detailed timing 1: reduced blanking at 60 Hz.
  const hblank = 160;
  const vblank = Math.max(23, Math.ceil(height * 0.03));
  const clock10k = Math.ceil(((width + hblank) * (height + vblank) * 60) / 10_000);
  const hso = 48;
  const hsw = 32;
  const vso = 3;
  const vsw = 5;
  const d = 54;
  e[d] = clock10k & 0xff;
  e[d + 1] = clock10k >> 8;
  e[d + 2] = width & 0xff;
  e[d + 3] = hblank & 0xff;
  e[d + 4] = ((width >> 8) << 4) | (hblank >> 8);
  e[d + 5] = height & 0xff;
  e[d + 6] = vblank & 0xff;
  e[d + 7] = ((height >> 8) << 4) | (vblank >> 8);
  e[d + 8] = hso;
  e[d + 9] = hsw;
  e[d + 10] = (vso << 4) | vsw;
  e[d + 11] = 0;
  e[d + 17] = 0x1e; // digital separate sync, +hsync +vsync
  // Descriptor 2: the display name.
  e.set([0, 0, 0, 0xfc, 0], 72);
  const name = `${NAME}\n`.padEnd(13, ' ');
  for (let i = 0; i < 13; i++) e[77 + i] = name.charCodeAt(i);
  // Descriptors 3 and 4: dummy.
  e.set([0, 0, 0, 0x10, 0], 90);
  e.set([0, 0, 0, 0x10, 0], 108);
  let sum = 0;
  for (let i = 0; i < 127; i++) sum += e[i]!;
  e[127] = (256 - (sum & 0xff)) & 0xff;
  return e;
}
