// The guest's DRM devices by driver, for the VM tests: vgem and vkms built in, virtio-gpu from QEMU.
import { DrmDevice, listDrmNodes } from '../src/index.js';

export type Driver = 'vgem' | 'vkms' | 'virtio_gpu';

/** Opens the driver's card node (dumb buffers need it) or its render node. */
export function openDriver(driver: Driver, type: 'primary' | 'render' = 'primary'): DrmDevice {
  const n = listDrmNodes().find((x) => x.driver?.name === driver && x.type === type);
  if (!n) throw new Error(`no ${type} node of ${driver}`);
  return DrmDevice.open(n.path);
}

/** Bytes that differ per position and per seed, so a copy or a stale buffer cannot pass for the real one. */
export function pattern(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return b;
}
