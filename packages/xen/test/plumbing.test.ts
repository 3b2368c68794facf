// Host: the shared Xen argument checks and domain facts (read from files the test writes).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkDomid,
  checkRefs,
  DOMID_FIRST_RESERVED,
  DOMID_SELF,
  guestType,
  isDom0,
  xenCapabilities,
} from '../src/index.js';
import { testDir } from './tmp.js';

const { dir, file } = testDir('zcopy-xen-');

describe('checkDomid', () => {
  it('takes 0..DOMID_FIRST_RESERVED-1, DOMID_SELF where allowed, and a floor', () => {
    expect(checkDomid(0)).toBe(0);
    expect(checkDomid(DOMID_FIRST_RESERVED - 1)).toBe(DOMID_FIRST_RESERVED - 1);
    expect(() => checkDomid(DOMID_FIRST_RESERVED)).toThrow(RangeError);
    expect(checkDomid(DOMID_SELF, 'remoteDomid', { allowSelf: true })).toBe(DOMID_SELF);
    expect(() => checkDomid(0, 'restrictDomid', { min: 1 })).toThrow(/restrictDomid must be within 1\.\./);
    expect(() => checkDomid(-1)).toThrow(RangeError);
    expect(() => checkDomid(1.5)).toThrow(TypeError);
    expect(() => checkDomid('1')).toThrow(/domid must be an integer domain id, got 1/);
  });
});

describe('checkRefs', () => {
  it('copies arrays and Uint32Arrays of u32 refs; refuses empty lists and non-refs', () => {
    const mine = Uint32Array.of(7, 8);
    const out = checkRefs(mine);
    expect(out).toEqual(mine);
    expect(out).not.toBe(mine);
    expect(checkRefs([1, 0xffffffff])).toEqual(Uint32Array.of(1, 0xffffffff));
    expect(() => checkRefs([])).toThrow(RangeError);
    expect(() => checkRefs(new Uint32Array(0))).toThrow(RangeError);
    expect(() => checkRefs([2 ** 32])).toThrow(RangeError);
    expect(() => checkRefs([-1])).toThrow(RangeError);
    expect(() => checkRefs([1.5])).toThrow(TypeError);
    expect(() => checkRefs('refs')).toThrow(TypeError);
  });
});

describe('domain facts', () => {
  it('guest type and dom0 from sysfs and xenfs; nothing where they are absent', () => {
    expect(guestType(file('guest_type', 'PVH\n'))).toBe('PVH');
    expect(guestType(file('empty', ''))).toBeUndefined();
    expect(guestType(join(dir, 'missing'))).toBeUndefined();
    expect(isDom0(file('caps-dom0', 'control_d\n'))).toBe(true);
    expect(isDom0(file('caps-domu', '\n'))).toBe(false);
    expect(isDom0(join(dir, 'missing'))).toBe(false);
    expect(xenCapabilities(file('caps-two', 'control_d, other\n'))).toEqual(['control_d', 'other']);
  });
});
