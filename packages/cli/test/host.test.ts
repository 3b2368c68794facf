// Host: this machine has no Xen and no udmabuf node; the doctor must say so, with the reason its kernel
// config gives (read here independently, from /proc/config.gz or /boot/config-$(uname -r)).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Check, doctor } from '../src/index.js';
import { configText, option } from './host-facts.js';
import { procFdCount } from './proc.js';

const report = await doctor();
const get = (id: string): Check => report.checks.find((c) => c.id === id)!;
const readOr = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').trim() : null);

describe('on this host', () => {
  it('preconditions: not a Xen domain, no /dev/udmabuf', () => {
    expect(readOr('/sys/hypervisor/type')).not.toBe('xen');
    expect(existsSync('/dev/xen')).toBe(false);
    expect(existsSync('/dev/udmabuf')).toBe(false);
  });

  it('reports where the kernel config came from', () => {
    const expected = existsSync('/proc/config.gz')
      ? '/proc/config.gz'
      : configText()
        ? expect.stringMatching(/^\/boot\/config-/)
        : null;
    expect(report.host.kernelConfig).toEqual(expected);
  });

  it('every Xen interface is missing: CONFIG_XEN not set, or not a Xen domain', () => {
    expect(report.host.xen).toEqual({ domain: false, guestType: null, dom0: false, autoTranslated: null });
    for (const id of ['gntdev', 'gntdev-dmabuf', 'gntalloc', 'evtchn', 'xenbus', 'balloon']) {
      const c = get(id);
      expect(c.available, id).toBe(false);
      if (option('CONFIG_XEN') === 'n') {
        expect(c.reason!.code, id).toBe('kernel-config');
        expect(c.reason!.config, id).toContain('CONFIG_XEN');
        expect(c.reason!.message, id).toContain('CONFIG_XEN');
      } else expect(c.reason!.code, id).toBe('not-xen');
    }
  });

  it('udmabuf is missing, with the reason the kernel config gives', () => {
    const c = get('udmabuf');
    expect(c).toMatchObject({ available: false, path: '/dev/udmabuf' });
    const state = option('CONFIG_UDMABUF');
    if (state === 'n') {
      expect(c.reason).toMatchObject({ code: 'kernel-config', config: ['CONFIG_UDMABUF'], errno: null });
      expect(c.reason!.message).toContain('CONFIG_UDMABUF');
    } else if (state === 'm')
      expect(c.reason).toMatchObject({ code: 'module-not-loaded', config: ['CONFIG_UDMABUF'] });
    else expect(c.reason!.code).toBe('node-absent');
  });

  it('sw_sync and sync_file agree with the config and the debugfs mount', () => {
    const mounted = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .some((l) => l.split(' ')[2] === 'debugfs');
    expect(report.host.debugfs !== null).toBe(mounted);
    if (option('CONFIG_SW_SYNC') === 'n') expect(get('sw_sync').reason?.config).toContain('CONFIG_SW_SYNC');
    else if (!mounted) expect(get('sw_sync').reason?.code).toBe('debugfs-not-mounted');
    if (option('CONFIG_SYNC_FILE') !== null)
      expect(get('sync_file').available).toBe(option('CONFIG_SYNC_FILE') !== 'n');
  });

  it('DRM nodes: one check per /dev/dri card or render node, or one missing "drm" check', () => {
    const drm = report.checks.filter((c) => c.group === 'drm').map((c) => c.id);
    const names = existsSync('/dev/dri')
      ? readdirSync('/dev/dri').filter((n) => /^(card|renderD)\d+$/.test(n))
      : [];
    if (names.length === 0) {
      expect(drm).toEqual(['drm']);
      expect(get('drm').available).toBe(false);
    } else expect(drm.sort()).toEqual(names.map((n) => `drm:${n}`).sort());
  });

  it('leaves no fd open', async () => {
    const before = procFdCount();
    await doctor();
    expect(procFdCount()).toBe(before);
  });
});
