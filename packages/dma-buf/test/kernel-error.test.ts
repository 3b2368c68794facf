// KernelErrors raised by another copy of @zcopy/core are recognised by their fields and get this package's hint.
import { KernelError } from '@zcopy/core';
import { describe, expect, it } from 'vitest';
import { isKernelError, withHints } from '../src/kernel-error.js';

// What a KernelError of another copy of core looks like from here: same fields, another class.
class ForeignKernelError extends Error {
  override name = 'KernelError';
  code = 'EINVAL';
  errno = 22;
  syscall = 'ioctl';
  request = 'DMA_BUF_IOCTL_SYNC';
}

describe('withHints', () => {
  it("rebuilds a foreign KernelError as this copy's class, with the hint for its code", () => {
    let err: unknown;
    try {
      withHints({ EINVAL: 'the rule' }, () => {
        throw new ForeignKernelError('ioctl failed');
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelError);
    expect(err).toMatchObject({ code: 'EINVAL', errno: 22, request: 'DMA_BUF_IOCTL_SYNC' });
    expect((err as Error).message).toMatch(/DMA_BUF_IOCTL_SYNC failed: EINVAL .*: the rule$/);
  });

  it('lets through errors without a hint, and everything that is not a KernelError', () => {
    const plain = new TypeError('not kernel');
    const foreign = new ForeignKernelError('x');
    expect(() =>
      withHints({ ENOMEM: 'm' }, () => {
        throw foreign;
      }),
    ).toThrow(foreign);
    expect(() =>
      withHints({ EINVAL: 'i' }, () => {
        throw plain;
      }),
    ).toThrow(plain);
    expect(withHints({}, () => 5)).toBe(5);
    expect(isKernelError(foreign)).toBe(true);
    expect(isKernelError(Object.assign(new Error('x'), { name: 'KernelError' }))).toBe(false);
  });
});
