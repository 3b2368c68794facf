// Host: the xenstore wire codec and the client's protocol logic against an in-memory fake xenstored on a unix
// socket. Real xenstored and /dev/xen/xenbus semantics are in the *.vm.test.ts files.
import { activePollers, ClosedError, Fd, openFdCount, TimeoutError } from '@zcopy/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { XenStore, XenStoreError } from '../src/index.js';
import { binding } from '../src/native.js';
import {
  checkPath,
  decodePermissions,
  encodeMessage,
  encodePermissions,
  MessageReader,
  parseStrings,
  strings,
} from '../src/wire.js';
import { type FakeXenstored, useFakeXenstored } from './helpers/fake-xenstored.js';

describe('wire codec', () => {
  it('encodes a header the size of struct xsd_sockmsg and reassembles messages split anywhere', () => {
    const a = encodeMessage('XS_READ', 7, 0, strings('/a'));
    const b = encodeMessage('XS_WRITE', 8, 3, Buffer.from('/b\0value'));
    expect(a.length).toBe(16 + 3);
    expect(a.readUInt32LE(0)).toBe(2);
    const stream = Buffer.concat([a, b]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = new MessageReader();
      r.push(stream.subarray(0, cut));
      const first = [...r.messages()];
      r.push(stream.subarray(cut));
      const all = [...first, ...r.messages()];
      expect(all.map((m) => [m.type, m.reqId, m.txId, m.payload.toString()])).toEqual([
        [2, 7, 0, '/a\0'],
        [11, 8, 3, '/b\0value'],
      ]);
      expect(r.buffered).toBe(0);
    }
  });

  it('refuses payloads over XENSTORE_PAYLOAD_MAX in both directions', () => {
    expect(() => encodeMessage('XS_WRITE', 1, 0, Buffer.alloc(4097))).toThrow(RangeError);
    const bad = Buffer.alloc(16);
    bad.writeUInt32LE(5000, 12);
    const r = new MessageReader();
    r.push(bad);
    expect(() => [...r.messages()]).toThrow(/protocol error/);
    expect(() => [...r.messages()]).toThrow(
      expect.objectContaining({ name: 'ZcopyError', code: 'ERR_ZCOPY_XENSTORE_PROTOCOL' }),
    );
  });

  it('strings, permissions and paths', () => {
    expect(parseStrings(strings('a', 'b', ''))).toEqual(['a', 'b', '']);
    expect(parseStrings(Buffer.alloc(0))).toEqual([]);
    const perms = [
      { domid: 0, access: 'none' as const },
      { domid: 5, access: 'both' as const },
      { domid: 7, access: 'read' as const },
      { domid: 9, access: 'write' as const },
    ];
    expect(encodePermissions(perms)).toEqual(['n0', 'b5', 'r7', 'w9']);
    expect(decodePermissions(['n0', 'b5', 'r7', 'w9'])).toEqual(perms);
    expect(() => encodePermissions([])).toThrow(TypeError);
    expect(() => encodePermissions([{ domid: 0, access: 'x' as never }])).toThrow(TypeError);
    expect(() => decodePermissions(['q1'])).toThrow(
      expect.objectContaining({ name: 'ZcopyError', code: 'ERR_ZCOPY_XENSTORE_PROTOCOL' }),
    );
    expect(() => checkPath('')).toThrow(RangeError);
    expect(() => checkPath('/a\0b')).toThrow(RangeError);
    expect(() => checkPath(5)).toThrow(TypeError);
    expect(() => checkPath('/a/b.c')).toThrow(/letters, digits/);
    expect(checkPath('@releaseDomain')).toBe('@releaseDomain');
    expect(() => checkPath(`/${'x'.repeat(3072)}`)).toThrow(RangeError);
    expect(checkPath('relative/ok')).toBe('relative/ok');
  });
});

