// Host: the displif pages as the native code reads and writes them (plain memory here; the Xen tests map real
// grants). The frontend side is the same addon's front* helpers, so both ends use the header's structs.
import { describe, expect, it } from 'vitest';
import { displif as C, ConnectorRings, displifBinding as n } from '../src/index.js';

const page = () => new Uint8Array(new ArrayBuffer(4096));

function pair() {
  const req = page();
  const evt = page();
  n.frontInit(req);
  n.frontEventsInit(evt);
  const notes = { req: 0, evt: 0 };
  const rings = new ConnectorRings(req, evt, {
    notifyReq: () => notes.req++,
    notifyEvt: () => notes.evt++,
  });
  return { req, evt, rings, notes };
}

describe('request ring', () => {
  it('the header constants: 32 requests per ring, 63 events per page, 1023 refs per directory page', () => {
    expect(C.RING_SIZE).toBe(32);
    expect(C.IN_RING_LEN).toBe(63);
    expect(C.GREFS_PER_DIR_PAGE).toBe(1023);
    expect([C.OP_DBUF_CREATE, C.OP_PG_FLIP, C.OP_GET_EDID, C.EVT_PG_FLIP]).toEqual([0x10, 0x15, 0x16, 0]);
  });

  it('decodes every request kind with 64-bit cookies; SET_CONFIG bpp sits at offset 32', () => {
    const { req, rings } = pair();
    let p = 0;
    const push = (r: Parameters<typeof n.frontPush>[2]) => {
      p = n.frontPush(req, p, r).reqProdPvt;
    };
    const big = 0x1234_5678_9abc_def0n;
    push({
      id: 1,
      operation: C.OP_DBUF_CREATE,
      dbufCookie: big,
      width: 1024,
      height: 768,
      bpp: 32,
      bufferSize: 3145728,
      flags: 1,
      grefDirectory: 77,
      dataOffset: 0,
    });
    push({
      id: 2,
      operation: C.OP_FB_ATTACH,
      dbufCookie: big,
      fbCookie: 5n,
      width: 1024,
      height: 768,
      pixelFormat: 0x34325258,
    });
    push({ id: 3, operation: C.OP_SET_CONFIG, fbCookie: 5n, x: 1, y: 2, width: 3, height: 4, bpp: 32 });
    push({ id: 4, operation: C.OP_PG_FLIP, fbCookie: 5n });
    push({ id: 5, operation: 0x7f });
    // The slot of request 3 (index 2): bpp is the 4-byte field at offset 32 of the 64-byte request.
    const slot = new DataView(req.buffer, 64 + 2 * 64, 64);
    expect(slot.getUint32(32, true)).toBe(32);
    const { requests, overrun } = rings.take();
    expect(overrun).toBe(false);
    expect(requests).toEqual([
      {
        id: 1,
        operation: 0x10,
        dbufCookie: big,
        width: 1024,
        height: 768,
        bpp: 32,
        bufferSize: 3145728,
        flags: 1,
        grefDirectory: 77,
        dataOffset: 0,
      },
      {
        id: 2,
        operation: 0x12,
        dbufCookie: big,
        fbCookie: 5n,
        width: 1024,
        height: 768,
        pixelFormat: 0x34325258,
      },
      { id: 3, operation: 0x14, fbCookie: 5n, x: 1, y: 2, width: 3, height: 4, bpp: 32 },
      { id: 4, operation: 0x15, fbCookie: 5n },
      { id: 5, operation: 0x7f },
    ]);
    expect(rings.outstanding).toBe(5);
  });

  it("DBUF_DESTROY, FB_DETACH and GET_EDID too, at the header's offsets; a field of the wrong type names itself", () => {
    const { req, rings } = pair();
    n.frontPush(req, 0, { id: 6, operation: C.OP_DBUF_DESTROY, dbufCookie: 0xfedc_ba98_7654_3210n });
    n.frontPush(req, 1, { id: 7, operation: C.OP_FB_DETACH, fbCookie: 9n });
    n.frontPush(req, 2, { id: 8, operation: C.OP_GET_EDID, bufferSize: 32768, grefDirectory: 41 });
    // The op union starts at offset 8 of a request: the cookie there, GET_EDID's buffer_sz then its directory.
    const slot = (i: number) => new DataView(req.buffer, 64 + i * 64, 64);
    expect(slot(0).getBigUint64(8, true)).toBe(0xfedc_ba98_7654_3210n);
    expect(slot(1).getBigUint64(8, true)).toBe(9n);
    expect([slot(2).getUint32(8, true), slot(2).getUint32(12, true)]).toEqual([32768, 41]);
    expect(rings.take().requests).toEqual([
      { id: 6, operation: C.OP_DBUF_DESTROY, dbufCookie: 0xfedc_ba98_7654_3210n },
      { id: 7, operation: C.OP_FB_DETACH, fbCookie: 9n },
      { id: 8, operation: C.OP_GET_EDID, bufferSize: 32768, grefDirectory: 41 },
    ]);
    const bad = (r: Record<string, unknown>) => () =>
      n.frontPush(req, 3, r as unknown as Parameters<typeof n.frontPush>[2]);
    expect(bad({ id: 1, operation: C.OP_SET_CONFIG, fbCookie: 1n, x: 'a' })).toThrow(
      /field 'x' must be a number/,
    );
    expect(bad({ id: 1, operation: C.OP_SET_CONFIG, fbCookie: 1n, y: -1 })).toThrow(RangeError);
    expect(bad({ id: 1, operation: C.OP_FB_ATTACH, fbCookie: 1 })).toThrow(/fbCookie.*bigint/);
  });

  it('responses echo id and operation; the frontend is notified as rsp_event asks', () => {
    const { req, rings, notes } = pair();
    n.frontPush(req, 0, { id: 9, operation: C.OP_PG_FLIP, fbCookie: 1n });
    n.frontPush(req, 1, { id: 10, operation: C.OP_FB_DETACH, fbCookie: 1n });
    rings.take();
    rings.respond(9, C.OP_PG_FLIP, 0);
    expect(notes.req).toBe(1); // rsp_event starts at 1
    rings.respond(10, C.OP_FB_DETACH, -C.XEN_ENOENT);
    expect(notes.req).toBe(1); // the frontend has not asked again yet
    const r = n.frontResponses(req, 0);
    expect(r.responses).toEqual([
      { id: 9, operation: C.OP_PG_FLIP, status: 0 },
      { id: 10, operation: C.OP_FB_DETACH, status: -2 },
    ]);
    expect(() => rings.respond(11, C.OP_PG_FLIP, 0)).toThrow(/no request/);
  });

  it('a req_prod more than a ring ahead is an overrun: nothing is consumed', () => {
    const { req, rings } = pair();
    n.frontSetReqProd(req, 33);
    expect(rings.take()).toEqual({ requests: [], overrun: true });
    n.frontSetReqProd(req, 0xffff_ffff); // "behind": as far ahead as it gets modulo 2^32
    expect(rings.take().overrun).toBe(true);
    n.frontSetReqProd(req, 32); // exactly a ring: allowed
    expect(rings.take().requests).toHaveLength(32);
  });

  it('indexes wrap at 2^32', () => {
    const req = page();
    n.frontInit(req);
    let p = 0xffff_fffe;
    for (let i = 0; i < 4; i++)
      p = n.frontPush(req, p, { id: i, operation: C.OP_PG_FLIP, fbCookie: BigInt(i) }).reqProdPvt;
    expect(p).toBe(2);
    const r = n.reqConsume(req, 0xffff_fffe, 32);
    expect(r.overrun).toBe(false);
    expect(r.reqCons).toBe(2);
    expect(r.requests.map((q) => q.id)).toEqual([0, 1, 2, 3]);
  });

  it('final check sets req_event and sees requests that came meanwhile', () => {
    const { req, rings } = pair();
    expect(rings.finalCheck()).toBe(false);
    const { notify } = n.frontPush(req, 0, { id: 1, operation: C.OP_PG_FLIP, fbCookie: 1n });
    expect(notify).toBe(true);
    expect(rings.finalCheck()).toBe(true);
  });

  it('raw requests: a 64-byte array as is; other shapes are TypeError/RangeError', () => {
    const req = page();
    n.frontInit(req);
    const raw = new Uint8Array(64).fill(0xff);
    n.frontPush(req, 0, raw);
    const r = n.reqConsume(req, 0, 32);
    expect(r.requests[0]).toMatchObject({ id: 0xffff, operation: 0xff });
    expect(() => n.frontPush(req, 1, new Uint8Array(63))).toThrow(RangeError);
    expect(() => n.reqConsume(new Uint8Array(100), 0, 1)).toThrow(RangeError);
    expect(() => n.reqConsume('x' as unknown as Uint8Array, 0, 1)).toThrow(TypeError);
  });
});

