// VM (Xen): the import direction across two domains. dom0 (backend) creates a vgem dumb buffer, grants its pages
// to a domU (frontend, @zcopy/test-harness's agent; PV on x86, PVH on arm64) with importToRefs; the domU maps the refs and sees the
// device buffer's bytes, and its writes land in the device buffer. Then a frontend destroyed mid-share.
import { createHash } from 'node:crypto';
import { DrmDevice, type DumbBuffer, listDrmNodes } from '@zcopy/drm-prime';
import { AgentDomU as Domu, fdSnapshot } from '@zcopy/test-harness';
import { defaultDomUType } from '@zcopy/xen/domu';
import { XenStore } from '@zcopy/xenstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GntdevDmabuf, PAGE_SIZE } from '../src/index.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('importToRefs for a PV frontend', () => {
  let xs: XenStore;
  let domu: Domu;
  let drm: DrmDevice;
  let dev: GntdevDmabuf;
  beforeAll(async () => {
    xs = XenStore.open();
    const node = listDrmNodes().find((n) => n.driver?.name === 'vgem' && n.type === 'primary');
    drm = DrmDevice.open(node!.path);
    dev = GntdevDmabuf.open();
    domu = await Domu.start(xs, defaultDomUType());
  });
  afterAll(async () => {
    await domu?.destroy().catch(() => {});
    dev?.close();
    drm?.close();
    xs?.close();
  });

  function frame(): { dumb: DumbBuffer; view: Buffer } {
    const dumb = drm.createDumb({ width: 1024, height: 4, bpp: 32 }); // 16 KiB
    const view = dumb.map().buffer;
    for (let i = 0; i < view.length; i += 4) view.writeUInt32LE((Math.imul(i, 2654435761) ^ 0x5a5a) >>> 0, i);
    return { dumb, view };
  }

  it('the frontend maps the device buffer: same bytes, its writes reach the device buffer', async () => {
    const fds = fdSnapshot();
    const { dumb, view } = frame();
    const imp = (() => {
      using buf = dumb.exportDmaBuf();
      return dev.importToRefs(buf, domu.domid);
    })();
    expect(imp.count).toBe(dumb.size / PAGE_SIZE);
    const m = await domu.call<{ id: number; sha: string }>('map', {
      peer: 0,
      refs: Array.from(imp.refs),
      access: 'readwrite',
    });
    expect(m.sha).toBe(sha(view));
    const text = Buffer.from(`written by domain ${domu.domid}`);
    await domu.call('write', { id: m.id, offset: PAGE_SIZE + 10, base64: text.toString('base64') });
    expect(view.subarray(PAGE_SIZE + 10, PAGE_SIZE + 10 + text.length).equals(text)).toBe(true);
    await domu.call('unmap', { id: m.id });
    imp.release();
    dumb.close();
    expect(await fds.leaked()).toEqual([]);
  });

  it('a frontend destroyed while it maps the refs: the backend releases and nothing leaks', async () => {
    const fds = fdSnapshot();
    const { dumb, view } = frame();
    const imp = (() => {
      using buf = dumb.exportDmaBuf();
      return dev.importToRefs(buf, domu.domid);
    })();
    const m = await domu.call<{ sha: string }>('map', {
      peer: 0,
      refs: Array.from(imp.refs),
      access: 'readwrite',
    });
    expect(m.sha).toBe(sha(view));
    await domu.destroy();
    imp.release();
    expect(dev.imports.size).toBe(0);
    dumb.close();
    expect(await fds.leaked()).toEqual([]);
  });
});
