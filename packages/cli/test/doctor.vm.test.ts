// VM: the doctor in the guest image (Linux 6.1 with udmabuf, dma-heaps, sync_file + sw_sync, vgem/vkms,
// virtio-gpu, and Xen support while not running under Xen).
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Check, type DrmCheckDetails, doctor, type Report } from '../src/index.js';
import { procFdCount } from './proc.js';
import { assertReportSchema } from './schema.js';

function groupId(name: string): number {
  const line = readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no group ${name} in /etc/group`);
  return Number(line.split(':')[2]);
}

/**
 * Lets every user traverse the directories above `path` for the length of `fn`: the checkout may live under a
 * private (0700) directory (a `mktemp -d` clone, root's home), which the unprivileged user could not enter. The
 * guest's root is an overlay whose changes never reach the host, and the modes are put back after.
 */
function withPathTraversable<T>(path: string, fn: () => T): T {
  expect(process.env.ZCOPY_VM_MODE, 'changes directory modes: only inside a guest').toBeTruthy();
  const changed: [string, number][] = [];
  try {
    for (let d = dirname(path); ; d = dirname(d)) {
      const mode = statSync(d).mode & 0o7777;
      if ((mode & 0o001) === 0) {
        chmodSync(d, mode | 0o001);
        changed.push([d, mode]);
      }
      if (d === dirname(d)) break;
    }
    return fn();
  } finally {
    for (const [d, mode] of changed.reverse()) chmodSync(d, mode);
  }
}

const get = (r: Report, id: string): Check => {
  const c = r.checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id}`);
  return c;
};

describe('zcopy doctor in the guest', () => {
  it('udmabuf, the system heap, sw_sync, sync_file and vgem are available', async () => {
    const before = procFdCount();
    const r = await doctor();
    expect(procFdCount()).toBe(before); // every probe's fd was closed
    assertReportSchema(JSON.parse(JSON.stringify(r)));
    expect(r.host.kernelConfig).toBe('/proc/config.gz');
    expect(r.host.debugfs).toBe('/sys/kernel/debug');
    for (const id of ['udmabuf', 'dma-heap:system', 'sw_sync', 'sync_file'])
      expect(get(r, id), id).toMatchObject({ available: true, reason: null });
    // cma=64M on the guest's command line: the CMA heap, named after the default area.
    const cma = r.checks.filter((c) => c.id.startsWith('dma-heap:') && c.id !== 'dma-heap:system');
    expect(cma.map((c) => [c.id, c.available])).toEqual([['dma-heap:reserved', true]]);

    const drm = r.checks.filter((c) => c.group === 'drm');
    const byDriver = (name: string) =>
      drm.filter((c) => (c.details as DrmCheckDetails | null)?.driver === name);
    for (const c of drm) expect(c.available, c.id).toBe(true);
    expect(
      byDriver('vgem')
        .map((c) => (c.details as DrmCheckDetails).nodeType)
        .sort(),
    ).toEqual(['primary', 'render']);
    for (const c of byDriver('vgem'))
      expect(c.details).toMatchObject({
        prime: { import: true, export: true },
        dumbBuffer: null,
        syncobj: false,
      });
    expect(byDriver('vkms')[0]?.details).toMatchObject({
      dumbBuffer: true,
      bus: { subsystem: 'platform', id: 'vkms' },
    });
    expect(byDriver('virtio_gpu')[0]?.details).toMatchObject({ bus: { pciId: '1af4:1050' } });
  });

  // The 'vm' project always boots the bare kernel; in Xen dom0 doctor.xen.vm.test.ts checks the Xen side.
  it('Xen: the kernel has it, but this is no Xen domain', async () => {
    const r = await doctor();
    expect(r.host.xen.domain).toBe(false);
    for (const id of ['gntdev', 'gntdev-dmabuf', 'gntalloc', 'evtchn', 'xenbus', 'balloon'])
      expect(get(r, id).reason?.code, id).toBe('not-xen');
  });

  it('sw_sync without debugfs: debugfs-not-mounted', async () => {
    const umount = spawnSync('umount', ['/sys/kernel/debug'], { encoding: 'utf8' });
    expect(umount.status, umount.stderr).toBe(0);
    try {
      const r = await doctor();
      expect(r.host.debugfs).toBeNull();
      expect(get(r, 'sw_sync').reason).toMatchObject({ code: 'debugfs-not-mounted', config: [] });
      expect(get(r, 'sync_file').available).toBe(true);
    } finally {
      spawnSync('mount', ['-t', 'debugfs', 'debugfs', '/sys/kernel/debug']);
    }
    expect(get(await doctor(), 'sw_sync').available).toBe(true);
  });

  it('as an unprivileged user (the built bin): root-only nodes are permission-denied', () => {
    const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
    expect(existsSync(bin), 'run node scripts/turbo.mjs run build first').toBe(true);
    // A group-owned node, as udev makes them on a desktop: the reason names the group to join.
    const heap = '/dev/dma_heap/system';
    const saved = statSync(heap);
    const video = groupId('video');
    chownSync(heap, 0, video);
    chmodSync(heap, 0o660);
    let r: SpawnSyncReturns<string>;
    try {
      r = withPathTraversable(bin, () =>
        spawnSync(process.execPath, [bin, 'doctor', '--json'], {
          uid: 65534,
          gid: 65534,
          encoding: 'utf8',
          timeout: 60_000,
          env: { ...process.env, HOME: '/tmp' },
        }),
      );
    } finally {
      chownSync(heap, saved.uid, saved.gid);
      chmodSync(heap, saved.mode & 0o7777);
    }
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    assertReportSchema(report);
    expect(report.host.uid).toBe(65534);
    // Expected from the nodes' modes as devtmpfs made them (no udev in the guest).
    const otherRw = (p: string) => (statSync(p).mode & 0o006) === 0o006;
    const probed = [
      'udmabuf',
      'dma-heap:system',
      ...report.checks.filter((c) => c.group === 'drm').map((c) => c.id),
    ];
    let denied = 0;
    for (const id of probed) {
      const c = get(report, id);
      if (otherRw(c.path!)) expect(c.available, id).toBe(true);
      else {
        expect(c.reason, id).toMatchObject({ code: 'permission-denied', errno: 'EACCES' });
        denied++;
      }
    }
    expect(denied).toBeGreaterThan(0);
    expect(get(report, 'dma-heap:system').reason?.message).toContain("join its group 'video'");
    expect(get(report, 'udmabuf').reason?.message).toContain('run as root'); // root:root 0600
    // debugfs is 0700 root: sw_sync cannot even be looked up.
    expect(statSync('/sys/kernel/debug').mode & 0o077).toBe(0);
    expect(get(report, 'sw_sync').reason).toMatchObject({ code: 'permission-denied', errno: 'EACCES' });
  });
});
