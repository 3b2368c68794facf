// Host: argument checks of dumb buffers, PRIME and vgem fences before any ioctl (no DRM device needed).
import { describe, expect, it } from 'vitest';
import { checkDumbOptions } from '../src/index.js';
import { binding } from '../src/native.js';

describe('dumb buffer options', () => {
  it('u32 integers pass, zero included (the kernel refuses zero sizes with its own EINVAL)', () => {
    expect(checkDumbOptions({ width: 640, height: 480, bpp: 32 })).toEqual({
      width: 640,
      height: 480,
      bpp: 32,
    });
    expect(checkDumbOptions({ width: 0, height: 0xffff_ffff, bpp: 0 })).toEqual({
      width: 0,
      height: 0xffff_ffff,
      bpp: 0,
    });
  });

  it('anything else is a TypeError or RangeError naming the field', () => {
    expect(() => checkDumbOptions({ width: -1, height: 1, bpp: 32 })).toThrow(/width must be a u32/);
    expect(() => checkDumbOptions({ width: 1, height: 2 ** 32, bpp: 32 })).toThrow(RangeError);
    expect(() => checkDumbOptions({ width: 1, height: 1, bpp: 1.5 })).toThrow(/bpp must be an integer/);
    expect(() => checkDumbOptions({ width: 1, height: 1 } as never)).toThrow(TypeError);
    expect(() => checkDumbOptions({ width: '1', height: 1, bpp: 32 } as never)).toThrow(TypeError);
    expect(() => checkDumbOptions(null as never)).toThrow(TypeError);
  });
});

describe('raw binding', () => {
  it('checks fd and u32 arguments before the ioctl', () => {
    expect(() => binding.createDumb(-1, 1, 1, 32)).toThrow(RangeError);
    expect(() => binding.createDumb(0, 2 ** 32, 1, 32)).toThrow(RangeError);
    expect(() => binding.handleToFd(0, 1.5, 0)).toThrow(TypeError);
    expect(() => binding.fdToHandle(0, -1)).toThrow(RangeError);
    expect(() => binding.gemClose(0, 'x' as never)).toThrow(TypeError);
    expect(() => binding.vgemFenceAttach(0, 1, -1)).toThrow(RangeError);
  });

  it('PRIME flags are open(2)’s, and the vgem write flag is the header’s', () => {
    expect(binding.primeFlags).toEqual({ CLOEXEC: 0o2000000, RDWR: 2 });
    expect(binding.VGEM_FENCE_WRITE).toBe(1);
  });

  it('a non-DRM fd: ENOTTY from the DRM ioctls (stdin is no DRM device)', () => {
    expect(() => binding.createDumb(0, 1, 1, 32)).toThrow(/DRM_IOCTL_MODE_CREATE_DUMB/);
  });
});
