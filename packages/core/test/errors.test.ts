import { constants } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ClosedError,
  charDeviceOf,
  describeFd,
  errnoName,
  errnoNumber,
  Fd,
  KernelError,
  Memfd,
  WrongFdError,
  ZcopyError,
} from '../src/index.js';
import { pin, registerHints, withErrorContext } from '../src/internal.js';

describe('KernelError from real failing syscalls', () => {
  it('open of a missing device node: ENOENT with path and syscall', () => {
    let err: unknown;
    try {
      Fd.open('/dev/zcopy-does-not-exist', constants.O_RDWR);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelError);
    const k = err as KernelError;
    expect(k.name).toBe('KernelError');
    expect(k.code).toBe('ENOENT');
    expect(k.errno).toBe(2);
    expect(k.syscall).toBe('open');
    expect(k.path).toBe('/dev/zcopy-does-not-exist');
    expect(k.request).toBeUndefined();
    expect(k.message).toMatch(
      /^open \/dev\/zcopy-does-not-exist failed: ENOENT \(no such file or directory\): the device node/,
    );
  });

  it('an ioctl on /dev/null: ENOTTY naming the request', () => {
    using f = Fd.open('/dev/null', constants.O_RDONLY);
    let err: unknown;
    try {
      f.bytesReadable();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelError);
    const k = err as KernelError;
    expect(k.code).toBe('ENOTTY');
    expect(k.errno).toBe(25);
    expect(k.syscall).toBe('ioctl');
    expect(k.request).toBe('FIONREAD');
    expect(k.path).toBeUndefined();
    expect(k.message).toContain('ioctl FIONREAD failed: ENOTTY');
    expect(k.message).toContain('does not implement the ioctl');
  });

  it('an fcntl seal on a memfd without MFD_ALLOW_SEALING: EPERM', () => {
    using m = Memfd.create('no-seals', { allowSealing: false });
    expect(() => m.addSeals(['shrink'])).toThrow(
      expect.objectContaining({ code: 'EPERM', syscall: 'fcntl', request: 'F_ADD_SEALS' }),
    );
  });

  it('registered hints explain a request-specific errno', () => {
    registerHints('ZCOPY_TEST_REQUEST', { EINVAL: 'the test request needs a page-aligned size' });
    const k = new KernelError({ errno: 22, syscall: 'ioctl', request: 'ZCOPY_TEST_REQUEST' });
    expect(k.message).toBe(
      'ioctl ZCOPY_TEST_REQUEST failed: EINVAL (invalid argument): the test request needs a page-aligned size',
    );
  });

  it('a hint can be a function of the failure and the call context; undefined passes to the next one', () => {
    registerHints('ZCOPY_TEST_FN', { EINVAL: 'the generic rule' });
    registerHints('ZCOPY_TEST_FN', {
      EINVAL: (i) => (i.context?.size === 0 ? `size 0 is refused (${i.code}, errno ${i.errno})` : undefined),
    });
    const made = () => new KernelError({ errno: 22, syscall: 'ioctl', request: 'ZCOPY_TEST_FN' });
    expect(made().message).toMatch(/: the generic rule$/);
    expect(withErrorContext({ size: 0 }, made).message).toMatch(/: size 0 is refused \(EINVAL, errno 22\)$/);
    expect(withErrorContext({ size: 4096 }, made).message).toMatch(/: the generic rule$/);
    // The context is gone once the call returns, also when it threw.
    expect(() =>
      withErrorContext({ size: 0 }, () => {
        throw made();
      }),
    ).toThrow(/size 0 is refused/);
    expect(made().message).toMatch(/: the generic rule$/);
    // A context's path names the file of a failure that has none.
    const k = withErrorContext(
      { path: '/dev/zcopy-test' },
      () => new KernelError({ errno: 22, syscall: 'mmap' }),
    );
    expect(k.path).toBe('/dev/zcopy-test');
    expect(k.message).toMatch(/^mmap \/dev\/zcopy-test failed: EINVAL/);
    // A context's own hint function goes first, and may pass.
    const own = (code: string) =>
      withErrorContext(
        { hint: (i: { code: string }) => (i.code === code ? 'only this call knows' : undefined) },
        made,
      );
    expect(own('EINVAL').message).toMatch(/: only this call knows$/);
    expect(own('ENOENT').message).toMatch(/: the generic rule$/);
  });

  it('errno names come from Node', () => {
    expect(errnoName(22)).toBe('EINVAL');
    expect(errnoNumber('ENOTTY')).toBe(25);
    expect(() => errnoNumber('ENOPE')).toThrow(RangeError);
  });
});

