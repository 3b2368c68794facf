// Host: the request engine's decisions (TS logic only) with fake grants and fake displays: every hostile field
// gets its negative errno, a good request afterwards still works, and nothing stays mapped.
import { describe, expect, it } from 'vitest';
import {
  type BufferIo,
  displif as C,
  type ConnectorOutput,
  DisplayEngine,
  type Frame,
  type RawRequest,
} from '../src/index.js';

const XR24 = 0x34325258;
const AR24 = 0x34325241;
const RG16 = 0x36314752;

interface FakeBuf {
  id: number;
  refs: number[];
}

function world(options: { beAlloc?: boolean; connectors?: number; gate?: Promise<void> } = {}) {
  const dirs = new Map<number, { next: number; refs: Uint32Array }>();
  const live = new Set<FakeBuf>();
  const written = new Map<number, number[]>();
  const edids: { refs: number[]; data: Uint8Array }[] = [];
  let ids = 0;
  const granted = new Set<number>();
  const io: BufferIo<FakeBuf> = {
    async readDirectory(ref) {
      const d = dirs.get(ref);
      if (!d) throw new Error('EINVAL: not granted');
      return { next: d.next, refs: d.refs.slice() };
    },
    async map(_spec, refs) {
      for (const r of refs) if (!granted.has(r)) throw new Error(`ref ${r} not granted`);
      const b = { id: ++ids, refs: Array.from(refs) };
      live.add(b);
      return b;
    },
    async allocate(spec) {
      const b = { id: ++ids, refs: Array.from({ length: spec.pages }, (_, i) => 5000 + i) };
      live.add(b);
      return { buffer: b, refs: Uint32Array.from(b.refs) };
    },
    async writeDirectory(ref, refs) {
      written.set(ref, Array.from(refs));
    },
    async release(b) {
      if (!live.delete(b)) throw new Error('double release');
    },
    async writeFrontendPages(refs, data) {
      for (const r of refs) if (!granted.has(r)) throw new Error(`ref ${r} not granted`);
      edids.push({ refs: Array.from(refs), data: Uint8Array.from(data) });
    },
  };
  const shows: (Frame<FakeBuf> | undefined)[][] = [];
  const flips: Frame<FakeBuf>[][] = [];
  const n = options.connectors ?? 1;
  const outputs: ConnectorOutput<FakeBuf>[] = Array.from({ length: n }, (_, i) => {
    shows.push([]);
    flips.push([]);
    return {
      formats: new Set([XR24, AR24]),
      async show(f) {
        shows[i]!.push(f);
      },
      async flip(f) {
        await options.gate;
        if (!live.has(f.dbuf.buffer)) throw new Error(`flip to released buffer ${f.dbuf.buffer.id}`);
        flips[i]!.push(f);
      },
      close() {},
    };
  });
  const engine = new DisplayEngine<FakeBuf>({
    io,
    outputs,
    connectors: Array.from({ length: n }, () => ({ width: 1024, height: 768 })),
    backendAllocation: options.beAlloc ?? false,
  });
  /** A frontend-allocated buffer's directory: its pages granted, the chain at `first`. */
  function grant(pages: number, first: number): void {
    const per = C.GREFS_PER_DIR_PAGE;
    const dirPages = Math.ceil(pages / per);
    for (let i = 0; i < dirPages; i++) {
      const refs = new Uint32Array(per);
      for (let j = 0; j < per && i * per + j < pages; j++) {
        refs[j] = first * 10 + i * per + j + 1;
        granted.add(refs[j]!);
      }
      dirs.set(first + i, { next: i + 1 < dirPages ? first + i + 1 : 0, refs });
    }
  }
  return { engine, dirs, live, written, shows, flips, grant, granted, edids };
}

