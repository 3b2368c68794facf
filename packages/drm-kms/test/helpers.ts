// Shared by the drm-kms tests: vkms in the guest, fd counts, and KernelError capture.
import { readdirSync } from 'node:fs';
import type { KernelError } from '@zcopy/core';
import { expect } from 'vitest';
import { KmsDevice } from '../src/index.js';

/** vkms's card node, opened for atomic modesetting (the first opener of a card is its DRM master). */
export function openVkms(): KmsDevice {
  return KmsDevice.openDriver('vkms');
}

/** Open fds of this process, as the kernel counts them. */
export function procFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** The KernelError a promise rejects with (fails the test on anything else). */
export async function rejectsWithKernelError(p: Promise<unknown>): Promise<KernelError> {
  try {
    await p;
  } catch (e) {
    expect((e as Error).name, String(e)).toBe('KernelError');
    return e as KernelError;
  }
  throw new Error('expected a KernelError, the promise resolved');
}

/** The KernelError `fn` throws. */
export function kernelError(fn: () => unknown): KernelError {
  try {
    fn();
  } catch (e) {
    expect((e as Error).name, String(e)).toBe('KernelError');
    return e as KernelError;
  }
  throw new Error('expected a KernelError, nothing was thrown');
}

/**
 * An XRGB8888 pattern: each pixel's R, G, B from its position and the seed, X left 0 (what scanout ignores), so
 * a shifted, stale or blank frame cannot match.
 */
export function drawPattern(
  target: Buffer,
  width: number,
  height: number,
  pitch: number,
  seed: number,
): void {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = y * pitch + x * 4;
      target[o] = (x * 3 + seed) & 0xff; // B
      target[o + 1] = (y * 5 + seed * 7) & 0xff; // G
      target[o + 2] = (x ^ y ^ (seed * 13)) & 0xff; // R
      target[o + 3] = 0;
    }
  }
}
