// Host: argument checks (TypeError/RangeError before any syscall) and errors of the wrong fd kind.
// The gntdev/gntalloc drivers are not on this host: their behaviour is in the *.vm.test.ts files.
import { Fd, type FdLike, fdOf, KernelError, openFdCount, WrongFdError } from '@zcopy/core';
import { describe, expect, it } from 'vitest';
import { GNTST, GrantMapper, GrantSharer, grantStatusName, pageCopySegments } from '../src/index.js';

// /dev/null stands in for the devices on this host: borrow() refuses it (WrongFdError), so the stand-ins are made
// the way a subclass can, past the check.
class MapperStandIn extends GrantMapper {
  static over(fd: FdLike): GrantMapper {
    return new MapperStandIn(fdOf(fd), { owned: false });
  }
}
class SharerStandIn extends GrantSharer {
  static over(fd: FdLike): GrantSharer {
    return new SharerStandIn(fdOf(fd), { owned: false });
  }
}

function withDevNull<T>(fn: (fd: Fd) => T): T {
  const fd = Fd.open('/dev/null', 2);
  try {
    return fn(fd);
  } finally {
    fd.close();
  }
}

describe('GrantMapper arguments', () => {
  it('open() of a missing device is a KernelError with the path', () => {
    const e = (() => {
      try {
        GrantMapper.open('/nonexistent/gntdev');
      } catch (err) {
        return err;
      }
    })() as KernelError;
    expect(e).toBeInstanceOf(KernelError);
    expect(e.code).toBe('ENOENT');
    expect(e.path).toBe('/nonexistent/gntdev');
  });

  it('map() rejects bad domids, refs and access before any syscall', () => {
    withDevNull((fd) => {
      const m = MapperStandIn.over(fd);
      expect(() => m.map(0, [])).toThrow(RangeError);
      expect(() => m.map(0, new Uint32Array(0))).toThrow(RangeError);
      expect(() => m.map(0, [1.5])).toThrow(TypeError);
      expect(() => m.map(0, [-1])).toThrow(RangeError);
      expect(() => m.map(0, [2 ** 32])).toThrow(RangeError);
      expect(() => m.map(0, 'x' as never)).toThrow(TypeError);
      expect(() => m.map(-1, [1])).toThrow(RangeError);
      expect(() => m.map(0x7ff0, [1])).toThrow(RangeError);
      expect(() => m.map('0' as never, [1])).toThrow(TypeError);
      expect(() => m.map([0, 1], [1])).toThrow(RangeError);
      expect(() => m.map(0, [1], { access: 'write' as never })).toThrow(TypeError);
      expect(() => m.setMaxGrants(0)).toThrow(RangeError);
      expect(m.mappings.size).toBe(0);
    });
  });

  it('the ioctl on a fd that is not gntdev is a KernelError naming the request', () => {
    withDevNull((fd) => {
      const m = MapperStandIn.over(fd);
      let err: unknown;
      try {
        m.map(0, [1, 2, 3]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KernelError);
      expect((err as KernelError).code).toBe('ENOTTY');
      expect((err as KernelError).request).toBe('IOCTL_GNTDEV_MAP_GRANT_REF');
      expect(m.setMaxGrants(16)).toBe(false); // ENOTTY: no per-fd limit to set
    });
  });

  it('copy() checks every segment: sides, lengths, page bounds and buffer bounds', () => {
    withDevNull((fd) => {
      const m = MapperStandIn.over(fd);
      const buf = Buffer.alloc(4096);
      const grant = { ref: 8, domid: 0 };
      expect(() => m.copy([{ source: grant, dest: { buffer: buf }, length: 0 }])).toThrow(RangeError);
      expect(() => m.copy([{ source: grant, dest: { buffer: buf }, length: 4097 }])).toThrow(RangeError);
      expect(() => m.copy([{ source: { buffer: buf }, dest: { buffer: buf }, length: 1 }])).toThrow(
        RangeError,
      );
      expect(() => m.copy([{ source: { ref: 1 } as never, dest: { buffer: buf }, length: 1 }])).toThrow(
        TypeError,
      );
      expect(() => m.copy([{ source: { buffer: 'x' } as never, dest: grant, length: 1 }])).toThrow(TypeError);
      // Native checks: a grant side may not cross its page; a local side may not run past its buffer.
      expect(() =>
        m.copy([{ source: { ...grant, offset: 4000 }, dest: { buffer: buf }, length: 200 }]),
      ).toThrow(RangeError);
      expect(() => m.copy([{ source: grant, dest: { buffer: buf, offset: 4000 }, length: 200 }])).toThrow(
        RangeError,
      );
      expect(() => m.copy([{ source: grant, dest: { buffer: buf.subarray(0, 100) }, length: 101 }])).toThrow(
        RangeError,
      );
      expect(m.copy([])).toEqual([]);
      // A valid request reaches the kernel: /dev/null is not gntdev.
      expect(() => m.copy([{ source: grant, dest: { buffer: buf }, length: 4096 }])).toThrow(
        expect.objectContaining({ code: 'ENOTTY', request: 'IOCTL_GNTDEV_GRANT_COPY' }),
      );
    });
  });

  it('copyAsync() rejects the same way and the kernel error arrives as a rejection', async () => {
    const fd = Fd.open('/dev/null', 2);
    try {
      const m = MapperStandIn.over(fd);
      await expect(
        m.copyAsync([{ source: { ref: 1, domid: 0 }, dest: { ref: 2, domid: 0 }, length: 0 }]),
      ).rejects.toThrow(RangeError);
      await expect(
        m.copyAsync([{ source: { ref: 1, domid: 0 }, dest: { buffer: new Uint8Array(8) }, length: 8 }]),
      ).rejects.toMatchObject({ code: 'ENOTTY', request: 'IOCTL_GNTDEV_GRANT_COPY' });
    } finally {
      fd.close();
    }
  });
});

describe('packed grant copy segments (the addon checks them again)', () => {
  // The addon takes segments packed by copy.ts: 8 u32 words each (length, kinds: 1 source is a grant, 2 dest is
  // a grant, then per side ref|buffer index, domid, offset). A caller of the raw binding that skips the JS
  // checks still gets a RangeError, never an ioctl with a pointer past a buffer.
  const seg = (w: number[]) => Uint32Array.from(w);
  const grantToLocal = (len: number, ref: number, domid: number, gOff: number, buf: number, lOff: number) =>
    seg([len, 1, ref, domid, gOff, buf, 0, lOff]);

  it('refuses every out-of-range word before the ioctl; a good one reaches the kernel', async () => {
    const { binding } = await import('../src/native.js');
    withDevNull((fd) => {
      const buf = new Uint8Array(4096);
      const call = (w: Uint32Array, buffers: unknown[] = [buf], count = w.length / 8) =>
        binding.grantCopy(fd.fd, w, count, buffers as never);
      expect(() => call(grantToLocal(4096, 1, 0, 0, 0, 1))).toThrow(
        /segments\[0\]\.dest: offset \+ length goes past/,
      );
      expect(() => call(grantToLocal(1, 1, 0, 0, 1, 0))).toThrow(/no such buffer/);
      expect(() => call(grantToLocal(200, 1, 0, 4000, 0, 0))).toThrow(/cannot cross its page/);
      expect(() => call(grantToLocal(1, 1, 0, 0xffffffff, 0, 0))).toThrow(/cannot cross its page/);
      expect(() => call(grantToLocal(1, 1, 0x7ff0, 0, 0, 0))).toThrow(/domid is out of range/);
      expect(() => call(grantToLocal(0, 1, 0, 0, 0, 0))).toThrow(/length must be within/);
      expect(() => call(grantToLocal(4097, 1, 0, 0, 0, 0))).toThrow(/length must be within/);
      expect(() => call(seg([1, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/one side must be a grant/);
      expect(() => call(seg([1, 4, 0, 0, 0, 0, 0, 0]))).toThrow(/one side must be a grant/);
      expect(() => call(grantToLocal(8, 1, 0, 0, 0, 0), [buf], 2)).toThrow(/larger than 'words' holds/);
      expect(() => call(grantToLocal(8, 1, 0, 0, 0, 0), ['x'])).toThrow(TypeError);
      expect(() => binding.grantCopy(fd.fd, new Int32Array(8) as never, 1, [buf])).toThrow(TypeError);
      // A view is bounded by its own window, not its ArrayBuffer's.
      const view = new Uint8Array(new ArrayBuffer(8192), 4096, 100);
      expect(() => call(grantToLocal(101, 1, 0, 0, 0, 0), [view])).toThrow(/goes past the end/);
      // A detached buffer has no bytes left to write.
      const gone = new ArrayBuffer(4096);
      structuredClone(gone, { transfer: [gone] });
      expect(() => call(grantToLocal(1, 1, 0, 0, 0, 0), [gone])).toThrow(/goes past the end/);
      expect(() => binding.prepareCopy(grantToLocal(4096, 1, 0, 0, 0, 1), 1, [buf])).toThrow(RangeError);
      expect(() => call(grantToLocal(4096, 1, 0, 0, 0, 0))).toThrow(
        expect.objectContaining({ code: 'ENOTTY', request: 'IOCTL_GNTDEV_GRANT_COPY' }),
      );
      expect(() => call(grantToLocal(100, 1, 0, 0, 0, 0), [view])).toThrow(
        expect.objectContaining({ code: 'ENOTTY' }),
      );
    });
  });

  it('a copy made by a getter during packing does not disturb the outer copy', () => {
    withDevNull((fd) => {
      const m = MapperStandIn.over(fd);
      const buf = Buffer.alloc(8192);
      const big = Buffer.alloc(16384);
      let inner: unknown;
      // The inner segment is good against its own buffer (big) and out of bounds against the outer's (buf): had
      // the inner call packed into the outer's words, the outer call would fail with a RangeError.
      const segments = [
        { source: { ref: 1, domid: 0 }, dest: { buffer: buf }, length: 16 },
        {
          source: { ref: 2, domid: 0 },
          get dest() {
            try {
              m.copy([{ source: { ref: 3, domid: 0 }, dest: { buffer: big, offset: 8000 }, length: 4000 }]);
            } catch (e) {
              inner = e;
            }
            return { buffer: buf, offset: 4096 };
          },
          length: 4096,
        },
      ];
      // Both reach the kernel (/dev/null: ENOTTY), each with its own words.
      expect(() => m.copy(segments)).toThrow(expect.objectContaining({ code: 'ENOTTY' }));
      expect(inner).toMatchObject({ code: 'ENOTTY' });
      const outOfBounds = { source: { ref: 2, domid: 0 }, dest: { buffer: buf, offset: 4097 }, length: 4096 };
      expect(() => m.copy([segments[0]!, outOfBounds])).toThrow(/segments\[1\]\.dest: offset \+ length/);
    });
  });
});

describe('GrantSharer arguments', () => {
  it('share() rejects bad domid, count and options before any syscall', () => {
    withDevNull((fd) => {
      const s = SharerStandIn.over(fd);
      expect(() => s.share(0, 0)).toThrow(RangeError);
      expect(() => s.share(0, 1.5)).toThrow(TypeError);
      expect(() => s.share(0x7ff0, 1)).toThrow(RangeError);
      expect(() => s.share(0, 1, { writable: 1 as never })).toThrow(TypeError);
      expect(() => s.share(0, 1)).toThrow(
        expect.objectContaining({ code: 'ENOTTY', request: 'IOCTL_GNTALLOC_ALLOC_GREF' }),
      );
      expect(s.shares.size).toBe(0);
    });
  });
});

describe('grant copy helpers', () => {
  it('status names come from the Xen header and unknown codes say so', () => {
    expect(GNTST.okay).toBe(0);
    expect(grantStatusName(GNTST.bad_gntref)).toBe('bad_gntref');
    expect(grantStatusName(GNTST.permission_denied)).toBe('permission_denied');
    expect(grantStatusName(-99)).toBe('unknown(-99)');
    expect(new Set(Object.values(GNTST)).size).toBe(Object.keys(GNTST).length);
  });

  it('pageCopySegments() lays page i of the buffer against ref i, in both directions', () => {
    const buf = new Uint8Array(3 * 4096);
    const from = pageCopySegments({ domid: 3, refs: [7, 9, 11], buffer: buf, direction: 'from-grants' });
    expect(from).toEqual(
      [0, 1, 2].map((i) => ({
        source: { ref: [7, 9, 11][i], domid: 3, offset: 0 },
        dest: { buffer: buf, offset: i * 4096 },
        length: 4096,
      })),
    );
    const to = pageCopySegments({ domid: 3, refs: [7], buffer: buf, direction: 'to-grants' });
    expect(to[0]!.dest).toEqual({ ref: 7, domid: 3, offset: 0 });
    expect(() => pageCopySegments({ domid: 3, refs: [7], buffer: buf, direction: 'x' as never })).toThrow(
      TypeError,
    );
  });
});

describe('no leaks on errors', () => {
  it('failed calls leave no tracked fd behind', () => {
    const before = openFdCount();
    for (let i = 0; i < 20; i++) {
      expect(() => GrantMapper.open('/nonexistent')).toThrow(KernelError);
      expect(() => GrantSharer.open('/nonexistent')).toThrow(KernelError);
    }
    expect(openFdCount()).toBe(before);
  });
});

describe('the wrong fd is refused at open, adopt and borrow', () => {
  it('/dev/null is not gntdev or gntalloc: WrongFdError naming it, and open() closes what it opened', () => {
    const before = openFdCount();
    for (const open of [() => GrantMapper.open('/dev/null'), () => GrantSharer.open('/dev/null')]) {
      const e = (() => {
        try {
          open();
        } catch (x) {
          return x;
        }
      })() as WrongFdError;
      expect(e).toBeInstanceOf(WrongFdError);
      expect(e.code).toBe('ERR_ZCOPY_WRONG_FD');
      expect(e.message).toMatch(/is \/dev\/null \(char 1:3, mem\/null\), not the (gntdev|gntalloc) device/);
    }
    expect(openFdCount()).toBe(before);
    withDevNull((fd) => {
      expect(() => GrantMapper.borrow(fd)).toThrow(WrongFdError);
      expect(() => GrantMapper.adopt(fd.fd)).toThrow(WrongFdError);
      expect(() => GrantSharer.borrow(fd)).toThrow(/not the gntalloc device/);
      expect(() => GrantSharer.adopt(fd.fd)).toThrow(WrongFdError);
      expect(fd.closed).toBe(false); // still the caller's
    });
  });
});

describe('copy plans', () => {
  it('prepareCopy() checks once; run() reaches the kernel each time; an empty plan is refused', async () => {
    const fd = Fd.open('/dev/null', 2);
    try {
      const m = MapperStandIn.over(fd);
      expect(() => m.prepareCopy([])).toThrow(RangeError);
      expect(() =>
        m.prepareCopy([{ source: { ref: 1, domid: 0 }, dest: { buffer: new Uint8Array(4) }, length: 8 }]),
      ).toThrow(RangeError);
      const plan = m.prepareCopy(
        pageCopySegments({ domid: 0, refs: [1, 2], buffer: new Uint8Array(8192), direction: 'from-grants' }),
      );
      expect(plan.segments).toBe(2);
      expect(() => plan.run()).toThrow(
        expect.objectContaining({ code: 'ENOTTY', request: 'IOCTL_GNTDEV_GRANT_COPY' }),
      );
      await expect(plan.runAsync()).rejects.toMatchObject({ code: 'ENOTTY' });
      // A plan keeps pointers into its buffers: one detached (transferred) since is refused before the ioctl.
      const frame = new ArrayBuffer(8192);
      const moved = m.prepareCopy(
        pageCopySegments({ domid: 0, refs: [1, 2], buffer: frame, direction: 'from-grants' }),
      );
      expect(() => moved.run()).toThrow(expect.objectContaining({ code: 'ENOTTY' }));
      structuredClone(frame, { transfer: [frame] });
      expect(() => moved.run()).toThrow(/detached or shrunk since prepareCopy/);
      await expect(moved.runAsync()).rejects.toThrow(RangeError);
      const view = new Uint8Array(new ArrayBuffer(8192));
      const viaView = m.prepareCopy(
        pageCopySegments({ domid: 0, refs: [1], buffer: view.subarray(4096), direction: 'to-grants' }),
      );
      expect(() => viaView.run()).toThrow(expect.objectContaining({ code: 'ENOTTY' }));
      structuredClone(view.buffer, { transfer: [view.buffer] });
      expect(() => viaView.run()).toThrow(RangeError);
    } finally {
      fd.close();
    }
  });
});

describe('shared Xen constants', () => {
  it('@zcopy/xen has the domain ids of the header the addon was built against', async () => {
    const { binding } = await import('../src/native.js');
    const xen = await import('@zcopy/xen');
    expect(xen.DOMID_FIRST_RESERVED).toBe(binding.constants.DOMID_FIRST_RESERVED);
  });
});
