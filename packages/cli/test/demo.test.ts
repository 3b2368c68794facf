// Host: the demo's pieces that need no kernel — its usage errors, the refusal outside dom0, the frame drawing
// and comparison, the PNG writer (decoded back with zlib) and the step log.
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { countMismatches, drawFrame } from '../src/demo/pattern.js';
import { crc32, encodePng } from '../src/demo/png.js';
import { DemoReport } from '../src/demo/report.js';
import { runCli } from './run-cli.js';

const run = runCli;

describe('zcopy demo (command line)', () => {
  it('needs --out, refuses unknown options (exit 2)', async () => {
    expect(await run(['demo'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/--out DIR is required/),
    });
    expect(await run(['demo', '--out', '/tmp/x', '--bogus'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/unknown option '--bogus'/),
    });
  });

  it('outside Xen dom0 says so and points at npm run demo (exit 1)', async () => {
    const r = await run(['demo', '--out', '/tmp/zcopy-demo-host-test']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/this is not Xen dom0.*npm run demo/s);
  });
});

describe('the demo frame', () => {
  const g = { width: 64, height: 40, pitch: 64 * 4 + 32 };

  it('is drawn the same twice, differs by seed, and countMismatches sees every changed pixel', () => {
    const a = new Uint8Array(g.pitch * g.height);
    const b = new Uint8Array(g.pitch * g.height);
    drawFrame(a, g, { lines: ['ZCOPY 1'], seed: 1 });
    drawFrame(b, g, { lines: ['ZCOPY 1'], seed: 1 });
    expect(countMismatches(a, g.pitch, b, g.pitch, g.width, g.height)).toBe(0);
    b[g.pitch * 3 + 4 * 5] = 0xff - b[g.pitch * 3 + 4 * 5]!; // one pixel's blue
    b[g.pitch * 7 + 4 * 9 + 3] = 0; // an X byte: ignored
    expect(countMismatches(a, g.pitch, b, g.pitch, g.width, g.height)).toBe(1);
    drawFrame(b, g, { lines: ['ZCOPY 1'], seed: 2 });
    expect(countMismatches(a, g.pitch, b, g.pitch, g.width, g.height)).toBeGreaterThan(
      g.width * g.height * 0.5,
    );
  });

  it('refuses a pitch, size or alignment that cannot hold it (RangeError)', () => {
    const buf = new Uint8Array(g.pitch * g.height + 4);
    expect(() => drawFrame(buf, { ...g, pitch: 10 }, { lines: [], seed: 0 })).toThrow(RangeError);
    expect(() => drawFrame(buf.subarray(0, 100), g, { lines: [], seed: 0 })).toThrow(RangeError);
    expect(() => drawFrame(buf.subarray(1), g, { lines: [], seed: 0 })).toThrow(RangeError);
  });
});

describe('encodePng', () => {
  it('writes a PNG whose chunks check out and whose pixels are the frame in RGB', () => {
    const w = 3;
    const h = 2;
    const pitch = 16;
    const px = new Uint8Array(pitch * h);
    px.set([1, 2, 3, 0xff], 0); // B G R X of pixel (0,0)
    px.set([10, 20, 30, 0xff], pitch + 8); // pixel (2,1)
    const png = encodePng({ pixels: px, width: w, height: h, pitch });
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    let off = 8;
    const chunks: Record<string, Buffer> = {};
    while (off < png.length) {
      const len = png.readUInt32BE(off);
      const type = png.toString('latin1', off + 4, off + 8);
      const data = png.subarray(off + 8, off + 8 + len);
      expect(png.readUInt32BE(off + 8 + len)).toBe(crc32(png.subarray(off + 4, off + 8 + len)));
      chunks[type] = data;
      off += 12 + len;
    }
    expect(Object.keys(chunks)).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect([
      chunks.IHDR!.readUInt32BE(0),
      chunks.IHDR!.readUInt32BE(4),
      chunks.IHDR![8],
      chunks.IHDR![9],
    ]).toEqual([w, h, 8, 2]);
    const raw = inflateSync(chunks.IDAT!);
    expect(raw.length).toBe(h * (1 + w * 3));
    expect([...raw.subarray(1, 4)]).toEqual([3, 2, 1]);
    expect([...raw.subarray(1 + w * 3 + 1 + 6, 1 + w * 3 + 1 + 9)]).toEqual([30, 20, 10]);
  });

  it('refuses a frame too small for its geometry (RangeError)', () => {
    expect(() => encodePng({ pixels: new Uint8Array(10), width: 4, height: 4, pitch: 16 })).toThrow(
      RangeError,
    );
    expect(() => encodePng({ pixels: new Uint8Array(64), width: 4, height: 4, pitch: 8 })).toThrow(
      RangeError,
    );
  });

  it('crc32 is the standard one', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});

describe('DemoReport', () => {
  it('names a step left pending (abandon) as failed, with its direction; nothing when no step runs', async () => {
    const lines: string[] = [];
    const report = new DemoReport((l) => lines.push(l));
    report.section('stock-guest', 'x');
    expect(report.abandon('why')).toBe(false);
    await report.step('done', () => 1);
    void report.step('stuck', () => new Promise<never>(() => {}));
    expect(report.abandon('never finished')).toBe(true);
    expect(report.abandon('again')).toBe(false);
    expect(JSON.parse(JSON.stringify(report)).steps).toEqual([
      expect.objectContaining({ direction: 'stock-guest', name: 'done', ok: true }),
      expect.objectContaining({
        direction: 'stock-guest',
        name: 'stuck',
        ok: false,
        detail: 'never finished',
      }),
    ]);
    expect(lines.at(-1)).toMatch(/FAIL stuck .*never finished/);
  });
});
