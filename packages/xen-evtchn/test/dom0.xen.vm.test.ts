// VM (Xen dom0): event channels on the real hypervisor, both ends in dom0 (an interdomain channel may loop back
// to the same domain). Between two domains: packages/grant-table/test/two-domain.xen.vm.test.ts.
import { activePollers, ClosedError, KernelError, TimeoutError } from '@zcopy/core';
import { fdSnapshot } from '@zcopy/test-harness';
import { afterEach, describe, expect, it } from 'vitest';
import { EventChannel } from '../src/index.js';

function pair(): { a: EventChannel; b: EventChannel; pa: number; pb: number } {
  const a = EventChannel.open();
  const b = EventChannel.open();
  const pa = a.bindUnboundPort(0);
  const pb = b.bindInterdomain(0, pa);
  return { a, b, pa, pb };
}

describe('event channels in dom0', () => {
  afterEach(() => {
    expect(activePollers()).toBe(0);
  });

  it('notify works both ways; each end sees only its own port', async () => {
    const { a, b, pa, pb } = pair();
    try {
      expect(pa).not.toBe(pb);
      expect([...a.ports]).toEqual([pa]);
      const atA = a.next({ timeoutMs: 5000 });
      b.notify(pb);
      await expect(atA).resolves.toBe(pa);
      const atB = b.wait(pb, { timeoutMs: 5000 });
      a.notify(pa);
      await expect(atB).resolves.toBe(pb);
      await expect(a.next({ timeoutMs: 100 })).rejects.toBeInstanceOf(TimeoutError);
    } finally {
      a.close();
      b.close();
    }
  });

  it('events coalesce while a port is masked, and unmask re-arms it (autoUnmask off)', async () => {
    const a = EventChannel.open({ autoUnmask: false });
    const b = EventChannel.open();
    try {
      const pa = a.bindUnboundPort(0);
      const pb = b.bindInterdomain(0, pa);
      for (let i = 0; i < 5; i++) b.notify(pb);
      await expect(a.next({ timeoutMs: 5000 })).resolves.toBe(pa);
      b.notify(pb); // masked: the kernel does not queue it again
      await expect(a.next({ timeoutMs: 200 })).rejects.toBeInstanceOf(TimeoutError);
      a.unmask(pa); // the event that came in while masked is delivered now
      await expect(a.next({ timeoutMs: 5000 })).resolves.toBe(pa);
    } finally {
      a.close();
      b.close();
    }
  });

  it('events() streams every notification in order of arrival; on() sees them too', async () => {
    const { a, b, pa, pb } = pair();
    try {
      const seen: number[] = [];
      const off = a.on((p) => seen.push(p));
      const got: number[] = [];
      const ac = new AbortController();
      const loop = (async () => {
        for await (const p of a.events({ signal: ac.signal })) {
          got.push(p);
          if (got.length < 20) b.notify(pb);
          else ac.abort();
        }
      })();
      b.notify(pb);
      await loop;
      off();
      expect(got).toEqual(Array(20).fill(pa));
      expect(seen.length).toBeGreaterThanOrEqual(20);
    } finally {
      a.close();
      b.close();
    }
  });

  it('unbind stops delivery; kernel errors say the rule', async () => {
    const { a, b, pa, pb } = pair();
    try {
      a.unbind(pa);
      expect(a.ports.size).toBe(0);
      expect(() => a.unbind(pa)).toThrow(
        expect.objectContaining({ code: 'ENOTCONN', request: 'IOCTL_EVTCHN_UNBIND' }),
      );
      expect(() => a.notify(pa)).toThrow(expect.objectContaining({ code: 'ENOTCONN' }));
      // Binding to a port that is no unbound port for us.
      expect(() => b.bindInterdomain(0, 0xffff)).toThrow(KernelError);
      // Binding to a domain that does not exist.
      expect(() => b.bindInterdomain(0x7000, 1)).toThrow(
        expect.objectContaining({ code: 'ESRCH', request: 'IOCTL_EVTCHN_BIND_INTERDOMAIN' }),
      );
      b.notify(pb); // the remote end is gone: no error, nobody hears it
    } finally {
      a.close();
      b.close();
    }
  });

  it('restrictDomid: only interdomain binds to that domain are allowed', () => {
    using r = EventChannel.open({ restrictDomid: 1 });
    expect(() => r.bindUnboundPort(0)).toThrow(expect.objectContaining({ code: 'EACCES' }));
    expect(() => r.bindVirq(0)).toThrow(expect.objectContaining({ code: 'EACCES' }));
    expect(() => r.restrictDomid(2)).toThrow(expect.objectContaining({ code: 'EACCES' }));
    expect(() => EventChannel.open({ restrictDomid: 0 })).toThrow(RangeError);
  });

  it("close() settles waiters with ClosedError and unbinds (the peer's notify goes nowhere)", async () => {
    const { a, b, pb } = pair();
    const waiting = a.next();
    a.close();
    await expect(waiting).rejects.toBeInstanceOf(ClosedError);
    b.notify(pb);
    b.close();
  });

  it('many open/bind/notify/close cycles leak no fds', async () => {
    const fds = fdSnapshot();
    for (let i = 0; i < 300; i++) {
      const { a, b, pa, pb } = pair();
      const w = a.wait(pa, { timeoutMs: 5000 });
      b.notify(pb);
      await w;
      a.close();
      b.close();
    }
    expect(await fds.leaked()).toEqual([]);
  });
});
