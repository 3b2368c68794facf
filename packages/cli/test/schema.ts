// A strict check of the `zcopy doctor --json` shape, written from the README's schema (not from the code's types).
import { expect } from 'vitest';

const REASON_CODES = [
  'kernel-config',
  'module-not-loaded',
  'node-absent',
  'not-xen',
  'xen-domain-type',
  'debugfs-not-mounted',
  'permission-denied',
  'no-driver',
  'open-failed',
  'unknown',
  'internal',
];
const GROUPS = ['xen', 'dma-buf', 'fence', 'drm'];

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const keys = (v: Record<string, unknown>) => Object.keys(v).sort();
const strOrNull = (v: unknown) => v === null || typeof v === 'string';
const boolOrNull = (v: unknown) => v === null || typeof v === 'boolean';

export const REQUIRED_IDS = [
  'gntdev',
  'gntdev-dmabuf',
  'gntalloc',
  'evtchn',
  'xenbus',
  'balloon',
  'udmabuf',
  'dma-heap:system',
  'sync_file',
  'sw_sync',
];

function checkDrmDetails(d: unknown, where: string): void {
  expect(isObj(d), where).toBe(true);
  const x = d as Record<string, unknown>;
  expect(keys(x), where).toEqual([
    'bus',
    'date',
    'desc',
    'driver',
    'dumbBuffer',
    'nodeType',
    'prime',
    'syncobj',
    'version',
  ]);
  for (const k of ['driver', 'date', 'desc']) expect(typeof x[k], `${where}.${k}`).toBe('string');
  expect(x.version, where).toMatch(/^\d+\.\d+\.\d+$/);
  expect(['primary', 'render', 'control'], where).toContain(x.nodeType);
  expect(boolOrNull(x.dumbBuffer) && boolOrNull(x.syncobj), where).toBe(true);
  if (x.prime !== null)
    expect(x.prime, where).toEqual({ import: expect.any(Boolean), export: expect.any(Boolean) });
  if (x.bus !== null) {
    const b = x.bus as Record<string, unknown>;
    expect(keys(b), where).toEqual(['id', 'pciId', 'pciSlot', 'subsystem']);
    expect(typeof b.subsystem === 'string' && typeof b.id === 'string', where).toBe(true);
    expect(strOrNull(b.pciSlot) && strOrNull(b.pciId), where).toBe(true);
    if (b.pciId !== null) expect(b.pciId, where).toMatch(/^[0-9a-f]{4}:[0-9a-f]{4}$/);
  }
}

/** Fails the test unless `r` is a zcopy-doctor/1 report with every field typed as documented. */
export function assertReportSchema(r: unknown): void {
  expect(isObj(r)).toBe(true);
  const rep = r as Record<string, unknown>;
  expect(keys(rep)).toEqual(['checks', 'generatedAt', 'host', 'schema', 'summary']);
  expect(rep.schema).toBe('zcopy-doctor/1');
  expect(new Date(rep.generatedAt as string).toISOString()).toBe(rep.generatedAt);

  const host = rep.host as Record<string, unknown>;
  expect(keys(host)).toEqual(['arch', 'archNotes', 'debugfs', 'kernelConfig', 'kernelRelease', 'uid', 'xen']);
  expect(typeof host.kernelRelease).toBe('string');
  expect(typeof host.arch).toBe('string');
  expect(Array.isArray(host.archNotes)).toBe(true);
  for (const n of host.archNotes as unknown[]) {
    expect(isObj(n) && keys(n), 'archNotes[]').toEqual(['id', 'message']);
    const note = n as Record<string, unknown>;
    expect(note.id, 'archNotes[].id').toMatch(/^[a-z0-9-]+$/);
    expect(typeof note.message === 'string' && note.message.length > 0, 'archNotes[].message').toBe(true);
  }
  expect(Number.isInteger(host.uid)).toBe(true);
  expect(strOrNull(host.kernelConfig) && strOrNull(host.debugfs)).toBe(true);
  const xen = host.xen as Record<string, unknown>;
  expect(keys(xen)).toEqual(['autoTranslated', 'dom0', 'domain', 'guestType']);
  expect(typeof xen.domain).toBe('boolean');
  expect(typeof xen.dom0).toBe('boolean');
  expect(strOrNull(xen.guestType) && boolOrNull(xen.autoTranslated)).toBe(true);

  expect(Array.isArray(rep.checks)).toBe(true);
  const checks = rep.checks as Record<string, unknown>[];
  const ids = checks.map((c) => c.id);
  expect(new Set(ids).size).toBe(ids.length);
  for (const id of REQUIRED_IDS) expect(ids).toContain(id);
  expect(ids.some((id) => id === 'drm' || /^drm:/.test(id as string))).toBe(true);
  for (const c of checks) {
    const where = String(c.id);
    expect(keys(c), where).toEqual([
      'available',
      'config',
      'details',
      'group',
      'id',
      'note',
      'path',
      'reason',
      'title',
    ]);
    expect(typeof c.id, where).toBe('string');
    expect(GROUPS, where).toContain(c.group);
    expect(typeof c.title, where).toBe('string');
    expect(strOrNull(c.path) && strOrNull(c.note), where).toBe(true);
    expect(typeof c.available, where).toBe('boolean');
    expect(
      Array.isArray(c.config) &&
        (c.config as unknown[]).every((o) => /^CONFIG_[A-Z0-9_]+$/.test(o as string)),
      where,
    ).toBe(true);
    if (c.available) expect(c.reason, where).toBeNull();
    else {
      const why = c.reason as Record<string, unknown>;
      expect(keys(why), where).toEqual(['code', 'config', 'errno', 'message']);
      expect(REASON_CODES, where).toContain(why.code);
      expect(typeof why.message === 'string' && (why.message as string).length > 0, where).toBe(true);
      expect(Array.isArray(why.config), where).toBe(true);
      if (why.code === 'kernel-config' || why.code === 'module-not-loaded')
        expect((why.config as string[]).length, where).toBeGreaterThan(0);
      expect(strOrNull(why.errno), where).toBe(true);
      if (['permission-denied', 'no-driver', 'open-failed'].includes(why.code as string))
        expect(why.errno, where).toMatch(/^E[A-Z]+$/);
    }
    if (/^drm:/.test(where) && c.available) checkDrmDetails(c.details, where);
    else if (c.details !== null) expect(isObj(c.details), where).toBe(true);
  }
  const summary = rep.summary as Record<string, unknown>;
  expect(keys(summary)).toEqual(['available', 'total', 'unavailable']);
  const avail = checks.filter((c) => c.available).length;
  expect(summary).toEqual({ available: avail, unavailable: checks.length - avail, total: checks.length });
}
