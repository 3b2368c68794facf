// VM (Xen dom0): the Xen device classes check the fd they are given at once, against the real device nodes:
// gntdev, gntalloc and evtchn refuse each other's fds with a WrongFdError naming the device (gntdev-dmabuf's
// GntdevDmabuf makes the same gntdev check), and take a real fd of their own kind (adopt, borrow), including
// one received over a unix socket.
import { Fd, openFdCount, UnixSocket, WrongFdError } from '@zcopy/core';
import { EventChannel } from '@zcopy/xen-evtchn';
import { describe, expect, it } from 'vitest';
import { GrantMapper, GrantSharer } from '../src/index.js';

describe('Xen devices and the wrong fd', () => {
  it('each device refuses the others at open, naming what it got; nothing is left open', () => {
    const tracked = openFdCount();
    expect(() => GrantMapper.open('/dev/xen/gntalloc')).toThrow(
      /is \/dev\/xen\/gntalloc \(char 10:\d+, misc\/xen!gntalloc\), not the gntdev device/,
    );
    expect(() => GrantSharer.open('/dev/xen/gntdev')).toThrow(WrongFdError);
    expect(() => GrantMapper.open('/dev/xen/evtchn')).toThrow(/misc\/xen!evtchn\), not the gntdev device/);
    expect(() => EventChannel.open({ path: '/dev/xen/gntdev' })).toThrow(/not the evtchn device/);
    expect(openFdCount()).toBe(tracked);
  });

  it('adopt and borrow take real fds of their kind, and refuse others with the fd left to the caller', () => {
    using gntdev = Fd.open('/dev/xen/gntdev', 2);
    using gntalloc = Fd.open('/dev/xen/gntalloc', 2);
    using mapper = GrantMapper.borrow(gntdev);
    expect(mapper.owned).toBe(false);
    using sharer = GrantSharer.borrow(gntalloc);
    using share = sharer.share(0, 1);
    using mapping = mapper.map(0, share.refs);
    share.buffer.write('through borrowed fds');
    expect(Buffer.from(mapping.buffer).toString('utf8', 0, 20)).toBe('through borrowed fds');
    expect(() => GrantMapper.adopt(gntalloc.fd)).toThrow(WrongFdError);
    expect(() => GrantSharer.adopt(gntdev.fd)).toThrow(WrongFdError);
    expect(() => EventChannel.borrow(gntdev)).toThrow(WrongFdError);
    expect(gntalloc.closed).toBe(false);
    const evtchn = Fd.open('/dev/xen/evtchn', 2 | 0o4000); // O_RDWR | O_NONBLOCK
    using ch = EventChannel.adopt(evtchn.detachFd());
    expect(ch.owned).toBe(true);
    const port = ch.bindUnboundPort(0);
    expect(port).toBeGreaterThan(0);
  });

  it('a gntdev fd received over a unix socket is adopted as a GrantMapper', async () => {
    const [a, b] = UnixSocket.pair();
    using _a = a;
    using _b = b;
    using gntdev = Fd.open('/dev/xen/gntdev', 2);
    await a.sendFds([gntdev]);
    const { fds } = await b.receiveFds({ as: [GrantMapper], timeoutMs: 10_000 });
    using m = fds[0];
    expect(m.owned).toBe(true);
    expect(m.fd).not.toBe(gntdev.fd);
  });
});