describe('wrong JS arguments throw before any syscall', () => {
  it('TypeError and RangeError', () => {
    expect(() => Fd.open(42 as unknown as string, 0)).toThrow(TypeError);
    expect(() => Fd.borrow(1.5)).toThrow(TypeError);
    expect(() => Fd.borrow(-1)).toThrow(RangeError);
    expect(() => Fd.dup('3' as unknown as number)).toThrow(TypeError);
    expect(() => Memfd.create('x', { size: -1 })).toThrow(RangeError);
    expect(() => Memfd.create('x', { seals: ['glue' as 'seal'] })).toThrow(TypeError);
  });
});

describe('across copies of @zcopy/core', () => {
  it('instanceof and hints hold for errors made by another copy of the module', async () => {
    // A second instance of the module, as vitest's per-file isolation (or two installed copies) creates.
    const copy = '../src/errors.js?copy';
    const other = (await import(/* @vite-ignore */ copy)) as typeof import('../src/errors.js');
    expect(other.KernelError).not.toBe(KernelError);
    const theirs = new other.KernelError({ errno: 22, syscall: 'ioctl', request: 'ZCOPY_COPY_TEST' });
    expect(theirs).toBeInstanceOf(KernelError);
    expect(new other.ClosedError('X')).toBeInstanceOf(ClosedError);
    expect(new Error('plain')).not.toBeInstanceOf(KernelError);
    other.registerHints('ZCOPY_COPY_TEST', { EINVAL: 'registered through the other copy' });
    expect(new KernelError({ errno: 22, syscall: 'ioctl', request: 'ZCOPY_COPY_TEST' }).message).toContain(
      'registered through the other copy',
    );
  });

  it('Linux-only errnos have names', () => {
    expect(errnoName(77)).toBe('EBADFD');
    expect(new KernelError({ errno: 77, syscall: 'ioctl' }).code).toBe('EBADFD');
    expect(errnoNumber('EBADFD')).toBe(77);
  });
});

describe('every failure has a class and a code', () => {
  it('ZcopyError: a code, a message, a cause, and instanceof across module copies (branded)', () => {
    const e = new ZcopyError('ERR_ZCOPY_TEST', 'what happened', { cause: 1 });
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(ZcopyError);
    expect(e).toMatchObject({
      name: 'ZcopyError',
      code: 'ERR_ZCOPY_TEST',
      message: 'what happened',
      cause: 1,
    });
    expect({ [Symbol.for('zcopy.ZcopyError')]: true }).toBeInstanceOf(ZcopyError);
    expect(new Error('x')).not.toBeInstanceOf(ZcopyError);
  });

  it('WrongFdError: a TypeError with fd, target, expected and the code ERR_ZCOPY_WRONG_FD', () => {
    const e = new WrongFdError(7, '/dev/null', 'a sw_sync timeline');
    expect(e).toBeInstanceOf(TypeError);
    expect(e).toBeInstanceOf(WrongFdError);
    expect(e).toMatchObject({
      code: 'ERR_ZCOPY_WRONG_FD',
      fd: 7,
      target: '/dev/null',
      expected: 'a sw_sync timeline',
    });
    expect(e.message).toBe('fd 7 is /dev/null, not a sw_sync timeline');
    expect(new TypeError('x')).not.toBeInstanceOf(WrongFdError);
  });

  it('detachFd while a blocking call holds the fd: ZcopyError ERR_ZCOPY_BUSY, the object left as it was', () => {
    using m = Memfd.create('busy');
    const unpin = pin(m);
    expect(() => m.detachFd()).toThrow(
      expect.objectContaining({ name: 'ZcopyError', code: 'ERR_ZCOPY_BUSY' }),
    );
    expect(m.closed).toBe(false);
    unpin();
    const fd = m.detachFd();
    Fd.adopt(fd).close();
  });

  it('a borrowed object has nothing to detach: TypeError', () => {
    using m = Memfd.create('owner');
    using b = Memfd.borrow(m);
    expect(() => b.detachFd()).toThrow(TypeError);
  });

  it("describeFd says what an fd is; charDeviceOf reads a device node's numbers and sysfs name", () => {
    using n = Fd.open('/dev/null', 0);
    expect(describeFd(n.fd)).toMatch(/^\/dev\/null \(char 1:3(, mem\/null)?\)$/);
    expect(charDeviceOf(n.fd)).toMatchObject({ major: 1, minor: 3 });
    using m = Memfd.create('described');
    expect(describeFd(m.fd)).toBe('/memfd:described (deleted)');
    expect(charDeviceOf(m.fd)).toBeUndefined();
    const fd = m.fd;
    m.close();
    expect(describeFd(fd)).toBe(`fd ${fd} (not open)`);
    expect(() => charDeviceOf(fd)).toThrow(expect.objectContaining({ name: 'KernelError', code: 'EBADF' }));
  });
});