const create = (o: Partial<RawRequest> = {}): RawRequest => ({
  id: 1,
  operation: C.OP_DBUF_CREATE,
  dbufCookie: 0x10n,
  width: 1024,
  height: 768,
  bpp: 32,
  bufferSize: 1024 * 768 * 4,
  flags: 0,
  grefDirectory: 100,
  dataOffset: 0,
  ...o,
});
const attach = (o: Partial<RawRequest> = {}): RawRequest => ({
  id: 2,
  operation: C.OP_FB_ATTACH,
  dbufCookie: 0x10n,
  fbCookie: 0x20n,
  width: 1024,
  height: 768,
  pixelFormat: XR24,
  ...o,
});
const config = (o: Partial<RawRequest> = {}): RawRequest => ({
  id: 3,
  operation: C.OP_SET_CONFIG,
  fbCookie: 0x20n,
  x: 0,
  y: 0,
  width: 1024,
  height: 768,
  bpp: 32,
  ...o,
});
const flip = (fbCookie: bigint): RawRequest => ({ id: 4, operation: C.OP_PG_FLIP, fbCookie });

describe('DisplayEngine: a good session', () => {
  it('create, attach, config, flips, detach, destroy: shown and released', async () => {
    const w = world();
    w.grant(768, 100);
    w.grant(768, 200);
    expect((await w.engine.handle(0, create())).status).toBe(0);
    expect((await w.engine.handle(0, create({ dbufCookie: 0x11n, grefDirectory: 200 }))).status).toBe(0);
    expect(w.live.size).toBe(2);
    expect([...w.live][0]!.refs).toHaveLength(768);
    expect((await w.engine.handle(0, attach())).status).toBe(0);
    expect((await w.engine.handle(0, attach({ dbufCookie: 0x11n, fbCookie: 0x21n }))).status).toBe(0);
    expect((await w.engine.handle(0, config())).status).toBe(0);
    expect(w.shows[0]!.at(-1)?.fb.cookie).toBe(0x20n);
    for (const fb of [0x21n, 0x20n, 0x21n]) {
      const o = await w.engine.handle(0, flip(fb));
      expect(o.status).toBe(0);
      expect(await o.flip!()).toBe(fb);
    }
    expect(w.flips[0]!.map((f) => f.fb.cookie)).toEqual([0x21n, 0x20n, 0x21n]);
    // Disable (all zeros), detach, destroy.
    expect((await w.engine.handle(0, config({ fbCookie: 0n, width: 0, height: 0, bpp: 0 }))).status).toBe(0);
    expect(w.shows[0]!.at(-1)).toBeUndefined();
    expect((await w.engine.handle(0, { id: 5, operation: C.OP_FB_DETACH, fbCookie: 0x20n })).status).toBe(0);
    expect(
      (await w.engine.handle(0, { id: 6, operation: C.OP_DBUF_DESTROY, dbufCookie: 0x10n })).status,
    ).toBe(0);
    expect(w.live.size).toBe(1);
    await w.engine.close();
    expect(w.live.size).toBe(0);
  });

  it('a directory chain over several pages (2,025 pages: 2 directory pages)', async () => {
    const w = world();
    w.grant(2025, 300);
    const r = await w.engine.handle(
      0,
      create({ width: 1920, height: 1080, bufferSize: 1920 * 1080 * 4, grefDirectory: 300 }),
    );
    expect(r.status).toBe(0);
    const b = [...w.live][0]!;
    expect(b.refs).toHaveLength(2025);
    expect(b.refs[1023]).toBe(300 * 10 + 1023 + 1);
  });

  it('backend allocation: the refs go into the frontend’s directory pages', async () => {
    const w = world({ beAlloc: true });
    w.grant(0, 0);
    w.dirs.set(400, { next: 0, refs: new Uint32Array(1023) });
    const r = await w.engine.handle(0, create({ flags: C.DBUF_FLG_REQ_ALLOC, grefDirectory: 400 }));
    expect(r.status).toBe(0);
    expect(w.written.get(400)).toHaveLength(768);
    expect(w.written.get(400)![0]).toBe(5000);
  });

  it('flags bits other than REQ_ALLOC are ignored (Linux reuses ring slots without zeroing them)', async () => {
    const w = world();
    w.grant(768, 100);
    expect((await w.engine.handle(0, create({ flags: 32 }))).status).toBe(0);
  });
});

