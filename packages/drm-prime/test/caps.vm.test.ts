// VM: capabilities as the guest kernel (Linux 6.1) reports them, and its errors for what a driver refuses.
import { describe, expect, it } from 'vitest';
import { DrmCap, DrmDevice, drmCapNames, listDrmNodes, renderOnlyCaps } from '../src/index.js';
import { kernelError } from './helpers.js';

function open(driver: string, type: 'primary' | 'render'): DrmDevice {
  const n = listDrmNodes().find((x) => x.driver?.name === driver && x.type === type);
  if (!n) throw new Error(`no ${type} node of ${driver}`);
  return DrmDevice.open(n.path);
}

describe('getCap', () => {
  it('vgem (render-only, no KMS): PRIME import+export, no syncobj; KMS caps are EOPNOTSUPP', () => {
    using vgem = open('vgem', 'render');
    expect(vgem.prime()).toEqual({ import: true, export: true });
    expect(vgem.getCap('PRIME')).toBe(3);
    expect(vgem.getCap('TIMESTAMP_MONOTONIC')).toBe(1);
    expect(vgem.getCap('SYNCOBJ')).toBe(0);
    const k = kernelError(() => vgem.getCap('DUMB_BUFFER'));
    expect(k.errno).toBe(95); // EOPNOTSUPP (Node names it ENOTSUP)
    expect(k.request).toBe('DRM_IOCTL_GET_CAP');
    expect(k.message).toContain('no modesetting (KMS)');
    // caps(): answered ones have values, the rest are null.
    const caps = vgem.caps();
    for (const name of drmCapNames) {
      if (renderOnlyCaps.includes(name)) expect(caps[name], name).toBeTypeOf('number');
      else expect(caps[name], name).toBeNull();
    }
  });

  it('vkms (KMS): dumb buffers, PRIME, its mode_config values (cursor 512, preferred depth 0)', () => {
    using vkms = open('vkms', 'primary');
    expect(vkms.getCap('DUMB_BUFFER')).toBe(1);
    expect(vkms.prime()).toEqual({ import: true, export: true });
    expect(vkms.getCap('DUMB_PREFERRED_DEPTH')).toBe(0); // vkms_modeset_init sets 0
    expect(vkms.getCap('CURSOR_WIDTH')).toBe(512);
    expect(vkms.getCap('CURSOR_HEIGHT')).toBe(512);
    expect(vkms.getCap(DrmCap.VBLANK_HIGH_CRTC)).toBe(1); // raw numbers work too
    const caps = vkms.caps();
    for (const name of drmCapNames) expect(caps[name], name).toBeTypeOf('number');
  });

  it('virtio_gpu: card and render node report the same caps', () => {
    using card = open('virtio_gpu', 'primary');
    using render = open('virtio_gpu', 'render');
    expect(render.caps()).toEqual(card.caps());
    expect(card.getCap('DUMB_BUFFER')).toBe(1);
    expect(card.prime()).toEqual({ import: true, export: true });
  });

  it('an unknown cap: EINVAL on a KMS driver, EOPNOTSUPP on a render-only one', () => {
    using vkms = open('vkms', 'primary');
    const k = kernelError(() => vkms.getCap(0x7fff));
    expect(k.code).toBe('EINVAL');
    expect(k.syscall).toBe('ioctl');
    expect(k.request).toBe('DRM_IOCTL_GET_CAP');
    expect(k.message).toContain('does not know this capability');
    using vgem = open('vgem', 'render');
    expect(kernelError(() => vgem.getCap(0x7fff)).errno).toBe(95);
  });
});

describe('setClientCap', () => {
  it('vkms accepts ATOMIC, then WRITEBACK_CONNECTORS (which needs ATOMIC first)', () => {
    using vkms = open('vkms', 'primary');
    const k = kernelError(() => vkms.setClientCap('WRITEBACK_CONNECTORS'));
    expect(k.code).toBe('EINVAL');
    expect(k.request).toBe('DRM_IOCTL_SET_CLIENT_CAP');
    vkms.setClientCap('ATOMIC', true);
    vkms.setClientCap('WRITEBACK_CONNECTORS', 1);
    vkms.setClientCap('UNIVERSAL_PLANES', false);
  });

  it('out-of-range values and unknown caps: EINVAL', () => {
    using vkms = open('vkms', 'primary');
    expect(kernelError(() => vkms.setClientCap('STEREO_3D', 2)).code).toBe('EINVAL');
    expect(kernelError(() => vkms.setClientCap(0x7fff, 1)).code).toBe('EINVAL');
  });

  it('render-only vgem: EOPNOTSUPP with the KMS hint on its card node', () => {
    using vgem = open('vgem', 'primary');
    const k = kernelError(() => vgem.setClientCap('UNIVERSAL_PLANES'));
    expect(k.errno).toBe(95);
    expect(k.message).toContain('modesetting (KMS)');
  });

  it('on a render node: EACCES (SET_CLIENT_CAP is not a render-allowed ioctl)', () => {
    using render = open('virtio_gpu', 'render');
    const k = kernelError(() => render.setClientCap('UNIVERSAL_PLANES'));
    expect(k.code).toBe('EACCES');
    expect(k.message).toContain('render node');
    using card = open('virtio_gpu', 'primary');
    card.setClientCap('UNIVERSAL_PLANES');
  });

  it('wrong JS arguments throw before the ioctl', () => {
    using vkms = open('vkms', 'primary');
    expect(() => vkms.setClientCap('NOPE' as 'ATOMIC')).toThrow(TypeError);
    expect(() => vkms.setClientCap('ATOMIC', -1)).toThrow(RangeError);
    expect(() => vkms.getCap('NOPE' as 'PRIME')).toThrow(TypeError);
  });
});
