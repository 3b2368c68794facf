// Host: the xenstore connection engine (connection.ts) on its own, against the fake xenstored: replies matched
// by req_id, the device's one request in flight, watch events handed to the client by token, reading only while
// someone waits, and how it ends (the peer hangs up; close()).
import { activePollers, ClosedError, Fd, openFdCount, TimeoutError } from '@zcopy/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ConnectionClient, type Transport, XsConnection } from '../src/connection.js';
import { binding } from '../src/native.js';
import { strings } from '../src/wire.js';
import { type FakeXenstored, useFakeXenstored } from './helpers/fake-xenstored.js';

const current = useFakeXenstored({ pollers: activePollers, fds: openFdCount });
let fake: FakeXenstored;
beforeEach(() => {
  fake = current();
});

const tick = (ms = 10) => new Promise((r) => setTimeout(r, ms));

function connect(transport: Transport = 'socket') {
  const events: string[] = [];
  const ended: Error[] = [];
  let demanded = false;
  const client: ConnectionClient = {
    watchEvent: (path, token) => events.push(`${token}:${path}`),
    watchDemanded: () => demanded,
    ended: (err) => ended.push(err),
  };
  const conn = new XsConnection(Fd.adopt(binding.connectUnix(fake.path)), transport, client);
  return {
    conn,
    events,
    ended,
    demand(on: boolean) {
      demanded = on;
      conn.demandChanged();
    },
  };
}

const read = (c: XsConnection, path: string, options?: { timeoutMs?: number }) =>
  c.request('XS_READ', strings(path), path, options).then((m) => m.payload.toString());

describe('XsConnection', () => {
  it('replies go to their requests whatever their order; the pump stops once none is in flight', async () => {
    const { conn } = connect();
    fake.store.set('/a', 'A');
    fake.store.set('/b', 'B');
    const both = Promise.all([read(conn, '/a'), read(conn, '/b')]);
    expect(conn.inFlight).toBe(2);
    await expect(both).resolves.toEqual(['A', 'B']);
    expect(conn.inFlight).toBe(0);
    await tick();
    expect(activePollers()).toBe(0);
    await expect(read(conn, '/missing')).rejects.toMatchObject({ name: 'XenStoreError', code: 'ENOENT' });
    conn.close();
  });

  it('device transport: one request on the wire at a time; one given up while queued is never sent', async () => {
    fake.delayMs = 5;
    const { conn } = connect('device');
    for (let i = 0; i < 5; i++) fake.store.set(`/d/${i}`, String(i));
    const before = fake.requests;
    const given = read(conn, '/d/0', { timeoutMs: 1 });
    const queued = read(conn, '/d/1', { timeoutMs: 1 });
    await expect(given).rejects.toBeInstanceOf(TimeoutError);
    await expect(queued).rejects.toBeInstanceOf(TimeoutError);
    await expect(Promise.all([2, 3, 4].map((i) => read(conn, `/d/${i}`)))).resolves.toEqual(['2', '3', '4']);
    expect(fake.maxOutstanding).toBe(1);
    expect(fake.requests - before).toBe(4); // /d/1 was dropped before it was written
    conn.close();
  });

  it('watch events reach the client by token, read only while the client says someone waits', async () => {
    const c = connect();
    await c.conn.request('XS_WATCH', strings('/w', 'tok'), '/w', undefined);
    fake.store.set('/w/x', '1');
    await read(c.conn, '/w/x'); // the registration event came with the reply, so it was read
    expect(c.events).toEqual(['tok:/w']);
    await tick();
    expect(activePollers()).toBe(0); // nobody waits: nothing reads
    await c.conn.request('XS_WRITE', Buffer.concat([strings('/w/y'), Buffer.from('2')]), '/w/y', undefined);
    c.demand(true);
    await tick(20);
    expect(c.events).toContain('tok:/w/y');
    expect(activePollers()).toBe(1);
    c.demand(false);
    await tick();
    expect(activePollers()).toBe(0);
    c.conn.close();
  });

  it('the peer hanging up fails what is pending and everything after, and tells the client once', async () => {
    const c = connect();
    fake.delayMs = 50;
    const pending = read(c.conn, '/a').catch((e) => e);
    await tick();
    fake.dropClients();
    const err = await pending;
    // End of stream on the next read, or (a reset with our request unread) libuv's poll error: both end it.
    expect(err.message).toMatch(/closed by the other end|^poll failed/);
    expect(err.code).toMatch(/^(ERR_ZCOPY_PEER_CLOSED|E[A-Z]+)$/); // ZcopyError, or poll's KernelError
    expect(c.ended).toEqual([err]);
    await expect(read(c.conn, '/a')).rejects.toBe(err);
    c.conn.close();
    expect(c.ended).toHaveLength(1);
  });

  it('close(): pending requests reject with ClosedError, the client is told, later requests are refused', async () => {
    const c = connect();
    fake.delayMs = 50;
    const pending = read(c.conn, '/a');
    c.conn.close();
    await expect(pending).rejects.toBeInstanceOf(ClosedError);
    expect(c.ended).toHaveLength(1);
    expect(c.ended[0]).toBeInstanceOf(ClosedError);
    expect(c.conn.closed).toBe(true);
    await expect(read(c.conn, '/a')).rejects.toBeInstanceOf(ClosedError);
    c.conn.close(); // idempotent
  });
});
