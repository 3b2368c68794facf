// Host: argument checks, and the failures any Linux can produce (missing node, a node that is not DRM).

import { execFileSync } from 'node:child_process';
import { closeSync, constants, fstatSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelError, openFdCount } from '@zcopy/core';
import { afterAll, describe, expect, it } from 'vitest';
import { DrmDevice, listDrmNodes } from '../src/index.js';
import { kernelError, procFdCount, wrongFd } from './helpers.js';

describe('DrmDevice.open', () => {
  it('a missing node: ENOENT KernelError with the path', () => {
    const before = procFdCount();
    const k = kernelError(() => DrmDevice.open('/dev/dri/zcopy-no-such-card'));
    expect(k.code).toBe('ENOENT');
    expect(k.syscall).toBe('open');
    expect(k.path).toBe('/dev/dri/zcopy-no-such-card');
    expect(k.message).toContain('the device node does not exist');
    expect(procFdCount()).toBe(before);
  });

  it('a node that is not DRM: WrongFdError (cause: ENOTTY from DRM_IOCTL_VERSION), the fd it opened closed again', () => {
    const before = procFdCount();
    const tracked = openFdCount();
    const w = wrongFd(() => DrmDevice.open('/dev/null'));
    expect(w.code).toBe('ERR_ZCOPY_WRONG_FD');
    expect(w.message).toMatch(/^fd \d+ is \/dev\/null \(char 1:3.*\), not a DRM device$/);
    const k = w.cause as KernelError;
    expect(k).toBeInstanceOf(KernelError);
    expect(k.code).toBe('ENOTTY');
    expect(k.syscall).toBe('ioctl');
    expect(k.request).toBe('DRM_IOCTL_VERSION');
    expect(k.message).toContain('not a DRM device node');
    expect(procFdCount()).toBe(before);
    expect(openFdCount()).toBe(tracked);
  });

  it('wrong arguments: TypeError before any syscall', () => {
    expect(() => DrmDevice.open(3 as unknown as string)).toThrow(TypeError);
    expect(() => DrmDevice.open('')).toThrow(TypeError);
    expect(() => DrmDevice.borrow(-1)).toThrow(RangeError);
    expect(() => DrmDevice.borrow(1.5)).toThrow(TypeError);
    expect(() => DrmDevice.adopt('7' as unknown as number)).toThrow(TypeError);
  });

  it('borrow and adopt of a non-DRM fd throw and leave the fd open and untracked', () => {
    const fd = openSync('/dev/null', constants.O_RDONLY);
    try {
      const tracked = openFdCount();
      expect((wrongFd(() => DrmDevice.borrow(fd)).cause as KernelError).request).toBe('DRM_IOCTL_VERSION');
      expect((wrongFd(() => DrmDevice.adopt(fd)).cause as KernelError).code).toBe('ENOTTY');
      expect(wrongFd(() => DrmDevice.borrow(fd)).target).toMatch(/^\/dev\/null/);
      expect(fstatSync(fd).isCharacterDevice()).toBe(true); // still open
      expect(openFdCount()).toBe(tracked);
    } finally {
      closeSync(fd);
    }
  });
});

describe('listDrmNodes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zcopy-dri-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing directory is an empty list (no DRM driver bound)', () => {
    expect(listDrmNodes({ dir: join(dir, 'absent') })).toEqual([]);
  });

  it('lists only card*/renderD* char devices, and reports a node that fails to open with its KernelError', () => {
    // A char device node that is not DRM (1:3 is /dev/null) under a DRM name: the probe's real ENOTTY.
    execFileSync('mknod', [join(dir, 'card7'), 'c', '1', '3']);
    closeSync(openSync(join(dir, 'renderD128'), 'w')); // a regular file: not a device node, skipped
    closeSync(openSync(join(dir, 'by-path'), 'w')); // not a node name, skipped
    const before = procFdCount();
    const nodes = listDrmNodes({ dir });
    expect(procFdCount()).toBe(before);
    expect(nodes).toHaveLength(1);
    const [n] = nodes;
    expect(n!.path).toBe(join(dir, 'card7'));
    expect(n!.name).toBe('card7');
    expect(n!.type).toBe('primary');
    expect(n!.major).toBe(1);
    expect(n!.minor).toBe(3);
    expect(n!.driver).toBeNull();
    expect(n!.prime).toBeNull();
    expect(n!.caps).toBeNull();
    expect(n!.error?.code).toBe('ENOTTY');
    expect(n!.error?.request).toBe('DRM_IOCTL_VERSION');
  });

  it('rejects a non-string dir', () => {
    expect(() => listDrmNodes({ dir: 1 as unknown as string })).toThrow(TypeError);
  });
});
