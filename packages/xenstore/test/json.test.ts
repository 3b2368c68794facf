// Host: JSON messages over xenstore (json.ts) against an in-memory stand-in for the store — the splitting into
// parts, reading back, removal and waiting are TS logic; the real store is exercised in the Xen VM tests.
import { TimeoutError } from '@zcopy/core';
import { describe, expect, it } from 'vitest';
import {
  JSON_PART_BYTES,
  JsonChannel,
  jsonMessageIds,
  readJson,
  removeJson,
  waitJson,
  writeJson,
} from '../src/json.js';
import type { XenStore } from '../src/xenstore.js';

function memoryStore() {
  const nodes = new Map<string, string>();
  const writes: string[] = [];
  const xs = {
    async write(k: string, v: string) {
      if (v.length > 2048) throw new Error(`value of ${v.length} bytes is over xenstored's quota`);
      writes.push(k);
      nodes.set(k, v);
    },
    async read(k: string) {
      const v = nodes.get(k);
      if (v === undefined) throw new Error(`ENOENT ${k}`);
      return v;
    },
    async tryRead(k: string) {
      return nodes.get(k);
    },
    async remove(k: string) {
      nodes.delete(k);
    },
    async directory(d: string) {
      const names = new Set<string>();
      for (const k of nodes.keys())
        if (k.startsWith(`${d}/`)) names.add(k.slice(d.length + 1).split('/')[0]!);
      return [...names];
    },
  };
  return { xs: xs as unknown as XenStore, nodes, writes };
}

describe('writeJson / readJson / removeJson', () => {
  it('a small value is one entry', async () => {
    const { xs, nodes } = memoryStore();
    await writeJson(xs, '/d/k', { a: 1 });
    expect([...nodes.keys()]).toEqual(['/d/k']);
    expect(await readJson(xs, '/d/k')).toEqual({ a: 1 });
    expect(await readJson(xs, '/d/missing')).toBeUndefined();
  });

  it('a large value goes in parts written before the key, and comes back whole', async () => {
    const { xs, nodes, writes } = memoryStore();
    const value = { refs: Array.from({ length: 2025 }, (_, i) => i * 7) };
    await writeJson(xs, '/d/frame', value);
    const parts = Math.ceil(JSON.stringify(value).length / JSON_PART_BYTES);
    expect(parts).toBeGreaterThan(1);
    expect(writes.at(-1)).toBe('/d/frame'); // announced last: a reader that sees it finds every part
    expect(writes.slice(0, -1)).toEqual(Array.from({ length: parts }, (_, i) => `/d/frame-${i}`));
    expect(await readJson(xs, '/d/frame')).toEqual(value);
    await removeJson(xs, '/d/frame');
    expect(nodes.size).toBe(0);
  });

  it('refuses a value JSON cannot carry (TypeError)', async () => {
    const { xs } = memoryStore();
    await expect(writeJson(xs, '/d/k', undefined)).rejects.toThrow(TypeError);
  });
});

describe('waitJson', () => {
  it('resolves once a peer writes the key', async () => {
    const { xs } = memoryStore();
    setTimeout(() => void writeJson(xs, '/d/ready', { domid: 3 }), 30);
    expect(await waitJson(xs, '/d/ready', { timeoutMs: 2000, intervalMs: 5 })).toEqual({ domid: 3 });
  });

  it('times out with TimeoutError, and an abort rejects with the signal’s reason', async () => {
    const { xs } = memoryStore();
    await expect(waitJson(xs, '/d/never', { timeoutMs: 30, intervalMs: 5 })).rejects.toBeInstanceOf(
      TimeoutError,
    );
    const ac = new AbortController();
    const p = waitJson(xs, '/d/never', { signal: ac.signal, intervalMs: 5 });
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    await expect(waitJson(xs, '/d/never', { timeoutMs: -1 })).rejects.toThrow(RangeError);
  });
});

describe('JsonChannel', () => {
  it('send/receive, and steps whose outcome travels back as a reply (a failure names the peer)', async () => {
    const { xs } = memoryStore();
    const here = new JsonChannel(xs, '/local/domain/5/data/x', 'domain 5');
    const there = new JsonChannel(xs, '/local/domain/5/data/x');
    expect(await here.peek('frame')).toBeUndefined();
    await here.send('frame', { refs: [1, 2] });
    expect(await there.receive('frame', 1000)).toEqual({ refs: [1, 2] });
    await there.reply('drawn', () => ({ ms: 3 }));
    expect(await here.result('drawn', 1000)).toEqual({ ms: 3 });
    await there.reply('broken', () => {
      throw Object.assign(new RangeError('no such ref'), { code: 'EINVAL' });
    });
    await expect(here.result('broken', 1000)).rejects.toThrow(
      "domain 5 failed 'broken': RangeError EINVAL: no such ref",
    );
    await expect(here.receive('never', 30)).rejects.toBeInstanceOf(TimeoutError);
  });

  it('jsonMessageIds lists numbered messages in order, parts left out', async () => {
    const { xs } = memoryStore();
    for (const id of [10, 2, 1]) await writeJson(xs, `/q/${id}`, { id });
    await writeJson(xs, '/q/3', 'x'.repeat(JSON_PART_BYTES * 2)); // 3-0, 3-1, 3-2 are its parts
    expect(await jsonMessageIds(xs, '/q')).toEqual([1, 2, 3, 10]);
    expect(await jsonMessageIds(xs, '/nothing')).toEqual([]);
  });
});
