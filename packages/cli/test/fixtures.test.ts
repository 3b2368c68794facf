// Host: the doctor's reasoning on fake machines (a temp tree passed as `root`): every reason code, Xen domain
// types, config sources. Opens are real (regular files, or mknod'ed char devices with no driver: ENXIO).
import { afterEach, describe, expect, it } from 'vitest';
import { type Check, doctor, formatReport, type Report } from '../src/index.js';
import { openFailure } from '../src/reasons.js';
import { FakeRoot, unusedCharMajor } from './fake-root.js';
import { assertReportSchema } from './schema.js';

let roots: FakeRoot[] = [];
afterEach(() => {
  for (const r of roots) r.remove();
  roots = [];
});
function fake(): FakeRoot {
  const r = new FakeRoot();
  roots.push(r);
  return r;
}
function check(report: Report, id: string): Check {
  const c = report.checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id} in ${report.checks.map((x) => x.id).join(', ')}`);
  return c;
}
const XEN_Y = ['CONFIG_XEN=y', 'CONFIG_XEN_GNTDEV=y', 'CONFIG_XEN_GNTDEV_DMABUF=y', 'CONFIG_XEN_BALLOON=y'];

describe('Xen', () => {
  it('a PV dom0: gntdev opens, but dma-buf export needs an auto-translated domain', async () => {
    const root = fake()
      .procConfig([...XEN_Y, '# CONFIG_XEN_GRANT_DEV_ALLOC is not set', 'CONFIG_XEN_DEV_EVTCHN=m'])
      .file('/sys/hypervisor/type', 'xen\n')
      .file('/sys/hypervisor/guest_type', 'PV\n')
      .file('/proc/xen/capabilities', 'control_d\n')
      .file('/dev/xen/gntdev')
      .file('/dev/xen/xenbus')
      .file('/sys/devices/system/xen_memory/xen_memory0/target_kb', '1048576\n')
      .file('/sys/devices/system/xen_memory/xen_memory0/info/current_kb', '1000000\n');
    const r = await doctor({ root: root.dir });
    assertReportSchema(JSON.parse(JSON.stringify(r)));
    expect(r.host.xen).toEqual({ domain: true, guestType: 'PV', dom0: true, autoTranslated: false });
    expect(check(r, 'gntdev')).toMatchObject({ available: true, reason: null, path: '/dev/xen/gntdev' });
    expect(check(r, 'gntdev-dmabuf').reason).toMatchObject({
      code: 'xen-domain-type',
      config: [],
      errno: null,
    });
    expect(check(r, 'gntdev-dmabuf').reason!.message).toMatch(/PV domain.*PVH or HVM/);
    expect(check(r, 'gntalloc').reason).toMatchObject({
      code: 'kernel-config',
      config: ['CONFIG_XEN_GRANT_DEV_ALLOC'],
    });
    expect(check(r, 'evtchn').reason).toMatchObject({
      code: 'module-not-loaded',
      config: ['CONFIG_XEN_DEV_EVTCHN'],
    });
    expect(check(r, 'xenbus').available).toBe(true);
    expect(check(r, 'balloon')).toMatchObject({
      available: true,
      details: { targetKb: 1048576, currentKb: 1000000 },
    });
  });

  it('a PVH domU: the feature bitmap says auto-translated, so dma-buf export is available', async () => {
    const root = fake()
      .procConfig(XEN_Y)
      .file('/sys/hypervisor/type', 'xen\n')
      .file('/sys/hypervisor/guest_type', 'PVH\n')
      .file('/sys/hypervisor/properties/features', '0000000000002f75\n') // submap 0 = 0x2f75: bit 2 set
      .file('/dev/xen/gntdev');
    const r = await doctor({ root: root.dir, arch: 'x64' });
    expect(r.host.xen).toEqual({ domain: true, guestType: 'PVH', dom0: false, autoTranslated: true });
    expect(r.host.archNotes).toEqual([]);
    // No xen_gntdev.dmabuf_cpu_access: an upstream kernel, whose x86 export fails in PVH (the note says why).
    const upstream = check(r, 'gntdev-dmabuf');
    expect(upstream).toMatchObject({ available: true, reason: null, details: { cpuAccess: 'unsupported' } });
    expect(upstream.note).toMatch(/lacks the zcopy gntdev patches.*GNTMAP_device_map/);
    // The images' kernel: the parameter is there, off until turned on.
    root.file('/sys/module/xen_gntdev/parameters/dmabuf_cpu_access', 'N\n');
    const patched = check(await doctor({ root: root.dir }), 'gntdev-dmabuf');
    expect(patched).toMatchObject({ available: true, details: { cpuAccess: 'off' } });
    expect(patched.note).toBe(
      'zcopy gntdev patches present; CPU access to exports is off (xen_gntdev.dmabuf_cpu_access)',
    );
    root.file('/sys/module/xen_gntdev/parameters/dmabuf_cpu_access', 'Y\n');
    expect(check(await doctor({ root: root.dir }), 'gntdev-dmabuf').details).toEqual({ cpuAccess: 'on' });
  });

  it('arm64 dom0 (Xen on Arm: auto-translated, direct-mapped): what differs there, and export with no patch', async () => {
    const root = fake()
      .procConfig(XEN_Y)
      .file('/sys/hypervisor/type', 'xen\n')
      .file('/sys/hypervisor/guest_type', 'HVM\n')
      // What the arm64 rig's dom0 reads (Xen 4.17): bits 0, 2 (auto-translated), 11, 13, 14, 17 (direct-mapped).
      .file('/sys/hypervisor/properties/features', '00026805\n')
      .file('/proc/xen/capabilities', 'control_d\n')
      .file('/dev/xen/gntdev');
    const r = await doctor({ root: root.dir, arch: 'arm64' });
    assertReportSchema(JSON.parse(JSON.stringify(r)));
    expect(r.host).toMatchObject({
      arch: 'arm64',
      xen: { domain: true, guestType: 'HVM', dom0: true, autoTranslated: true },
    });
    expect(r.host.archNotes.map((n) => n.id)).toEqual([
      'xen-one-guest-kind',
      'xen-dom0-exports',
      'xen-direct-mapped',
    ]);
    expect(r.host.archNotes[0]!.message).toMatch(/guest_type HVM.*no PV guests/);
    expect(r.host.archNotes[1]!.message).toMatch(/export.*works in dom0.*no kernel patch/);
    // An upstream kernel (no CPU-access parameter): export available, no x86 warning.
    const c = check(r, 'gntdev-dmabuf');
    expect(c).toMatchObject({ available: true, reason: null, details: { cpuAccess: 'unsupported' } });
    expect(c.note).not.toMatch(/lacks the zcopy gntdev patches/);
    const text = formatReport(r);
    expect(text).toContain('  architecture: arm64 (Xen HVM dom0)\n    - Xen on Arm has one kind of guest');
    expect(text).toContain('    - this domain is direct-mapped (XENFEAT_direct_mapped)');
  });

  it('arm64 domU (not direct-mapped: XENFEAT_not_direct_mapped) and arm64 outside Xen', async () => {
    const root = fake()
      .procConfig(XEN_Y)
      .file('/sys/hypervisor/type', 'xen\n')
      .file('/sys/hypervisor/guest_type', 'HVM\n')
      .file('/sys/hypervisor/properties/features', '00016805\n') // bit 16, not 17
      .file('/dev/xen/gntdev');
    const r = await doctor({ root: root.dir, arch: 'arm64' });
    expect(r.host.archNotes.map((n) => n.id)).toEqual(['xen-one-guest-kind']);
    const bare = await doctor({ root: fake().procConfig(XEN_Y).dir, arch: 'arm64' });
    expect(bare.host.archNotes).toEqual([]);
    expect(formatReport(bare)).toContain('  architecture: arm64, nothing known differs\n');
  });

  it('x86 PV dom0: the note says export needs PVH/HVM; the same files judged as arm64 give no x86 note', async () => {
    const root = fake()
      .procConfig(XEN_Y)
      .file('/sys/hypervisor/type', 'xen\n')
      .file('/sys/hypervisor/guest_type', 'PV\n')
      .file('/sys/hypervisor/properties/features', '00000ae1\n') // bit 2 clear
      .file('/proc/xen/capabilities', 'control_d\n')
      .file('/dev/xen/gntdev');
    const r = await doctor({ root: root.dir, arch: 'x64' });
    expect(r.host.archNotes.map((n) => n.id)).toEqual(['xen-pv-dom0']);
    expect(formatReport(r)).toContain('  architecture: x64 (Xen PV dom0)\n    - x86 dom0 is PV');
    expect((await doctor({ root: root.dir, arch: 'arm64' })).host.archNotes).toEqual([]);
  });

  it('arch must be a non-empty string', async () => {
    await expect(doctor({ arch: '' })).rejects.toThrow(TypeError);
    await expect(doctor({ arch: 7 as unknown as string })).rejects.toThrow(TypeError);
  });

  it('the feature bitmap wins over the guest type', async () => {
    const root = fake()
      .procConfig(XEN_Y)
      .file('/sys/hypervisor/type', 'xen\n')
      .file('/sys/hypervisor/guest_type', 'HVM\n')
      .file('/sys/hypervisor/properties/features', '00000001\n') // bit 2 clear
      .file('/dev/xen/gntdev');
    const r = await doctor({ root: root.dir });
    expect(r.host.xen.autoTranslated).toBe(false);
    expect(check(r, 'gntdev-dmabuf').reason?.code).toBe('xen-domain-type');
  });

  it('a Xen-enabled kernel outside Xen: not-xen; a kernel without Xen: kernel-config', async () => {
    const withXen = await doctor({ root: fake().procConfig(XEN_Y).dir });
    expect(withXen.host.xen.domain).toBe(false);
    for (const id of ['gntdev', 'gntdev-dmabuf', 'balloon'])
      expect(check(withXen, id).reason?.code, id).toBe('not-xen');
    const without = await doctor({ root: fake().procConfig(['# CONFIG_XEN is not set']).dir });
    expect(check(without, 'gntdev').reason).toMatchObject({
      code: 'kernel-config',
      config: ['CONFIG_XEN', 'CONFIG_XEN_GNTDEV'],
    });
    expect(check(without, 'xenbus').reason).toMatchObject({ code: 'kernel-config', config: ['CONFIG_XEN'] });
  });
});

describe('dma-buf exporters and fences', () => {
  it('udmabuf: =m and absent → module-not-loaded; a node with no driver behind it → no-driver (ENXIO)', async () => {
    const mod = await doctor({
      root: fake().procConfig(['CONFIG_DMA_SHARED_BUFFER=y', 'CONFIG_UDMABUF=m']).dir,
    });
    expect(check(mod, 'udmabuf').reason).toMatchObject({
      code: 'module-not-loaded',
      config: ['CONFIG_UDMABUF'],
    });
    const orphan = fake().procConfig(['CONFIG_DMA_SHARED_BUFFER=y', 'CONFIG_UDMABUF=y']);
    orphan.chardev('/dev/udmabuf', unusedCharMajor(), 0);
    const r = await doctor({ root: orphan.dir });
    expect(check(r, 'udmabuf').reason).toMatchObject({ code: 'no-driver', errno: 'ENXIO' });
  });

  it('dma-heaps: one check per node; missing upstream heaps are reported with their reason', async () => {
    const heaps = fake()
      .procConfig(['CONFIG_DMABUF_HEAPS=y', 'CONFIG_DMABUF_HEAPS_SYSTEM=y', 'CONFIG_DMABUF_HEAPS_CMA=y'])
      .file('/dev/dma_heap/system')
      .file('/dev/dma_heap/linux,cma');
    const r = await doctor({ root: heaps.dir });
    expect(check(r, 'dma-heap:system').available).toBe(true);
    expect(check(r, 'dma-heap:linux,cma').available).toBe(true);
    expect(r.checks.some((c) => c.id === 'dma-heap:cma')).toBe(false);

    const none = await doctor({
      root: fake().procConfig([
        'CONFIG_DMABUF_HEAPS=y',
        'CONFIG_DMABUF_HEAPS_SYSTEM=y',
        'CONFIG_DMABUF_HEAPS_CMA=y',
      ]).dir,
    });
    expect(check(none, 'dma-heap:system').reason?.code).toBe('node-absent');
    expect(check(none, 'dma-heap:cma').reason?.message).toMatch(/no default CMA area.*cma=/);
    const off = await doctor({ root: fake().procConfig(['# CONFIG_DMABUF_HEAPS is not set']).dir });
    expect(check(off, 'dma-heap:system').reason?.config).toEqual([
      'CONFIG_DMABUF_HEAPS',
      'CONFIG_DMABUF_HEAPS_SYSTEM',
    ]);
  });

  it('sw_sync: debugfs not mounted; found under wherever debugfs is mounted', async () => {
    const cfg = ['CONFIG_SYNC_FILE=y', 'CONFIG_DEBUG_FS=y', 'CONFIG_SW_SYNC=y'];
    const unmounted = await doctor({ root: fake().procConfig(cfg).mounts(['proc /proc proc rw 0 0']).dir });
    expect(unmounted.host.debugfs).toBeNull();
    expect(check(unmounted, 'sw_sync').reason?.code).toBe('debugfs-not-mounted');
    const elsewhere = fake()
      .procConfig(cfg)
      .mounts(['proc /proc proc rw 0 0', 'none /my\\040debug debugfs rw 0 0'])
      .file('/my debug/sync/sw_sync');
    const r = await doctor({ root: elsewhere.dir });
    expect(r.host.debugfs).toBe('/my debug');
    expect(check(r, 'sw_sync')).toMatchObject({ available: true, path: '/my debug/sync/sw_sync' });
    expect(check(r, 'sync_file')).toMatchObject({ available: true, path: null, note: null });
    // The option wins over the mount: mounting debugfs would not help a kernel without SW_SYNC.
    const noSw = await doctor({
      root: fake().procConfig(['CONFIG_SYNC_FILE=y', 'CONFIG_DEBUG_FS=y', '# CONFIG_SW_SYNC is not set']).dir,
    });
    expect(check(noSw, 'sw_sync').reason).toMatchObject({
      code: 'kernel-config',
      config: ['CONFIG_SW_SYNC'],
    });
  });
});

describe('kernel config sources', () => {
  it('/boot/config-<release> when there is no /proc/config.gz', async () => {
    const root = fake().file(
      '/boot/config-9.9.9-test',
      '# CONFIG_UDMABUF is not set\nCONFIG_DMA_SHARED_BUFFER=y\n',
    );
    const r = await doctor({ root: root.dir, kernelRelease: '9.9.9-test' });
    expect(r.host.kernelConfig).toBe('/boot/config-9.9.9-test');
    expect(check(r, 'udmabuf').reason).toMatchObject({ code: 'kernel-config', config: ['CONFIG_UDMABUF'] });
    expect(check(r, 'udmabuf').reason!.message).toContain('CONFIG_UDMABUF');
  });

  it('no config anywhere: node-absent saying so; sync_file from /proc/kallsyms, else unknown', async () => {
    const bare = await doctor({ root: fake().dir, kernelRelease: 'none' });
    expect(bare.host.kernelConfig).toBeNull();
    expect(check(bare, 'udmabuf').reason).toMatchObject({ code: 'node-absent', config: [] });
    expect(check(bare, 'udmabuf').reason!.message).toContain('no kernel config');
    expect(check(bare, 'sync_file').reason?.code).toBe('unknown');
    const syms = fake().file(
      '/proc/kallsyms',
      '0000000000000000 T dma_fence_init\n0000000000000000 T sync_file_create\n',
    );
    const r = await doctor({ root: syms.dir, kernelRelease: 'none' });
    expect(check(r, 'sync_file')).toMatchObject({
      available: true,
      note: expect.stringContaining('kallsyms'),
    });
    const noSyms = fake().file('/proc/kallsyms', '0000000000000000 T dma_fence_init\n');
    expect(
      check(await doctor({ root: noSyms.dir, kernelRelease: 'none' }), 'sync_file').reason,
    ).toMatchObject({
      code: 'kernel-config',
      config: ['CONFIG_SYNC_FILE'],
    });
  });
});

describe('DRM', () => {
  it('no /dev/dri: the kernel option, or the GPU-less drivers to load', async () => {
    const off = await doctor({ root: fake().procConfig(['# CONFIG_DRM is not set']).dir });
    expect(check(off, 'drm').reason).toMatchObject({ code: 'kernel-config', config: ['CONFIG_DRM'] });
    const mods = await doctor({
      root: fake().procConfig(['CONFIG_DRM=y', 'CONFIG_DRM_VGEM=m', '# CONFIG_DRM_VKMS is not set']).dir,
    });
    expect(check(mods, 'drm').reason).toMatchObject({
      code: 'module-not-loaded',
      config: ['CONFIG_DRM_VGEM'],
    });
    const empty = await doctor({ root: fake().procConfig(['CONFIG_DRM=y']).mkdir('/dev/dri').dir });
    expect(check(empty, 'drm').reason?.message).toMatch(/\/dev\/dri is empty.*vgem/);
  });

  it('a card node that is not DRM is listed with the failure of its probe', async () => {
    const root = fake().procConfig(['CONFIG_DRM=y']).chardev('/dev/dri/card0', 1, 3); // /dev/null's numbers
    const r = await doctor({ root: root.dir });
    expect(check(r, 'drm:card0')).toMatchObject({
      available: false,
      path: '/dev/dri/card0',
      reason: { code: 'open-failed', errno: 'ENOTTY' },
    });
  });
});

describe('reasons and options', () => {
  it('open errors map to reason codes', () => {
    expect(openFailure('/dev/x', 'EACCES')).toMatchObject({ code: 'permission-denied', errno: 'EACCES' });
    expect(openFailure('/dev/x', 'EACCES').message).toMatch(/run as root/);
    expect(openFailure('/dev/dri/renderD128', 'EACCES', 'render').message).toContain(
      "join its group 'render'",
    );
    expect(openFailure('/dev/x', 'EPERM').code).toBe('permission-denied');
    expect(openFailure('/dev/x', 'ENODEV').code).toBe('no-driver');
    expect(openFailure('/dev/x', 'EBUSY')).toMatchObject({ code: 'open-failed', errno: 'EBUSY' });
  });

  it('bad options are TypeErrors', async () => {
    await expect(doctor({ root: 'relative/dir' })).rejects.toThrow(TypeError);
    await expect(doctor({ kernelRelease: '../../etc/passwd' })).rejects.toThrow(TypeError);
    await expect(doctor(null as unknown as object)).rejects.toThrow(TypeError);
  });
});
