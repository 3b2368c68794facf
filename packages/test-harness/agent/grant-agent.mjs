// The domU side of the two-domain tests: booted by dom0 (AgentDomU in src/agent-domu.ts) with this package and
// the packages it depends on copied in, it serves requests that dom0's test code writes to xenstore (numbered
// JSON messages under req/, replies under rsp/), using the real packages (their built dist/, as a user would). Each request runs as soon as it arrives; replies carry the request's number.
// Resources live in a table by id so dom0 can refer to them across requests.
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { GrantMapper, GrantSharer } from '@zcopy/grant-table';
import { EventChannel } from '@zcopy/xen-evtchn';
import { jsonMessageIds, outcome, readJson, writeJson, XenStore } from '@zcopy/xenstore';

const xs = XenStore.open();
const domid = Number(await xs.read('domid'));
const base = `/local/domain/${domid}/data/zcopy`;
const sharer = GrantSharer.open();
const mapper = GrantMapper.open();
const events = EventChannel.open();
const objects = new Map();
let nextId = 1;
const keep = (o) => {
  const id = nextId++;
  objects.set(id, o);
  return id;
};
const get = (id) => {
  const o = objects.get(id);
  if (!o) throw new Error(`no object ${id}`);
  return o;
};
const sha = (buf) => createHash('sha256').update(buf).digest('hex');

// Byte i of a pattern: differs per page and per seed, so a page mapped in the wrong place is noticed.
export function fillPattern(buf, seed) {
  for (let i = 0; i < buf.length; i += 4) buf.writeUInt32LE((Math.imul(i, 2654435761) ^ seed) >>> 0, i);
}

