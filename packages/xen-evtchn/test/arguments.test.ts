// Host: argument checks and the delivery machinery's bookkeeping. /dev/xen/evtchn is not on this host:
// event delivery between domains is in the *.vm.test.ts files.
import {
  activePollers,
  ClosedError,
  EventFd,
  Fd,
  type FdLike,
  fdOf,
  KernelError,
  TimeoutError,
  WrongFdError,
} from '@zcopy/core';
import { describe, expect, it } from 'vitest';
import { EventChannel } from '../src/index.js';

// borrow() refuses anything but evtchn (WrongFdError): the stand-ins are made past the check, as a subclass can.
class StandIn extends EventChannel {
  static over(fd: FdLike, options: { autoUnmask?: boolean } = {}): EventChannel {
    return new StandIn(fdOf(fd), { owned: false, autoUnmask: options.autoUnmask });
  }
}

function borrowDevNull(): { ch: EventChannel; fd: Fd } {
  const fd = Fd.open('/dev/null', 2);
  return { ch: StandIn.over(fd), fd };
}

// Stand-in for the device on this host: a non-blocking eventfd reads as 8 bytes, i.e. two u32 "ports" (low word
// first), and polls readable while its counter is non-zero. With autoUnmask off nothing is written back.
function fakeDevice(): { ch: EventChannel; efd: EventFd; fire(a: number, b: number): void } {
  const efd = EventFd.create(0);
  const ch = StandIn.over(efd, { autoUnmask: false });
  return { ch, efd, fire: (a, b) => efd.write((BigInt(b) << 32n) | BigInt(a)) };
}

describe('EventChannel arguments', () => {
  it('open, adopt and borrow of a file that is not evtchn: WrongFdError naming it', () => {
    expect(() => EventChannel.open({ path: '/dev/null' })).toThrow(WrongFdError);
    using e = EventFd.create();
    expect(() => EventChannel.borrow(e)).toThrow(/is anon_inode:\[eventfd\], not the evtchn device/);
    expect(() => EventChannel.adopt(e.fd)).toThrow(expect.objectContaining({ code: 'ERR_ZCOPY_WRONG_FD' }));
  });

  it('open() of a missing device is a KernelError with the path; bad options are TypeErrors', () => {
    expect(() => EventChannel.open({ path: '/nonexistent/evtchn' })).toThrow(
      expect.objectContaining({ code: 'ENOENT', path: '/nonexistent/evtchn' }),
    );
    expect(() => EventChannel.open({ path: 3 as never })).toThrow(TypeError);
    expect(() => EventChannel.open({ restrictDomid: -1 })).toThrow(RangeError);
    expect(() => EventChannel.open({ restrictDomid: 0 })).toThrow(RangeError); // dom0 cannot be the restriction
    expect(() => EventChannel.open(null as never)).toThrow(TypeError);
  });

  it('binds, notify and unmask check ports and domids before any syscall', () => {
    const { ch, fd } = borrowDevNull();
    try {
      expect(() => ch.bindInterdomain(-1, 3)).toThrow(RangeError);
      expect(() => ch.bindInterdomain(1, -3)).toThrow(RangeError);
      expect(() => ch.bindInterdomain(1, 1.5)).toThrow(TypeError);
      expect(() => ch.bindUnboundPort(0x8000)).toThrow(RangeError);
      expect(() => ch.bindVirq(0.5)).toThrow(TypeError);
      expect(() => ch.notify('1' as never)).toThrow(TypeError);
      expect(() => ch.unmask([1, -1])).toThrow(RangeError);
      expect(() => ch.restrictDomid(0x7ff0)).toThrow(RangeError);
      expect(() => ch.on('x' as never)).toThrow(TypeError);
      // Valid calls reach the kernel, which says /dev/null is no evtchn device.
      expect(() => ch.notify(3)).toThrow(
        expect.objectContaining({ code: 'ENOTTY', request: 'IOCTL_EVTCHN_NOTIFY' }),
      );
      expect(() => ch.bindUnboundPort(0)).toThrow(KernelError);
      expect(ch.ports.size).toBe(0);
    } finally {
      ch.close();
      fd.close();
    }
  });

  it('wait() rejects a bad port, a timeout and a close, and leaves no poller behind', async () => {
    const { ch, efd: fd } = fakeDevice();
    try {
      await expect(ch.wait(-1)).rejects.toThrow(RangeError);
      await expect(ch.next({ timeoutMs: -5 })).rejects.toThrow(RangeError);
      await expect(ch.next({ timeoutMs: 30 })).rejects.toBeInstanceOf(TimeoutError);
      const ac = new AbortController();
      const aborted = ch.wait(5, { signal: ac.signal });
      ac.abort();
      await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
      const pending = ch.next();
      ch.close();
      await expect(pending).rejects.toBeInstanceOf(ClosedError);
      await expect(ch.next()).rejects.toBeInstanceOf(ClosedError);
      expect(activePollers()).toBe(0);
    } finally {
      fd.close();
    }
  });

  it('events() yields what fires and ends when the channel closes', async () => {
    const { ch, efd: fd, fire } = fakeDevice();
    try {
      const seen: number[] = [];
      const loop = (async () => {
        for await (const p of ch.events()) {
          seen.push(p);
          if (seen.length === 2) fire(9, 9); // coalesced: one event for port 9
        }
      })();
      await new Promise((r) => setTimeout(r, 20));
      fire(3, 4);
      await new Promise((r) => setTimeout(r, 50));
      ch.close();
      await loop;
      expect(seen).toEqual([3, 4, 9]);
      expect(activePollers()).toBe(0);
    } finally {
      fd.close();
    }
  });
});

describe('delivery bookkeeping (eventfd stand-in)', () => {
  it('ports that fire while nobody waits are kept, coalesced, for the next wait of each', async () => {
    const { ch, efd, fire } = fakeDevice();
    try {
      fire(5, 7);
      await expect(ch.wait(7, { timeoutMs: 1000 })).resolves.toBe(7);
      await expect(ch.next({ timeoutMs: 1000 })).resolves.toBe(5);
      fire(5, 5);
      expect(ch.takePending()).toEqual([5]);
      expect(ch.takePending()).toEqual([]);
      // A waiter for one port is not woken by another; the other stays pending.
      const w = ch.wait(11, { timeoutMs: 2000 });
      fire(12, 12);
      await new Promise((r) => setTimeout(r, 20));
      fire(11, 11);
      await expect(w).resolves.toBe(11);
      expect(ch.takePending()).toEqual([12]);
      expect(activePollers()).toBe(0);
    } finally {
      ch.close();
      efd.close();
    }
  });

  it('on() sees every port and its unsubscribe stops the poller', async () => {
    const { ch, efd, fire } = fakeDevice();
    try {
      const seen: number[] = [];
      const off = ch.on((p) => seen.push(p));
      expect(activePollers()).toBe(1);
      fire(1, 2);
      await new Promise((r) => setTimeout(r, 30));
      expect(seen).toEqual([1, 2]);
      off();
      expect(activePollers()).toBe(0);
    } finally {
      ch.close();
      efd.close();
    }
  });
});

describe('shared Xen constants', () => {
  it('@zcopy/xen has the domain ids of the header the addon was built against', async () => {
    const { binding } = await import('../src/native.js');
    const xen = await import('@zcopy/xen');
    expect(xen.DOMID_FIRST_RESERVED).toBe(binding.constants.DOMID_FIRST_RESERVED);
    expect(xen.DOMID_SELF).toBe(binding.constants.DOMID_SELF);
  });
});