describe('DisplayEngine: hostile requests', () => {
  const cases: [string, RawRequest, number][] = [
    ['dbuf cookie 0', create({ dbufCookie: 0n }), C.XEN_EINVAL],
    ['width 0', create({ width: 0 }), C.XEN_EINVAL],
    ['width beyond the limit', create({ width: 0xffff_ffff }), C.XEN_E2BIG],
    ['bpp not a multiple of 8', create({ bpp: 31 }), C.XEN_EINVAL],
    ['bpp huge (overflow of width*bpp)', create({ bpp: 0x8000_0000 }), C.XEN_EINVAL],
    ['buffer_sz 0', create({ bufferSize: 0 }), C.XEN_EINVAL],
    ['buffer_sz over the backend limit', create({ bufferSize: 0xffff_ffff }), C.XEN_E2BIG],
    ['rows do not fit buffer_sz', create({ height: 8192 }), C.XEN_EINVAL],
    ['data_ofs past the end', create({ dataOffset: 1024 * 768 * 4 }), C.XEN_EINVAL],
    ['data_ofs pushes rows past the end', create({ dataOffset: 4096 }), C.XEN_EINVAL],
    ['backend allocation not offered', create({ flags: 1 }), C.XEN_EOPNOTSUPP],
    ['directory ref never granted', create({ grefDirectory: 999 }), C.XEN_EINVAL],
    ['directory ref 0', create({ grefDirectory: 0 }), C.XEN_EINVAL],
    ['unknown operation', { id: 1, operation: 0x7f }, C.XEN_EOPNOTSUPP],
    ['reserved operation 0', { id: 1, operation: 0 }, C.XEN_EOPNOTSUPP],
    [
      'GET_EDID with buffer_sz below XENDISPL_EDID_MAX_SIZE',
      { id: 1, operation: C.OP_GET_EDID, bufferSize: 4096, grefDirectory: 100 },
      C.XEN_EINVAL,
    ],
    [
      'GET_EDID whose directory was never granted',
      { id: 1, operation: C.OP_GET_EDID, bufferSize: 32768, grefDirectory: 999 },
      C.XEN_EINVAL,
    ],
    ['destroy of an unknown cookie', { id: 1, operation: C.OP_DBUF_DESTROY, dbufCookie: 77n }, C.XEN_ENOENT],
    ['attach to an unknown dbuf', attach({ dbufCookie: 77n }), C.XEN_ENOENT],
    ['detach of an unknown fb', { id: 1, operation: C.OP_FB_DETACH, fbCookie: 77n }, C.XEN_ENOENT],
    ['config of an unknown fb', config({ fbCookie: 77n }), C.XEN_ENOENT],
    ['flip with no config', flip(0x20n), C.XEN_EINVAL],
  ];
  for (const [name, req, errno] of cases)
    it(`${name}: -${errno}, and a good create still works`, async () => {
      const w = world();
      w.grant(768, 100);
      const r = await w.engine.handle(0, req);
      expect(r.status).toBe(-errno);
      expect(r.reason).toBeTruthy();
      expect(w.live.size).toBe(0);
      expect((await w.engine.handle(0, create())).status).toBe(0);
      expect(w.live.size).toBe(1);
    });

  it('a directory chain that loops, and one that ends early', async () => {
    const w = world();
    w.grant(2025, 300);
    w.dirs.get(301)!.next = 300; // 2 pages needed: fine, the loop is never followed
    expect(
      (
        await w.engine.handle(
          0,
          create({ bufferSize: 2025 * 4096, width: 1920, height: 1080, grefDirectory: 300 }),
        )
      ).status,
    ).toBe(0);
    const w2 = world();
    w2.grant(3000, 300); // 3 directory pages
    w2.dirs.get(301)!.next = 300; // page 3 would be page 1 again
    const r = await w2.engine.handle(
      0,
      create({ bufferSize: 3000 * 4096, width: 4096, height: 700, grefDirectory: 300 }),
    );
    expect(r.status).toBe(-C.XEN_EINVAL);
    expect(r.reason).toMatch(/loops/);
    w2.dirs.get(301)!.next = 0;
    const r2 = await w2.engine.handle(
      0,
      create({ bufferSize: 3000 * 4096, width: 4096, height: 700, grefDirectory: 300 }),
    );
    expect(r2.status).toBe(-C.XEN_EINVAL);
    expect(r2.reason).toMatch(/ends after 2 of 3/);
    expect(w2.live.size).toBe(0);
  });

  it('buffer refs that were never granted', async () => {
    const w = world();
    w.grant(768, 100);
    w.granted.delete(100 * 10 + 5);
    const r = await w.engine.handle(0, create());
    expect(r.status).toBe(-C.XEN_EINVAL);
    expect(w.live.size).toBe(0);
  });

  it('generic requests on another connector’s ring are refused', async () => {
    const w = world({ connectors: 2 });
    w.grant(768, 100);
    expect((await w.engine.handle(1, create())).status).toBe(-C.XEN_EINVAL);
    expect((await w.engine.handle(0, create())).status).toBe(0);
  });

  it('fb: cookie 0, reuse, unknown format, format vkms lacks, bpp mismatch, larger than the buffer', async () => {
    const w = world();
    w.grant(768, 100);
    await w.engine.handle(0, create());
    expect((await w.engine.handle(0, attach({ fbCookie: 0n }))).status).toBe(-C.XEN_EINVAL);
    expect((await w.engine.handle(0, attach({ pixelFormat: 0x12345678 }))).status).toBe(-C.XEN_EOPNOTSUPP);
    expect((await w.engine.handle(0, attach({ pixelFormat: RG16 }))).status).toBe(-C.XEN_EOPNOTSUPP);
    expect((await w.engine.handle(0, attach({ width: 2048 }))).status).toBe(-C.XEN_EINVAL);
    expect((await w.engine.handle(0, attach())).status).toBe(0);
    expect((await w.engine.handle(0, attach())).status).toBe(-C.XEN_EEXIST);
  });

  it('config: outside the connector (with u32 overflow attempts), bpp mismatch, larger than the fb', async () => {
    const w = world();
    w.grant(768, 100);
    await w.engine.handle(0, create());
    await w.engine.handle(0, attach({ width: 512 }));
    expect((await w.engine.handle(0, config({ x: 0xffff_ffff, width: 2 }))).status).toBe(-C.XEN_EINVAL);
    expect((await w.engine.handle(0, config({ width: 1025 }))).status).toBe(-C.XEN_EINVAL);
    expect((await w.engine.handle(0, config({ bpp: 24 }))).status).toBe(-C.XEN_EINVAL);
    expect((await w.engine.handle(0, config({ width: 1024 }))).status).toBe(-C.XEN_EINVAL); // fb is 512 wide
    expect((await w.engine.handle(0, config({ width: 512 }))).status).toBe(0);
  });

  it('a reused dbuf cookie replaces the old buffer (the frontend gave up on it)', async () => {
    const w = world();
    w.grant(768, 100);
    w.grant(768, 200);
    await w.engine.handle(0, create());
    const first = [...w.live][0];
    expect((await w.engine.handle(0, create({ grefDirectory: 200 }))).status).toBe(0);
    expect(w.live.size).toBe(1);
    expect(w.live.has(first!)).toBe(false);
  });

  it('destroying a shown buffer turns the output off before releasing it', async () => {
    const w = world();
    w.grant(768, 100);
    await w.engine.handle(0, create());
    await w.engine.handle(0, attach());
    await w.engine.handle(0, config());
    const o = await w.engine.handle(0, flip(0x20n));
    const d = w.engine.handle(0, { id: 9, operation: C.OP_DBUF_DESTROY, dbufCookie: 0x10n });
    await o.flip!();
    expect((await d).status).toBe(0);
    expect(w.shows[0]!.at(-1)).toBeUndefined();
    expect(w.live.size).toBe(0);
    expect(w.engine.framebuffers.size).toBe(0);
  });

  it('after close every request is EIO', async () => {
    const w = world();
    await w.engine.close();
    expect((await w.engine.handle(0, create())).status).toBe(-C.XEN_EIO);
  });
});