const ops = {
  hello: () => ({ domid, guestType: readdirSync('/sys/hypervisor').length ? 'xen' : 'unknown' }),
  share: ({ peer, count, writable, seed }) => {
    const s = sharer.share(peer, count, { writable });
    if (seed !== undefined) fillPattern(s.buffer, seed);
    return { id: keep(s), refs: Array.from(s.refs), sha: sha(s.buffer) };
  },
  unshare: ({ id }) => {
    get(id).unshare();
    objects.delete(id);
    return {};
  },
  // Several shares in one request, one per seed, each its own gntalloc allocation (as many `share` calls would
  // make): a request costs two domain switches on a one-CPU Xen under TCG, ~0.3 s between an x86 PV domU and
  // dom0, where a share is a few milliseconds.
  shareEach: ({ peer, count, writable, seeds }) =>
    seeds.map((seed) => {
      const s = sharer.share(peer, count, { writable });
      fillPattern(s.buffer, seed);
      return { id: keep(s), refs: Array.from(s.refs) };
    }),
  unshareEach: ({ ids }) => {
    for (const id of ids) {
      get(id).unshare();
      objects.delete(id);
    }
    return {};
  },
  map: ({ peer, refs, access }) => {
    const m = mapper.map(peer, refs, { access });
    return { id: keep(m), sha: sha(m.buffer) };
  },
  unmap: ({ id }) => {
    get(id).unmap();
    objects.delete(id);
    return {};
  },
  read: ({ id, offset, length }) => ({ base64: get(id).buffer.toString('base64', offset, offset + length) }),
  write: ({ id, offset, base64 }) => {
    Buffer.from(base64, 'base64').copy(get(id).buffer, offset);
    return {};
  },
  sha: ({ id }) => ({ sha: sha(get(id).buffer) }),
  setUnmapNotify: ({ id, clearByte, port }) => {
    get(id).setUnmapNotify({ clearByte, port });
    return {};
  },
  bindUnbound: ({ peer }) => ({ port: events.bindUnboundPort(peer) }),
  bindInterdomain: ({ peer, port }) => ({ port: events.bindInterdomain(peer, port) }),
  notify: ({ port }) => {
    events.notify(port);
    return {};
  },
  waitEvent: async ({ port, timeoutMs }) => ({ port: await events.wait(port, { timeoutMs }) }),
  xsWrite: async ({ path, value }) => {
    await xs.write(path, value);
    return {};
  },
  xsRead: async ({ path }) => ({ value: await xs.tryRead(path) }),
  // Waits until `path` (watched) holds `value`; returns the watch events seen on the way.
  xsWaitValue: async ({ path, value, timeoutMs }) => {
    const w = await xs.watch(path);
    const seen = [];
    try {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const ev = await w.next({ timeoutMs: Math.max(0, deadline - Date.now()) });
        seen.push(ev.path);
        if ((await xs.tryRead(path)) === value) return { seen };
      }
    } finally {
      await w.close();
    }
  },
  // The frontend half of a xenbus-style handshake: share a ring page and an event channel with the backend,
  // publish them, say Initialised (3), wait for the backend's Connected (4), then say Connected too.
  frontend: async ({ dir, backendDomid, timeoutMs }) => {
    const backend = await xs.read(`${dir}/backend`);
    const ring = sharer.share(backendDomid, 1);
    const port = events.bindUnboundPort(backendDomid);
    await xs.transaction(async (tx) => {
      await tx.write(`${dir}/ring-ref`, String(ring.refs[0]));
      await tx.write(`${dir}/event-channel`, String(port));
      await tx.write(`${dir}/state`, '3');
    });
    const w = await xs.watch(`${backend}/state`);
    try {
      const deadline = Date.now() + timeoutMs;
      while ((await xs.tryRead(`${backend}/state`)) !== '4')
        await w.next({ timeoutMs: Math.max(0, deadline - Date.now()) });
    } finally {
      await w.close();
    }
    await xs.write(`${dir}/state`, '4');
    // The backend writes a greeting into the ring and kicks the channel; answer in the same page.
    await events.wait(port, { timeoutMs });
    const greeting = ring.buffer.toString('utf8', 0, ring.buffer.indexOf(0));
    ring.buffer.write(`frontend ${domid} got: ${greeting}\0`, 2048);
    events.notify(port);
    return { ringId: keep(ring), port, greeting };
  },
  counts: () => ({
    fds: readdirSync('/proc/self/fd').length,
    objects: objects.size,
    mappings: mapper.mappings.size,
    shares: sharer.shares.size,
  }),
  setGntallocLimit: async ({ limit }) => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync('/sys/module/xen_gntalloc/parameters/limit', String(limit));
    return {};
  },
  exit: () => {
    setTimeout(() => {
      for (const o of objects.values()) (o.unshare ?? o.unmap).call(o);
      sharer.close();
      mapper.close();
      events.close();
      xs.close();
    }, 50);
    return {};
  },
};

async function serve(id) {
  const req = await readJson(xs, `${base}/req/${id}`);
  const reply = await outcome(() => {
    const op = ops[req.op];
    if (!op) throw new Error(`unknown op ${req.op}`);
    return op(req.args ?? {});
  });
  try {
    await writeJson(xs, `${base}/rsp/${id}`, reply);
  } catch (e) {
    // The reply itself could not be written (a xenstore quota?): say so, small enough to get through.
    await writeJson(xs, `${base}/rsp/${id}`, {
      ok: false,
      error: { name: e.name, code: e.code, message: `reply: ${e.message}` },
    });
  }
  if (req.op === 'exit') process.exitCode = 0;
}

const watch = await xs.watch(`${base}/req`);
await writeJson(xs, `${base}/ready`, { domid, pid: process.pid });
const seen = new Set();
let exiting = false;
for await (const _ of watch) {
  for (const id of await jsonMessageIds(xs, `${base}/req`)) {
    if (seen.has(id)) continue;
    seen.add(id);
    const head = await xs.tryRead(`${base}/req/${id}`);
    if (head === undefined) continue;
    if (JSON.parse(head).op === 'exit') exiting = true;
    serve(id).catch((e) => console.error('agent: request', id, e));
  }
  if (exiting) break;
}
await new Promise((r) => setTimeout(r, 200));
await watch.close().catch(() => {});