describe('event page', () => {
  it('a fresh event page has no events until the backend sends one (zeroed, never ring-initialised)', () => {
    const { evt, rings } = pair();
    expect(n.frontEvents(evt)).toEqual([]);
    expect(rings.pushFlipEvent(0x200n)).toBe(true);
    expect(n.frontEvents(evt)).toEqual([{ id: 0, type: C.EVT_PG_FLIP, fbCookie: 0x200n }]);
    expect(n.frontEvents(evt)).toEqual([]);
    // Why: SHARED_RING_INIT writes req_event = 1 where the event page keeps in_prod, so a frontend reading
    // before the first event would take an all-zero slot for one (the arm64 hostile test's fbCookie 0).
    const wrong = page();
    n.frontInit(wrong);
    expect(n.frontEvents(wrong)).toEqual([{ id: 0, type: 0, fbCookie: 0n }]);
    // Wrong JS arguments: typed errors, nothing written.
    expect(() => n.frontEventsInit('x' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => n.frontEventsInit(new Uint8Array(100))).toThrow(RangeError);
  });

  it('63 events fit; ids count from 0; the frontend consuming makes room', () => {
    const { evt, rings, notes } = pair();
    for (let i = 0; i < 63; i++) expect(rings.pushFlipEvent(BigInt(i + 100))).toBe(true);
    expect(rings.pushFlipEvent(1n)).toBe(false);
    expect(rings.droppedEvents).toBe(1);
    expect(notes.evt).toBe(63);
    const events = n.frontEvents(evt);
    expect(events).toHaveLength(63);
    expect(events.map((e) => e.id)).toEqual(Array.from({ length: 63 }, (_, i) => i));
    expect(events[62]).toEqual({ id: 62, type: C.EVT_PG_FLIP, fbCookie: 162n });
    expect(rings.pushFlipEvent(7n)).toBe(true);
    expect(n.frontEvents(evt)).toEqual([{ id: 63, type: 0, fbCookie: 7n }]);
  });
});

describe('page directory', () => {
  it('round trip of a directory page: chain pointer and 1023 refs', () => {
    const d = page();
    const refs = Uint32Array.from({ length: 1023 }, (_, i) => i + 8);
    n.dirInit(d, 4242, refs);
    const r = n.dirRead(d);
    expect(r.next).toBe(4242);
    expect(Array.from(r.refs)).toEqual(Array.from(refs));
    n.dirWrite(d, Uint32Array.of(1, 2, 3));
    expect(Array.from(n.dirRead(d).refs.subarray(0, 4))).toEqual([1, 2, 3, 11]);
    expect(() => n.dirWrite(d, new Uint32Array(1024))).toThrow(RangeError);
  });
});
