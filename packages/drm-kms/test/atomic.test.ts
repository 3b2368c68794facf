// Host: the atomic request builder (property names to ids, values to u64, fence slots) and its argument checks.
import { describe, expect, it } from 'vitest';
import { AtomicRequest, objectId, propertyValue } from '../src/index.js';

/** A device stand-in: property ids by name per object; any syscall would need `fd`, which throws. */
function fakeHost(props: Record<number, Record<string, number>>) {
  return {
    get fd(): number {
      throw new Error('no syscall expected');
    },
    propertyId(objId: number, name: string): number {
      const id = props[objId]?.[name];
      if (id === undefined) throw new RangeError(`KMS object ${objId} has no property "${name}"`);
      return id;
    },
    crtcsOf: () => new Set<number>(),
    nextUserData: () => 1,
    expectFlip: () => Promise.resolve([]),
    get fdOwner(): never {
      throw new Error('no blocking commit expected');
    },
  };
}

const host = fakeHost({
  31: { FB_ID: 17, CRTC_ID: 20, CRTC_X: 21 },
  35: { ACTIVE: 22, MODE_ID: 23, OUT_FENCE_PTR: 24 },
  43: { CRTC_ID: 20, WRITEBACK_FB_ID: 40, WRITEBACK_OUT_FENCE_PTR: 41 },
});

describe('AtomicRequest', () => {
  it('groups properties by object in first-set order; a later set replaces the value', () => {
    const req = new AtomicRequest(host)
      .set(31, 'FB_ID', { id: 50 })
      .set({ id: 35 }, 'ACTIVE', true)
      .set(31, 'CRTC_ID', 35)
      .set(31, 'FB_ID', 51)
      .set(31, 'CRTC_X', -8);
    expect(req.objectIds).toEqual([31, 35]);
    expect(req.entries()).toEqual([
      { objectId: 31, property: 'FB_ID', value: 51n },
      { objectId: 31, property: 'CRTC_ID', value: 35n },
      { objectId: 31, property: 'CRTC_X', value: 2n ** 64n - 8n },
      { objectId: 35, property: 'ACTIVE', value: 1n },
    ]);
    expect(req.valueOf(31, 'CRTC_ID')).toBe(35n);
    expect(req.valueOf(35, 'MODE_ID')).toBeUndefined();
  });

  it('outFence picks WRITEBACK_OUT_FENCE_PTR on a writeback connector, OUT_FENCE_PTR on a CRTC', () => {
    const req = new AtomicRequest(host).outFence(43).outFence(35).outFence(43);
    expect(req.entries().map((e) => `${e.objectId}.${e.property}`)).toEqual([
      '43.41', // named by id: outFence does not record names
      '35.24',
    ]);
    expect(() => new AtomicRequest(host).outFence(31)).toThrow(RangeError);
    expect(() => new AtomicRequest(host).set(43, 'WRITEBACK_OUT_FENCE_PTR', 0)).toThrow(/outFence/);
  });

  it('unknown names and wrong values are RangeError/TypeError at set()', () => {
    const req = new AtomicRequest(host);
    expect(() => req.set(31, 'NOPE', 1)).toThrow(RangeError);
    expect(() => req.set(31, '', 1)).toThrow(TypeError);
    expect(() => req.set(0, 'FB_ID', 1)).toThrow(RangeError);
    expect(() => req.set('31' as never, 'FB_ID', 1)).toThrow(TypeError);
    expect(() => req.set(31, 'FB_ID', 1.5)).toThrow(TypeError);
    expect(() => req.set(31, 'FB_ID', 2n ** 64n)).toThrow(RangeError);
    expect(() => req.set(31, 'FB_ID', 'x' as never)).toThrow(TypeError);
    expect(req.entries()).toEqual([]);
  });

  it('commit options are checked before any syscall', async () => {
    const req = new AtomicRequest(host).set(31, 'FB_ID', 1);
    await expect(req.commit({ testOnly: true, pageFlipEvent: true })).rejects.toThrow(TypeError);
    await expect(req.commit({ nonblock: 1 as never })).rejects.toThrow(/nonblock must be a boolean/);
    await expect(req.commit({ timeoutMs: -1, nonblock: true })).rejects.toThrow(RangeError);
    await expect(req.commit({ signal: AbortSignal.abort(), nonblock: true })).rejects.toThrow(/aborted/);
    await expect(new AtomicRequest(host).commit({ pageFlipEvent: true })).rejects.toThrow(/empty commit/);
    await expect(req.commit(null as never)).rejects.toThrow(TypeError);
    // Valid options do reach the device (here: the stand-in's fd, which refuses).
    await expect(req.commit({ testOnly: true })).rejects.toThrow('no syscall expected');
  });
});

describe('values and ids', () => {
  it('propertyValue: the kernel u64 of each input', () => {
    expect(propertyValue(null)).toBe(0n);
    expect(propertyValue(false)).toBe(0n);
    expect(propertyValue(7)).toBe(7n);
    expect(propertyValue(-1)).toBe(0xffff_ffff_ffff_ffffn);
    expect(propertyValue(-(2n ** 63n))).toBe(2n ** 63n);
    expect(propertyValue({ id: 9 })).toBe(9n);
    expect(() => propertyValue(-(2n ** 63n) - 1n)).toThrow(RangeError);
    expect(() => propertyValue(2 ** 53)).toThrow(TypeError);
  });

  it('objectId: positive u32 ids, or objects with one', () => {
    expect(objectId(5)).toBe(5);
    expect(objectId({ id: 6 })).toBe(6);
    expect(() => objectId(-5)).toThrow(RangeError);
    expect(() => objectId({} as never)).toThrow(TypeError);
    expect(() => objectId(null as never)).toThrow(TypeError);
    // A closed Framebuffer's id getter throws: that error is what the caller sees.
    const closed = {
      get id(): number {
        throw new Error('Framebuffer is closed');
      },
    };
    expect(() => objectId(closed)).toThrow(/closed/);
  });
});
