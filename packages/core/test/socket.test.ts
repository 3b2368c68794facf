// Host: fd passing over unix sockets with the fd kinds every Linux has (memfd, eventfd, sockets): the TS rules
// (argument checks, kinds, counts) and that no path leaks an fd. Cross-process and worker-thread runs, and the
// kernel's MSG_CTRUNC, are asserted in the guest too (fd-passing.vm.test.ts).
import { describe, expect, it } from 'vitest';
import {
  EventFd,
  Fd,
  MAX_FDS_PER_MESSAGE,
  Memfd,
  openFdCount,
  receiveFds,
  sendFds,
  UnixSocket,
  WrongFdError,
  ZcopyError,
} from '../src/index.js';
import { procFdCount } from './helpers.js';

describe('sendFds / receiveFds (in one process)', () => {
  it('a memfd and an eventfd arrive as owned objects of their class, with the data', async () => {
    const [a, b] = UnixSocket.pair();
    using _a = a;
    using _b = b;
    using m = Memfd.create('sent', { size: 4096 });
    using e = EventFd.create(5);
    await a.sendFds([m, e.fd], { data: 'hello' });
    const got = await b.receiveFds({ as: [Memfd, EventFd] });
    using rm = got.fds[0];
    using re = got.fds[1];
    expect(got.data.toString()).toBe('hello');
    expect(rm).toBeInstanceOf(Memfd);
    expect(re).toBeInstanceOf(EventFd);
    expect(rm.fd).not.toBe(m.fd);
    expect(rm.size).toBe(4096);
    expect(re.read()).toBe(5n); // the same counter
  });

  it('without `as`, fds arrive as core Fds; the sender may close its objects right after sending', async () => {
    const [a, b] = UnixSocket.pair();
    using _a = a;
    using _b = b;
    const m = Memfd.create('gone', { size: 8192 });
    await sendFds(a, [m]);
    m.close();
    const got = await receiveFds(b);
    expect(got.fds).toHaveLength(1);
    expect(got.data).toEqual(Buffer.from([0]));
    using f = got.fds[0]!;
    expect(f).toBeInstanceOf(Fd);
    using again = Memfd.adopt(f.detachFd());
    expect(again.size).toBe(8192);
  });

  it('a stream pair and a dgram pair carry fds too', async () => {
    for (const type of ['stream', 'dgram'] as const) {
      const [a, b] = UnixSocket.pair(type);
      using _a = a;
      using _b = b;
      using e = EventFd.create(2);
      await a.sendFds([e], { data: new Uint8Array([1, 2, 3]) });
      const got = await b.receiveFds({ as: [EventFd] });
      using r = got.fds[0];
      expect([...got.data]).toEqual([1, 2, 3]);
      expect(r.read()).toBe(2n);
    }
  });

  it('the message carried more fds than expected: ERR_ZCOPY_FDS_TRUNCATED, nothing left open', async () => {
    const [a, b] = UnixSocket.pair();
    using _a = a;
    using _b = b;
    using e1 = EventFd.create();
    using e2 = EventFd.create();
    using e3 = EventFd.create();
    const before = procFdCount();
    const tracked = openFdCount();
    await a.sendFds([e1, e2, e3]);
    const err = await b.receiveFds({ as: [EventFd] }).catch((x) => x);
    expect(err).toBeInstanceOf(ZcopyError);
    expect(err.code).toBe('ERR_ZCOPY_FDS_TRUNCATED');
    expect(procFdCount()).toBe(before);
    expect(openFdCount()).toBe(tracked);
    // maxFds 0 with fds sent: truncated too
    await a.sendFds([e1]);
    await expect(b.receiveFds({ maxFds: 0 })).rejects.toMatchObject({ code: 'ERR_ZCOPY_FDS_TRUNCATED' });
    expect(procFdCount()).toBe(before);
  });

  it('fewer fds than `as` names: ERR_ZCOPY_FD_COUNT, the ones that came closed', async () => {
    const [a, b] = UnixSocket.pair();
    using _a = a;
    using _b = b;
    using e = EventFd.create();
    const before = procFdCount();
    await a.sendFds([e]);
    await expect(b.receiveFds({ as: [EventFd, EventFd] })).rejects.toMatchObject({
      name: 'ZcopyError',
      code: 'ERR_ZCOPY_FD_COUNT',
    });
    expect(procFdCount()).toBe(before);
  });

  it('an fd of another kind than `as` says: WrongFdError naming it, every fd of the message closed', async () => {
    const [a, b] = UnixSocket.pair();
    using _a = a;
    using _b = b;
    using m = Memfd.create('not-an-eventfd');
    using e = EventFd.create();
    const before = procFdCount();
    const tracked = openFdCount();
    await a.sendFds([e, m]);
    const err = await b.receiveFds({ as: [EventFd, EventFd] }).catch((x) => x);
    expect(err).toBeInstanceOf(WrongFdError);
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe('ERR_ZCOPY_WRONG_FD');
    expect(err.expected).toBe('an eventfd');
    expect(err.target).toMatch(/^\/memfd:not-an-eventfd/);
    expect(err.message).toMatch(/is \/memfd:not-an-eventfd .*not an eventfd/);
    expect(procFdCount()).toBe(before);
    expect(openFdCount()).toBe(tracked);
  });

  it('a data-only message longer than maxBytes on a seqpacket socket: ERR_ZCOPY_MSG_TRUNCATED with its fds closed', async () => {
    const [a, b] = UnixSocket.pair();
    using _a = a;
    using _b = b;
    using e = EventFd.create();
    const before = procFdCount();
    await a.sendFds([e], { data: Buffer.alloc(100, 7) });
    await expect(b.receiveFds({ maxBytes: 10 })).rejects.toMatchObject({ code: 'ERR_ZCOPY_MSG_TRUNCATED' });
    expect(procFdCount()).toBe(before);
  });

  it('the peer closed: ERR_ZCOPY_PEER_CLOSED', async () => {
    const [a, b] = UnixSocket.pair();
    using _b = b;
    a.close();
    await expect(b.receiveFds()).rejects.toMatchObject({ code: 'ERR_ZCOPY_PEER_CLOSED' });
    using e = EventFd.create();
    await expect(b.sendFds([e])).rejects.toMatchObject({
      name: 'KernelError',
      code: 'EPIPE',
      syscall: 'sendmsg',
    });
  });

  it('waits without blocking: timeout, abort, and ClosedError when the socket closes', async () => {
    const [a, b] = UnixSocket.pair();
    using _a = a;
    await expect(b.receiveFds({ timeoutMs: 30 })).rejects.toMatchObject({ name: 'TimeoutError' });
    const ac = new AbortController();
    const aborted = b.receiveFds({ signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    const closing = b.receiveFds();
    b.close();
    await expect(closing).rejects.toMatchObject({ code: 'ERR_ZCOPY_CLOSED' });
  });

  it('a message that arrives later settles a pending receive', async () => {
    const [a, b] = UnixSocket.pair();
    using _a = a;
    using _b = b;
    using e = EventFd.create(9);
    const pending = b.receiveFds({ as: [EventFd], timeoutMs: 5000 });
    setTimeout(() => void a.sendFds([e]), 20);
    const got = await pending;
    using r = got.fds[0];
    expect(r.read()).toBe(9n);
  });

  it('wrong JS arguments are TypeError/RangeError before any syscall', async () => {
    const [a, b] = UnixSocket.pair();
    using _a = a;
    using _b = b;
    await expect(sendFds(a, 'x' as unknown as number[])).rejects.toThrow(TypeError);
    await expect(sendFds(a, [-1])).rejects.toThrow(RangeError);
    await expect(sendFds(a, [], { data: '' })).rejects.toThrow(RangeError);
    await expect(sendFds(a, new Array(MAX_FDS_PER_MESSAGE + 1).fill(0))).rejects.toThrow(RangeError);
    await expect(receiveFds(b, { maxFds: 300 })).rejects.toThrow(RangeError);
    await expect(receiveFds(b, { maxBytes: 0 })).rejects.toThrow(RangeError);
    await expect(receiveFds(b, { as: [42 as unknown as typeof EventFd] })).rejects.toThrow(TypeError);
    await expect(receiveFds(b, { as: [EventFd], maxFds: 1 } as never)).rejects.toThrow(TypeError);
    expect(() => UnixSocket.pair('raw' as never)).toThrow(TypeError);
    expect(MAX_FDS_PER_MESSAGE).toBe(253);
  });

  it('sending over something that is not a socket is the kernel ENOTSOCK', async () => {
    using m = Memfd.create();
    await expect(sendFds(m, [m])).rejects.toMatchObject({ name: 'KernelError', code: 'ENOTSOCK' });
  });
});

describe('adopt / borrow / dup check the kind of fd at once', () => {
  it("UnixSocket, Memfd and EventFd refuse another kind with WrongFdError (the fd stays the caller's)", () => {
    using m = Memfd.create('memfd-here');
    using e = EventFd.create();
    const [s1, s2] = UnixSocket.pair();
    using _1 = s1;
    using _2 = s2;
    expect(() => UnixSocket.adopt(m.fd)).toThrow(WrongFdError);
    expect(() => UnixSocket.borrow(e)).toThrow(/is anon_inode:\[eventfd\], not a unix socket/);
    expect(() => Memfd.adopt(e.fd)).toThrow(/not a memfd/);
    expect(() => Memfd.dup(s1)).toThrow(WrongFdError);
    expect(() => EventFd.adopt(m.fd)).toThrow(/is \/memfd:memfd-here.*not an eventfd/);
    expect(() => EventFd.borrow(s1)).toThrow(WrongFdError);
    expect(m.size).toBe(0); // still open and the caller's
    using d = Memfd.dup(m);
    expect(d.fd).not.toBe(m.fd);
    using bs = UnixSocket.borrow(s1);
    expect(bs.owned).toBe(false);
    using de = EventFd.dup(e);
    de.write(3);
    expect(e.read()).toBe(3n);
  });

  it('a closed fd is EBADF (a KernelError), not a wrong kind', () => {
    const m = Memfd.create();
    const fd = m.fd;
    m.close();
    expect(() => Memfd.adopt(fd)).toThrow(expect.objectContaining({ name: 'KernelError', code: 'EBADF' }));
    expect(() => EventFd.adopt(fd)).toThrow(expect.objectContaining({ name: 'KernelError', code: 'EBADF' }));
    expect(() => UnixSocket.adopt(fd)).toThrow(
      expect.objectContaining({ name: 'KernelError', code: 'EBADF' }),
    );
  });
});