describe('DisplayEngine: flips in flight', () => {
  it('a frontend that never waits for its events gets EBUSY after 4 pending flips', async () => {
    let open = () => {};
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const w = world({ gate });
    w.grant(768, 100);
    await w.engine.handle(0, create());
    await w.engine.handle(0, attach());
    await w.engine.handle(0, config());
    const statuses: number[] = [];
    const outs = [];
    for (let i = 0; i < 6; i++) {
      const o = await w.engine.handle(0, flip(0x20n));
      statuses.push(o.status);
      outs.push(o);
    }
    expect(statuses).toEqual([0, 0, 0, 0, -C.XEN_EBUSY, -C.XEN_EBUSY]);
    open();
    await Promise.all(outs.filter((o) => o.flip).map((o) => o.flip!()));
    expect((await w.engine.handle(0, flip(0x20n))).status).toBe(0);
  });

  it('destroying a buffer that a queued flip uses (not the shown one) waits for that flip first', async () => {
    let open = () => {};
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const w = world({ gate });
    w.grant(768, 100);
    w.grant(768, 200);
    await w.engine.handle(0, create());
    await w.engine.handle(0, attach());
    await w.engine.handle(0, create({ dbufCookie: 0x11n, grefDirectory: 200 }));
    await w.engine.handle(0, attach({ dbufCookie: 0x11n, fbCookie: 0x21n }));
    await w.engine.handle(0, config());
    // B on its way to the display, A queued behind it, then B again: the shown frame is B's.
    const outs = [
      await w.engine.handle(0, flip(0x21n)),
      await w.engine.handle(0, flip(0x20n)),
      await w.engine.handle(0, flip(0x21n)),
    ];
    const results = outs.map((o) => o.flip!().then(String, (e: Error) => e.message));
    let destroyed = false;
    const detach = w.engine.handle(0, { id: 8, operation: C.OP_FB_DETACH, fbCookie: 0x20n });
    const d = w.engine.handle(0, { id: 9, operation: C.OP_DBUF_DESTROY, dbufCookie: 0x10n }).then((o) => {
      destroyed = true;
      return o;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(destroyed).toBe(false);
    expect(w.live.size).toBe(2);
    open();
    expect((await detach).status).toBe(0);
    expect((await d).status).toBe(0);
    expect(await Promise.all(results)).toEqual(['33', '32', '33']);
    expect(w.flips[0]!.map((f) => f.fb.cookie)).toEqual([0x21n, 0x20n, 0x21n]);
    expect(w.live.size).toBe(1);
    expect(w.shows[0]!.at(-1)).toBeDefined();
  });
});

describe('DisplayEngine: GET_EDID (protocol version 2)', () => {
  it('writes one EDID block for the connector into the first page of the buffer and answers its size', async () => {
    const w = world();
    w.grant(8, 700);
    const r = await w.engine.handle(0, {
      id: 1,
      operation: C.OP_GET_EDID,
      bufferSize: C.EDID_MAX_SIZE,
      grefDirectory: 700,
    });
    expect(r).toEqual({ status: 0, edidSize: 128 });
    expect(w.edids).toHaveLength(1);
    expect(w.edids[0]!.refs).toEqual([700 * 10 + 1]);
    const e = w.edids[0]!.data;
    expect(Buffer.from(e.subarray(0, 8)).toString('hex')).toBe('00ffffffffffff00');
    expect(e.reduce((a, b) => a + b, 0) % 256).toBe(0);
    expect(e[56]! | ((e[58]! >> 4) << 8)).toBe(1024);
    expect(e[59]! | ((e[61]! >> 4) << 8)).toBe(768);
    expect(Buffer.from(e.subarray(77, 83)).toString('latin1')).toBe('zcopy\n');
  });
});
