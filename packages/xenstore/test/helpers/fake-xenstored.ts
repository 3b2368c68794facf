// A tiny in-memory xenstored for host tests of the client's protocol logic (framing, req_id matching, errors,
// watch routing, transaction retry). It is no model of xenstored's semantics: those are tested against the real
// daemon in the VM. Replies go out one byte per write when `dribble` is set, to exercise reassembly.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';

const T = {
  DIRECTORY: 1,
  READ: 2,
  GET_PERMS: 3,
  WATCH: 4,
  UNWATCH: 5,
  TX_START: 6,
  TX_END: 7,
  GET_DOMAIN_PATH: 10,
  WRITE: 11,
  MKDIR: 12,
  RM: 13,
  SET_PERMS: 14,
  WATCH_EVENT: 15,
  ERROR: 16,
};

export interface FakeXenstored {
  path: string;
  store: Map<string, string>;
  /** Commits that fail with EAGAIN before one succeeds. */
  conflicts: number;
  dribble: boolean;
  requests: number;
  /** Delay before each reply, and the most requests one connection had unanswered at once. */
  delayMs: number;
  maxOutstanding: number;
  /** Hangs up on every client (as a xenstored that exits). */
  dropClients(): void;
  close(): Promise<void>;
}

export async function startFakeXenstored(): Promise<FakeXenstored> {
  const dir = mkdtempSync(join(tmpdir(), 'fake-xs-'));
  const path = join(dir, 'socket');
  const store = new Map<string, string>([['/local/domain/0/name', 'Domain-0']]);
  const watches: Array<{ sock: Socket; path: string; token: string }> = [];
  const state: FakeXenstored = {
    path,
    store,
    conflicts: 0,
    dribble: false,
    requests: 0,
    delayMs: 0,
    maxOutstanding: 0,
    dropClients: () => {
      for (const sock of clients) sock.destroy();
    },
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const outstanding = new Map<Socket, number>();
  const send = (sock: Socket, type: number, reqId: number, txId: number, body: Buffer) => {
    if (type !== T.WATCH_EVENT) outstanding.set(sock, (outstanding.get(sock) ?? 1) - 1);
    const h = Buffer.alloc(16);
    h.writeUInt32LE(type, 0);
    h.writeUInt32LE(reqId, 4);
    h.writeUInt32LE(txId, 8);
    h.writeUInt32LE(body.length, 12);
    const all = Buffer.concat([h, body]);
    if (!state.dribble) sock.write(all);
    else for (const b of all) sock.write(Buffer.of(b));
  };
  const fire = (changed: string) => {
    for (const w of watches)
      if (changed === w.path || changed.startsWith(`${w.path}/`))
        send(w.sock, T.WATCH_EVENT, 0, 0, Buffer.from(`${changed}\0${w.token}\0`));
  };
  const clients = new Set<Socket>();
  const server: Server = createServer((sock) => {
    clients.add(sock);
    let buf = Buffer.alloc(0);
    sock.on('error', () => {}); // the client closing mid-reply is part of the tests
    sock.on('close', () => {
      clients.delete(sock);
      for (let i = watches.length - 1; i >= 0; i--) if (watches[i]!.sock === sock) watches.splice(i, 1);
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 16 && buf.length >= 16 + buf.readUInt32LE(12)) {
        const type = buf.readUInt32LE(0);
        const reqId = buf.readUInt32LE(4);
        const txId = buf.readUInt32LE(8);
        const body = buf.subarray(16, 16 + buf.readUInt32LE(12));
        buf = buf.subarray(16 + body.length);
        state.requests++;
        outstanding.set(sock, (outstanding.get(sock) ?? 0) + 1);
        state.maxOutstanding = Math.max(state.maxOutstanding, outstanding.get(sock)!);
        const parts = body.toString().split('\0');
        const later = (fn: () => void) => (state.delayMs ? void setTimeout(fn, state.delayMs) : fn());
        const ok = (text: string | Buffer) =>
          later(() => send(sock, type, reqId, txId, Buffer.isBuffer(text) ? text : Buffer.from(text)));
        const err = (code: string) => later(() => send(sock, T.ERROR, reqId, txId, Buffer.from(`${code}\0`)));
        switch (type) {
          case T.READ: {
            const v = store.get(parts[0]!);
            if (v === undefined) err('ENOENT');
            else ok(v);
            break;
          }
          case T.WRITE: {
            const nul = body.indexOf(0);
            const p = body.subarray(0, nul).toString();
            store.set(p, body.subarray(nul + 1).toString());
            ok('OK\0');
            fire(p);
            break;
          }
          case T.DIRECTORY: {
            const prefix = `${parts[0]}/`;
            const names = new Set<string>();
            for (const k of store.keys())
              if (k.startsWith(prefix)) names.add(k.slice(prefix.length).split('/')[0]!);
            ok([...names].map((n) => `${n}\0`).join(''));
            break;
          }
          case T.RM:
            for (const k of [...store.keys()])
              if (k === parts[0] || k.startsWith(`${parts[0]}/`)) store.delete(k);
            ok('OK\0');
            fire(parts[0]!);
            break;
          case T.GET_PERMS:
            ok('n0\0r5\0');
            break;
          case T.SET_PERMS:
            ok('OK\0');
            break;
          case T.GET_DOMAIN_PATH:
            ok(`/local/domain/${parts[0]}\0`);
            break;
          case T.WATCH:
            watches.push({ sock, path: parts[0]!, token: parts[1]! });
            ok('OK\0');
            send(sock, T.WATCH_EVENT, 0, 0, Buffer.from(`${parts[0]}\0${parts[1]}\0`));
            break;
          case T.UNWATCH: {
            const i = watches.findIndex(
              (w) => w.sock === sock && w.path === parts[0] && w.token === parts[1],
            );
            if (i >= 0) watches.splice(i, 1);
            ok('OK\0');
            break;
          }
          case T.TX_START:
            ok('42\0');
            break;
          case T.TX_END:
            if (parts[0] === 'T' && state.conflicts > 0) {
              state.conflicts--;
              err('EAGAIN');
            } else ok('OK\0');
            break;
          default:
            err('ENOSYS');
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, () => r()));
  return state;
}

/**
 * A fresh fake xenstored for each test of the calling describe block (or file), and the checks every such
 * test ends with: no poller left running, no fd left open. Read `fake()` inside the tests.
 */
export function useFakeXenstored(checks: { pollers: () => number; fds: () => number }): () => FakeXenstored {
  let fake: FakeXenstored | undefined;
  let fdsBefore = 0;
  beforeEach(async () => {
    fake = await startFakeXenstored();
    fdsBefore = checks.fds();
  });
  afterEach(async () => {
    expect(checks.pollers()).toBe(0);
    expect(checks.fds()).toBe(fdsBefore);
    await fake?.close();
  });
  return () => fake!;
}
