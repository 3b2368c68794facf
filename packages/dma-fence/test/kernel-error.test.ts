// Host: errors from the binding come out as this copy of core's KernelError with our hints, even when the
// native side built them with another copy's class (several @zcopy/core copies in one process).
import { KernelError } from '@zcopy/core';
import { describe, expect, it } from 'vitest';
import { ownKernelError, withOwnErrors } from '../src/kernel-error.js';
import '../src/native.js'; // registers the hints

class ForeignKernelError extends Error {
  override name = 'KernelError';
  constructor(
    readonly errno: number,
    readonly syscall: string,
    readonly request?: string,
  ) {
    super('from another copy');
  }
}

describe('ownKernelError', () => {
  it('rebuilds a KernelError of another copy as ours, with the hint for its request', () => {
    const raw = {
      merge: () => {
        throw new ForeignKernelError(2, 'ioctl', 'SYNC_IOC_MERGE');
      },
      constants: { X: 1 },
    };
    const wrapped = withOwnErrors(raw);
    expect(wrapped.constants).toBe(raw.constants);
    let err: unknown;
    try {
      wrapped.merge();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelError);
    expect(err).toMatchObject({ code: 'ENOENT', request: 'SYNC_IOC_MERGE', syscall: 'ioctl' });
    expect((err as Error).message).toContain('not a sync_file');
  });

  it('leaves our own KernelErrors and other errors as they are', () => {
    const own = new KernelError({ errno: 22, syscall: 'ioctl' });
    expect(ownKernelError(own)).toBe(own);
    const type = new TypeError('x');
    expect(ownKernelError(type)).toBe(type);
    const wrapped = withOwnErrors({
      f: () => {
        throw type;
      },
      g: (a: number, b: number) => a + b,
    });
    expect(() => wrapped.f()).toThrow(type);
    expect(wrapped.g(2, 3)).toBe(5);
  });
});
