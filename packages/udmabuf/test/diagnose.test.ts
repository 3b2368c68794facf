// The EINVAL diagnosis, against real memfds and a stand-in parameters directory.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Memfd } from '@zcopy/core';
import { PAGE_SIZE } from '@zcopy/dma-buf';
import { afterAll, describe, expect, it } from 'vitest';
import { explainEinval } from '../src/diagnose.js';
import { udmabufLimits } from '../src/limits.js';

const params = mkdtempSync(join(tmpdir(), 'udmabuf-params-'));
writeFileSync(join(params, 'size_limit_mb'), '1\n');
writeFileSync(join(params, 'list_limit'), '2\n');
afterAll(() => rmSync(params, { recursive: true, force: true }));

const sealed = () => Memfd.create('d', { size: 4 * PAGE_SIZE, seals: ['shrink'] });

describe('udmabufLimits', () => {
  it('reads the module parameters, and says undefined where there are none', () => {
    expect(udmabufLimits(params)).toEqual({ sizeLimit: 1024 * 1024, listLimit: 2 });
    const empty = join(params, 'empty');
    mkdirSync(empty);
    expect(udmabufLimits(empty)).toEqual({ sizeLimit: undefined, listLimit: undefined });
  });
});

describe('explainEinval', () => {
  it('names each rule udmabuf enforces', () => {
    using m = sealed();
    const r = (offset: number, size: number) => ({ memfd: m.fd, offset, size });
    expect(explainEinval([r(100, PAGE_SIZE)], params)).toMatch(
      /offset 100 is not a multiple of the page size/,
    );
    expect(explainEinval([r(0, 100)], params)).toMatch(/size 100 is not a multiple/);
    expect(explainEinval([r(0, PAGE_SIZE), r(0, 100)], params)).toMatch(/^range 1: size 100/);
    expect(explainEinval([r(0, 0)], params)).toMatch(/greater than 0/);
    expect(explainEinval([r(0, 2 * 1024 * 1024)], params)).toMatch(/size limit of 1 MiB .*size_limit_mb/);
    expect(explainEinval([r(0, PAGE_SIZE), r(0, PAGE_SIZE), r(0, PAGE_SIZE)], params)).toMatch(
      /at most 2 ranges/,
    );
    expect(explainEinval([r(2 * PAGE_SIZE, 4 * PAGE_SIZE)], params)).toMatch(/runs past the end/);
    expect(explainEinval([r(0, 4 * PAGE_SIZE)], params)).toBeUndefined();
  });

  it('names the seal that is missing or forbidden', () => {
    using unsealable = Memfd.create('u', { size: PAGE_SIZE, allowSealing: false });
    using noShrink = Memfd.create('n', { size: PAGE_SIZE });
    using writeSealed = Memfd.create('w', { size: PAGE_SIZE, seals: ['shrink', 'write'] });
    const whole = (m: Memfd) => [{ memfd: m.fd, offset: 0, size: PAGE_SIZE }];
    expect(explainEinval(whole(unsealable), params)).toMatch(/needs F_SEAL_SHRINK/);
    expect(explainEinval(whole(noShrink), params)).toMatch(/needs F_SEAL_SHRINK/);
    expect(explainEinval(whole(writeSealed), params)).toMatch(/must not carry F_SEAL_WRITE/);
  });
});
