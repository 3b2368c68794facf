// Host: backing-mode validation, kernel-config parsing and the balloon's sysfs files (read from a fixture dir).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  balloonState,
  configOption,
  dmaBackingFlags,
  dmaBackingSupport,
  readKernelConfig,
} from '../src/index.js';

const values = { GNTDEV_DMA_FLAG_WC: 1, GNTDEV_DMA_FLAG_COHERENT: 2 };
const dir = mkdtempSync(join(tmpdir(), 'balloon-dma-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dmaBackingFlags', () => {
  it('maps each backing to its flag, pages (or nothing) to 0', () => {
    expect(dmaBackingFlags(undefined, values)).toBe(0);
    expect(dmaBackingFlags('pages', values)).toBe(0);
    expect(dmaBackingFlags('wc', values)).toBe(1);
    expect(dmaBackingFlags('coherent', values)).toBe(2);
    expect(dmaBackingFlags(['coherent', 'pages'], values)).toBe(2);
    // The values come from the caller (the header's), not from this package.
    expect(dmaBackingFlags('wc', { GNTDEV_DMA_FLAG_WC: 16, GNTDEV_DMA_FLAG_COHERENT: 32 })).toBe(16);
  });
  it('refuses wc with coherent, and anything unknown', () => {
    expect(() => dmaBackingFlags(['wc', 'coherent'], values)).toThrow(RangeError);
    expect(() => dmaBackingFlags(['wc', 'coherent'], values)).toThrow(/exclude each other/);
    expect(() => dmaBackingFlags('dma', values)).toThrow(TypeError);
    expect(() => dmaBackingFlags(3, values)).toThrow(TypeError);
    expect(() => dmaBackingFlags(['wc', null], values)).toThrow(TypeError);
  });
});

describe('kernel config', () => {
  const text = 'CONFIG_XEN_GNTDEV=m\nCONFIG_XEN_GNTDEV_DMABUF=y\n# CONFIG_XEN_GRANT_DMA_ALLOC is not set\n';
  it('reads option states', () => {
    expect(configOption(text, 'XEN_GNTDEV')).toBe('m');
    expect(configOption(text, 'XEN_GNTDEV_DMABUF')).toBe('y');
    expect(configOption(text, 'XEN_GRANT_DMA_ALLOC')).toBe('n');
    expect(configOption(text, 'ABSENT')).toBe('n');
    expect(() => configOption(text, 'bad name')).toThrow(RangeError);
  });
  it('reads gzipped and plain configs, first readable path wins', () => {
    const gz = join(dir, 'config.gz');
    writeFileSync(gz, gzipSync(text));
    const plain = join(dir, 'config');
    writeFileSync(plain, 'CONFIG_XEN_GRANT_DMA_ALLOC=y\n');
    expect(readKernelConfig([join(dir, 'missing'), gz])?.source).toBe(gz);
    expect(dmaBackingSupport(readKernelConfig([gz]))).toEqual({
      dmaAlloc: 'n',
      gntdevDmabuf: 'y',
      source: gz,
    });
    expect(dmaBackingSupport(readKernelConfig([plain]))).toMatchObject({ dmaAlloc: 'y', gntdevDmabuf: 'n' });
    expect(readKernelConfig([join(dir, 'missing')])).toBeUndefined();
    expect(dmaBackingSupport(null)).toEqual({
      dmaAlloc: 'unknown',
      gntdevDmabuf: 'unknown',
      source: undefined,
    });
  });
});

describe('balloonState', () => {
  it('reads the sysfs files', () => {
    const b = join(dir, 'xen_memory0');
    mkdirSync(join(b, 'info'), { recursive: true });
    writeFileSync(join(b, 'target_kb'), '524288\n');
    writeFileSync(join(b, 'info', 'current_kb'), '520000\n');
    writeFileSync(join(b, 'info', 'low_kb'), '0\n');
    writeFileSync(join(b, 'info', 'high_kb'), '4288\n');
    writeFileSync(join(b, 'retry_count'), '1\n');
    expect(balloonState(b)).toEqual({
      currentKb: 520000,
      targetKb: 524288,
      lowKb: 0,
      highKb: 4288,
      retryCount: 1,
    });
  });
  it('is undefined without a balloon', () => {
    expect(balloonState(join(dir, 'nothing'))).toBeUndefined();
    expect(() => balloonState(1 as unknown as string)).toThrow(TypeError);
  });
});
