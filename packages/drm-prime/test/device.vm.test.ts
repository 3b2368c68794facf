// VM: DRM devices in the guest kernel (vgem and vkms built in, virtio-gpu from QEMU's -device virtio-gpu-pci).
import { ClosedError, openFdCount } from '@zcopy/core';
import { describe, expect, it } from 'vitest';
import { DrmDevice, type DrmNodeInfo, listDrmNodes } from '../src/index.js';
import { kernelError, procFdCount } from './helpers.js';

const nodes = listDrmNodes();
function find(driver: string, type: 'primary' | 'render'): DrmNodeInfo {
  const n = nodes.find((x) => x.driver?.name === driver && x.type === type);
  if (!n)
    throw new Error(
      `no ${type} node of ${driver} in ${JSON.stringify(nodes.map((x) => [x.path, x.driver?.name]))}`,
    );
  return n;
}

describe('discovery', () => {
  it('finds vgem, vkms and virtio_gpu with their nodes (vkms has no render node: it is KMS-only)', () => {
    const byDriver = (name: string) => nodes.filter((n) => n.driver?.name === name).map((n) => n.type);
    expect(byDriver('vgem').sort()).toEqual(['primary', 'render']);
    expect(byDriver('vkms')).toEqual(['primary']);
    expect(byDriver('virtio_gpu').sort()).toEqual(['primary', 'render']);
    for (const n of nodes) {
      expect(n.error).toBeNull();
      expect(n.major).toBe(226);
      expect(n.path).toBe(`/dev/dri/${n.name}`);
      expect(n.type).toBe(n.minor >= 128 ? 'render' : 'primary');
    }
    // Cards first, then render nodes, each by number.
    const order = nodes.map((n) => n.name);
    expect(order).toEqual(
      [...order].sort((a, b) =>
        a[0] === b[0] ? a.localeCompare(b, 'en', { numeric: true }) : a < b ? -1 : 1,
      ),
    );
  });

  it('reports the driver as DRM_IOCTL_VERSION gives it', () => {
    expect(find('vgem', 'render').driver).toEqual({
      name: 'vgem',
      major: 1,
      minor: 0,
      patchlevel: 0,
      date: '20120112',
      desc: 'Virtual GEM provider',
    });
    expect(find('vkms', 'primary').driver).toMatchObject({
      name: 'vkms',
      desc: 'Virtual Kernel Mode Setting',
    });
    expect(find('virtio_gpu', 'render').driver).toMatchObject({
      name: 'virtio_gpu',
      desc: 'virtio GPU',
      major: 0,
      minor: 1,
    });
  });

  it('reports the bus from sysfs: platform devices for vgem/vkms, the virtio-gpu PCI function', () => {
    expect(find('vgem', 'primary').bus).toMatchObject({ subsystem: 'platform', id: 'vgem', pci: null });
    expect(find('vkms', 'primary').bus).toMatchObject({ subsystem: 'platform', id: 'vkms', pci: null });
    const gpu = find('virtio_gpu', 'render').bus!;
    expect(gpu.pci).toMatchObject({ vendorId: 0x1af4, deviceId: 0x1050 }); // virtio 1.0 GPU
    expect(gpu.pci!.slot).toMatch(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/);
    // Card and render node of one device share the bus device.
    expect(find('virtio_gpu', 'primary').bus!.sysfsPath).toBe(gpu.sysfsPath);
    expect(find('vgem', 'primary').bus!.sysfsPath).toBe(find('vgem', 'render').bus!.sysfsPath);
  });

  it('PRIME caps: vgem, vkms and virtio_gpu import and export', () => {
    for (const n of nodes) expect(n.prime, n.path).toEqual({ import: true, export: true });
  });

  it('list() leaves no fd open', () => {
    const before = procFdCount();
    const tracked = openFdCount();
    for (let i = 0; i < 20; i++) listDrmNodes();
    expect(procFdCount()).toBe(before);
    expect(openFdCount()).toBe(tracked);
  });
});

describe('DrmDevice', () => {
  it('open → version, node and close; the fd is gone afterwards', () => {
    const before = procFdCount();
    const path = find('vgem', 'render').path;
    const dev = DrmDevice.open(path);
    expect(dev.owned).toBe(true);
    expect(dev.path).toBe(path);
    expect(dev.version.name).toBe('vgem');
    expect(dev.node()).toMatchObject({ type: 'render', major: 226, name: path.slice('/dev/dri/'.length) });
    expect(procFdCount()).toBe(before + 1);
    dev.close();
    dev.close(); // idempotent
    expect(procFdCount()).toBe(before);
    expect(() => dev.getCap('PRIME')).toThrow(ClosedError);
  });

  it('`using` closes; borrow never closes the owner’s fd', () => {
    const before = procFdCount();
    {
      using owner = DrmDevice.open(find('vkms', 'primary').path);
      {
        using borrowed = DrmDevice.borrow(owner);
        expect(borrowed.owned).toBe(false);
        expect(borrowed.version.name).toBe('vkms');
      }
      expect(owner.getCap('TIMESTAMP_MONOTONIC')).toBe(1); // still open
    }
    expect(procFdCount()).toBe(before);
  });

  it('adopt takes over a DRM fd opened elsewhere', () => {
    const before = procFdCount();
    const raw = DrmDevice.open(find('virtio_gpu', 'render').path).detachFd();
    using dev = DrmDevice.adopt(raw);
    expect(dev.fd).toBe(raw);
    expect(dev.version.name).toBe('virtio_gpu');
    dev.close();
    expect(procFdCount()).toBe(before);
  });

  it('a missing node: ENOENT with the path', () => {
    const k = kernelError(() => DrmDevice.open('/dev/dri/card99'));
    expect(k.code).toBe('ENOENT');
    expect(k.path).toBe('/dev/dri/card99');
  });
});
