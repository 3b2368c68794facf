import { readdirSync } from 'node:fs';
import type { KernelError } from '@zcopy/core';
import { expect } from 'vitest';

/** Open fds of this process, as the kernel counts them. */
export function procFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** The KernelError `fn` throws (fails the test if it throws anything else or nothing). */
export function kernelError(fn: () => unknown): KernelError {
  try {
    fn();
  } catch (e) {
    // By name: native code raises the KernelError class of the first @zcopy/core module loaded in the process,
    // and vitest gives each test file its own module instances.
    expect((e as Error).name, String(e)).toBe('KernelError');
    expect((e as KernelError).errno).toBeTypeOf('number');
    return e as KernelError;
  }
  throw new Error('expected a KernelError, nothing was thrown');
}
