// Host: cap names ↔ the UAPI header's numbers, and argument checks (no DRM device needed).
import { describe, expect, it } from 'vitest';
import {
  clientCapValue,
  DrmCap,
  DrmClientCap,
  decodePrimeCaps,
  drmCapNames,
  drmCapNumber,
  drmClientCapNames,
  drmClientCapNumber,
} from '../src/index.js';

describe('capability names', () => {
  it('come from the kernel header with the UAPI numbers', () => {
    // The UAPI is stable: these numbers are part of the kernel ABI (include/uapi/drm/drm.h).
    expect(DrmCap.DUMB_BUFFER).toBe(0x1);
    expect(DrmCap.PRIME).toBe(0x5);
    expect(DrmCap.TIMESTAMP_MONOTONIC).toBe(0x6);
    expect(DrmCap.SYNCOBJ).toBe(0x13);
    expect(DrmCap.SYNCOBJ_TIMELINE).toBe(0x14);
    expect(DrmClientCap.ATOMIC).toBe(3);
    expect(DrmClientCap.WRITEBACK_CONNECTORS).toBe(5);
    expect(Object.keys(DrmCap)).toEqual([...drmCapNames]);
    expect(Object.keys(DrmClientCap)).toEqual([...drmClientCapNames]);
    expect(new Set(Object.values(DrmCap)).size).toBe(drmCapNames.length);
    expect(Object.isFrozen(DrmCap)).toBe(true);
  });

  it('names and raw numbers map to cap numbers; anything else is a TypeError/RangeError', () => {
    expect(drmCapNumber('PRIME')).toBe(DrmCap.PRIME);
    expect(drmCapNumber(0x7fff)).toBe(0x7fff); // caps newer than this package pass through to the kernel
    expect(() => drmCapNumber('NOPE' as 'PRIME')).toThrow(/unknown capability 'NOPE'.*DUMB_BUFFER/);
    expect(() => drmCapNumber('toString' as 'PRIME')).toThrow(TypeError); // no prototype lookups
    expect(() => drmCapNumber(-1)).toThrow(RangeError);
    expect(() => drmCapNumber(1.5)).toThrow(TypeError);
    expect(() => drmCapNumber(null as unknown as number)).toThrow(TypeError);
    expect(drmClientCapNumber('UNIVERSAL_PLANES')).toBe(DrmClientCap.UNIVERSAL_PLANES);
    expect(() => drmClientCapNumber('PRIME' as 'ATOMIC')).toThrow(TypeError);
  });

  it('client cap values: booleans are 1/0, integers pass, the rest are rejected', () => {
    expect(clientCapValue(true)).toBe(1);
    expect(clientCapValue(false)).toBe(0);
    expect(clientCapValue(2)).toBe(2);
    expect(() => clientCapValue(-1)).toThrow(RangeError);
    expect(() => clientCapValue('1' as unknown as number)).toThrow(TypeError);
    expect(() => clientCapValue(Number.NaN)).toThrow(TypeError);
  });

  it('DRM_CAP_PRIME bits decode to import/export', () => {
    expect(decodePrimeCaps(0)).toEqual({ import: false, export: false });
    expect(decodePrimeCaps(1)).toEqual({ import: true, export: false });
    expect(decodePrimeCaps(2)).toEqual({ import: false, export: true });
    expect(decodePrimeCaps(3)).toEqual({ import: true, export: true });
  });
});