describe('client against a fake xenstored', () => {
  const current = useFakeXenstored({ pollers: activePollers, fds: openFdCount });
  let fake: FakeXenstored;
  beforeEach(() => {
    fake = current();
  });

  it('matches concurrent replies to their requests, even when they arrive a byte at a time', async () => {
    using xs = XenStore.open({ path: fake.path });
    expect(xs.transport).toBe('socket');
    fake.dribble = true;
    await Promise.all(Array.from({ length: 20 }, (_, i) => xs.write(`/t/k${i}`, `v${i}`)));
    const values = await Promise.all(Array.from({ length: 20 }, (_, i) => xs.read(`/t/k${i}`)));
    expect(values).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`));
    expect((await xs.directory('/t')).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `k${i}`).sort());
    expect(xs.inFlight).toBe(0);
  });

  it('the device transport keeps one request in flight (the xenbus device has one message buffer per fd)', async () => {
    fake.delayMs = 5;
    using sock = Fd.adopt(binding.connectUnix(fake.path));
    using xs = XenStore.borrow(sock, 'device');
    await Promise.all(Array.from({ length: 10 }, (_, i) => xs.write(`/d/k${i}`, `v${i}`)));
    await expect(Promise.all(Array.from({ length: 10 }, (_, i) => xs.read(`/d/k${i}`)))).resolves.toEqual(
      Array.from({ length: 10 }, (_, i) => `v${i}`),
    );
    expect(fake.maxOutstanding).toBe(1);
    // A request given up while queued is never sent; one given up while in flight still holds the line.
    const ac = new AbortController();
    const first = xs.read('/d/k0', { timeoutMs: 1 });
    const second = xs.read('/d/k1', { signal: ac.signal });
    const checks = Promise.all([
      expect(first).rejects.toBeInstanceOf(TimeoutError),
      expect(second).rejects.toMatchObject({ name: 'AbortError' }),
    ]);
    ac.abort();
    await checks;
    await expect(xs.read('/d/k2')).resolves.toBe('v2');
    expect(fake.maxOutstanding).toBe(1);
    // The socket transport pipelines.
    using pipelined = XenStore.open({ path: fake.path });
    await Promise.all(Array.from({ length: 10 }, (_, i) => pipelined.read(`/d/k${i}`)));
    expect(fake.maxOutstanding).toBeGreaterThan(1);
  });

  it('XS_ERROR replies are XenStoreErrors naming the request and node', async () => {
    using xs = XenStore.open({ path: fake.path });
    const e = await xs.read('/missing').catch((err) => err);
    expect(e).toBeInstanceOf(XenStoreError);
    expect(e).toMatchObject({ code: 'ENOENT', request: 'XS_READ', node: '/missing', errno: 2 });
    expect(e.message).toMatch(/XS_READ \/missing failed: ENOENT.*no such node/);
    await expect(xs.tryRead('/missing')).resolves.toBeUndefined();
    await expect(xs.getDomainPath(3)).resolves.toBe('/local/domain/3');
    await expect(xs.getPermissions('/x')).resolves.toEqual([
      { domid: 0, access: 'none' },
      { domid: 5, access: 'read' },
    ]);
  });

  it('a watch yields its registration event, then changes under it; close() unregisters', async () => {
    using xs = XenStore.open({ path: fake.path });
    const w = await xs.watch('/w');
    const events: string[] = [];
    const loop = (async () => {
      for await (const e of w) {
        events.push(e.path);
        if (events.length === 3) break;
      }
    })();
    await xs.write('/w/a', '1');
    await xs.write('/other', '1');
    await xs.write('/w/b/c', '2');
    await loop;
    expect(events).toEqual(['/w', '/w/a', '/w/b/c']);
    await w.close();
    await xs.write('/w/d', '3');
    await expect(w.next()).rejects.toBeInstanceOf(ClosedError);
  });

  it('events that arrived while nobody waited all come out, one read handing out several (none lost)', async () => {
    using watcher = XenStore.open({ path: fake.path });
    using writer = XenStore.open({ path: fake.path });
    const w = await watcher.watch('/q');
    await expect(w.next({ timeoutMs: 5000 })).resolves.toMatchObject({ path: '/q' });
    for (const k of ['a', 'b', 'c']) await writer.write(`/q/${k}`, k);
    await new Promise((r) => setTimeout(r, 20)); // all three wait in the watcher's socket, unread
    const paths: string[] = [];
    for await (const e of w) {
      paths.push(e.path);
      if (paths.length === 3) break;
    }
    expect(paths).toEqual(['/q/a', '/q/b', '/q/c']);
    await w.close();
  });

  it('transaction() retries on EAGAIN and gives up after `retries`', async () => {
    using xs = XenStore.open({ path: fake.path });
    fake.conflicts = 2;
    let runs = 0;
    await expect(
      xs.transaction(async (tx) => {
        runs++;
        expect(tx.id).toBe(42);
        await tx.write('/tx', String(runs));
        return runs;
      }),
    ).resolves.toBe(3);
    fake.conflicts = 5;
    await expect(xs.transaction(async () => 0, { retries: 1 })).rejects.toMatchObject({ code: 'EAGAIN' });
    fake.conflicts = 0;
    await expect(
      xs.transaction(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
  });

  it('timeouts, aborts and close settle requests and watches; nothing keeps polling', async () => {
    const xs = XenStore.open({ path: fake.path });
    await expect(xs.read('/x', { timeoutMs: -1 })).rejects.toThrow(RangeError);
    await expect(xs.write('/x', 5 as never)).rejects.toThrow(TypeError);
    await expect(xs.write('/x', 'v'.repeat(4096))).rejects.toThrow(RangeError);
    const w = await xs.watch('/idle');
    await expect(w.next({ timeoutMs: 1000 })).resolves.toMatchObject({ path: '/idle' });
    await expect(w.next({ timeoutMs: 30 })).rejects.toBeInstanceOf(TimeoutError);
    expect(activePollers()).toBe(0); // a watch nobody awaits does not poll
    const pending = w.next();
    const ac = new AbortController();
    const aborted = xs.read('/local/domain/0/name', { signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    xs.close();
    await expect(pending).rejects.toBeInstanceOf(ClosedError);
    await expect(xs.read('/x')).rejects.toBeInstanceOf(ClosedError);
  });
});
