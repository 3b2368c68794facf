// Host: every wrong argument is a TypeError/RangeError before any ioctl (the fd here is /dev/null: a syscall
// reaching it would fail with ENOTTY, which the tests would see).
import { closeSync, openSync } from 'node:fs';
import { KernelError, WrongFdError } from '@zcopy/core';
import { afterAll, describe, expect, it } from 'vitest';
import { EXPORT_EINVAL_TRANSLATED, NOT_AUTO_TRANSLATED } from '../src/errors.js';
import { GntdevDmabuf } from '../src/index.js';

// GntdevDmabuf.borrow refuses /dev/null (WrongFdError): the stand-in is made past the check, as a subclass can.
class StandIn extends GntdevDmabuf {
  static over(fd: number): GntdevDmabuf {
    return new StandIn(fd, false);
  }
}

const nullFd = openSync('/dev/null', 'r+');
const dev = StandIn.over(nullFd);

describe('the wrong fd', () => {
  it('open, adopt and borrow of /dev/null: WrongFdError naming it', () => {
    expect(() => GntdevDmabuf.open('/dev/null')).toThrow(WrongFdError);
    expect(() => GntdevDmabuf.borrow(nullFd)).toThrow(/is \/dev\/null .*not the gntdev device/);
    expect(() => GntdevDmabuf.adopt(nullFd)).toThrow(expect.objectContaining({ code: 'ERR_ZCOPY_WRONG_FD' }));
  });
});
afterAll(() => {
  dev.close();
  closeSync(nullFd);
});

describe('exportFromRefs arguments', () => {
  it('checks domid, refs and backing', () => {
    expect(() => dev.exportFromRefs(-1, [1])).toThrow(RangeError);
    expect(() => dev.exportFromRefs(0x7ff0, [1])).toThrow(RangeError);
    expect(() => dev.exportFromRefs(1.5, [1])).toThrow(TypeError);
    expect(() => dev.exportFromRefs('1' as unknown as number, [1])).toThrow(TypeError);
    expect(() => dev.exportFromRefs(1, [])).toThrow(RangeError);
    expect(() => dev.exportFromRefs(1, [2 ** 32])).toThrow(RangeError);
    expect(() => dev.exportFromRefs(1, 'refs' as unknown as number[])).toThrow(TypeError);
    expect(() => dev.exportFromRefs(1, [1], { backing: ['wc', 'coherent'] })).toThrow(/exclude each other/);
    expect(() => dev.exportFromRefs(1, [1], { backing: 'uncached' as 'wc' })).toThrow(TypeError);
    expect(() => dev.exportFromRefs(1, [1], null as unknown as object)).toThrow(TypeError);
  });
  it('reaches the kernel with good arguments (here /dev/null: ENOTTY, named)', () => {
    expect(() => dev.exportFromRefs(1, [1])).toThrow(
      /IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS.*ENOTTY.*XEN_GNTDEV_DMABUF/,
    );
  });
});

describe('importToRefs and waitReleased arguments', () => {
  it('want a DmaBuf and a domid', async () => {
    expect(() => dev.importToRefs({} as never, 0)).toThrow(TypeError);
    await expect(dev.waitReleased({} as never)).rejects.toThrow(TypeError);
  });
});

describe('errors', () => {
  it('explains EINVAL of export in a PV domain or a translated one', () => {
    // The hint is core's registered one: every KernelError of that request carries it, however it was made.
    const x = new KernelError({ errno: 22, syscall: 'ioctl', request: 'IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS' });
    expect(x).toBeInstanceOf(KernelError);
    expect(x.code).toBe('EINVAL');
    expect(x.message).toMatch(/not auto-translated|GNTMAP_device_map/);
    expect(NOT_AUTO_TRANSLATED).toMatch(/PV/);
    // Another request's EINVAL does not get it.
    const other = new KernelError({ errno: 22, syscall: 'ioctl', request: 'ZCOPY_OTHER_REQUEST' });
    expect(other.message).not.toContain(NOT_AUTO_TRANSLATED);
    expect(other.message).not.toContain(EXPORT_EINVAL_TRANSLATED);
  });
});
