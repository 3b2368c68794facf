// VM (bare guest, vkms): modetestReference, the reference frame of the stock-guest tests and `zcopy demo`. It
// captures modetest's frame on this domain's vkms; and a modetest (here: the stdbuf wrapper) that ends before
// its mode set fails it at once with what it said, instead of leaving the caller waiting forever (the arm64
// Xen runs' be-alloc and copy tests hung until their 300 s timeout that way: the x86 stdbuf there ran as a
// shell script and exited at once, and the wait for its exit began after the exit).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { modetestReference } from '../src/index.js';

describe('modetestReference', () => {
  const path = process.env.PATH;
  let dir: string | undefined;
  afterEach(() => {
    process.env.PATH = path;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("captures modetest's 1024x768 XRGB8888 frame on vkms, and modetest is gone afterwards", async () => {
    const frame = await modetestReference();
    expect(frame.length).toBe(1024 * 768 * 4);
    // modetest's pattern is not one colour: the capture holds its picture, not an empty plane.
    const px = new Set<number>();
    for (let i = 0; i < frame.length; i += 4 * 997) px.add(frame.readUInt32LE(i) & 0xff_ffff);
    expect(px.size).toBeGreaterThan(4);
  });

  it('a modetest that ends before its mode set: rejects at once with its status and output', async () => {
    dir = mkdtempSync(join(tmpdir(), 'zcopy-ref-'));
    const fake = join(dir, 'stdbuf');
    writeFileSync(fake, '#!/bin/sh\necho "cannot run modetest here" >&2\nexit 3\n');
    chmodSync(fake, 0o755);
    process.env.PATH = `${dir}:${path}`;
    const t0 = Date.now();
    const err = await modetestReference().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/modetest ended \(status 3\) before it set the mode/);
    expect(err?.message).toMatch(/cannot run modetest here/);
    expect(Date.now() - t0).toBeLessThan(10_000); // not the 30 s wait for its output, nor forever
  });
});
