// VM (Xen dom0, a PV domain): import any dma-buf into grant refs and map them back. Xen lets a domain map its
// own grants, so dom0 grants a buffer's pages to itself (IMP_TO_REFS, domid 0) and maps them (gntdev).
// Export (EXP_FROM_REFS) needs an auto-translated domain: here it must fail, saying why.
import { readdirSync } from 'node:fs';
import { KernelError, liveMappings } from '@zcopy/core';
import type { DmaBuf } from '@zcopy/dma-buf';
import { DrmDevice, listDrmNodes } from '@zcopy/drm-prime';
import { GrantMapper, GrantSharer } from '@zcopy/grant-table';
import { UdmabufDevice } from '@zcopy/udmabuf';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GntdevDmabuf, guestType, NOT_AUTO_TRANSLATED, PAGE_SIZE } from '../src/index.js';
import { binding } from '../src/native.js';

const fdCount = () => readdirSync('/proc/self/fd').length;

/** Writes a distinct line into each page, through `view`. */
function pattern(view: Buffer, pages: number, tag: string): string[] {
  const lines = Array.from(
    { length: pages },
    (_, p) => `${tag} page ${p} ${Math.random().toString(36).slice(2)}`,
  );
  for (const [p, l] of lines.entries()) view.write(l, p * PAGE_SIZE);
  return lines;
}
const readLines = (view: Buffer, lines: string[]) =>
  lines.map((l, p) => view.toString('utf8', p * PAGE_SIZE, p * PAGE_SIZE + Buffer.byteLength(l)));

describe('gntdev dma-buf in dom0', () => {
  let dev: GntdevDmabuf;
  let mapper: GrantMapper;
  let udmabuf: UdmabufDevice;
  let fds: number;
  let maps: number;
  beforeEach(() => {
    fds = fdCount();
    maps = liveMappings();
    dev = GntdevDmabuf.open();
    mapper = GrantMapper.open();
    udmabuf = UdmabufDevice.open();
  });
  afterEach(() => {
    dev.close();
    mapper.close();
    udmabuf.close();
    expect(fdCount()).toBe(fds);
    expect(liveMappings()).toBe(maps);
  });

  it('dom0 is PV here (the premise of the export test)', () => {
    expect(guestType()).toBe('PV');
  });

  it('a udmabuf granted with importToRefs maps back with the same pages, both ways', () => {
    const pages = 4;
    using buf = udmabuf.allocate(pages * PAGE_SIZE);
    const view = buf.mmap();
    const lines = pattern(view.buffer, pages, 'udmabuf');
    const imp = dev.importToRefs(buf, 0);
    expect(imp.count).toBe(pages);
    expect(imp.domid).toBe(0);
    expect(new Set(imp.refs).size).toBe(pages);
    expect(dev.imports.has(imp)).toBe(true);
    const m = mapper.map(0, imp.refs);
    expect(readLines(m.buffer, lines)).toEqual(lines);
    // The grant side writes; the dma-buf's own mapping sees it (same pages, no copy).
    const back = pattern(m.buffer, pages, 'grant side');
    expect(readLines(view.buffer, back)).toEqual(back);
    m.unmap();
    imp.release();
    expect(imp.released).toBe(true);
    expect(dev.imports.size).toBe(0);
    imp.release(); // idempotent
    // The grants are ended: mapping them again is refused by the hypervisor.
    expect(() => mapper.map(0, imp.refs)).toThrow(KernelError);
  });

  it('the import holds the buffer after the caller closes its DmaBuf', () => {
    const buf = udmabuf.allocate(2 * PAGE_SIZE);
    const lines = pattern(buf.mmap().buffer, 2, 'kept');
    const imp = dev.importToRefs(buf, 0);
    buf.close();
    const m = mapper.map(0, imp.refs);
    expect(readLines(m.buffer, lines)).toEqual(lines);
    m.unmap();
    imp.release();
  });

  it('a vgem dumb buffer granted with importToRefs maps back with its bytes', () => {
    const node = listDrmNodes().find((n) => n.driver?.name === 'vgem' && n.type === 'primary');
    expect(node, 'the VM kernel has vgem').toBeDefined();
    using drm = DrmDevice.open(node!.path);
    using dumb = drm.createDumb({ width: 256, height: 16, bpp: 32 }); // 16 KiB: 4 pages
    const view = dumb.map();
    const pages = dumb.size / PAGE_SIZE;
    const lines = pattern(view.buffer, pages, 'vgem');
    let buf: DmaBuf | undefined = dumb.exportDmaBuf();
    const imp = dev.importToRefs(buf, 0);
    buf.close();
    buf = undefined;
    const m = mapper.map(0, imp.refs);
    expect(readLines(m.buffer, lines)).toEqual(lines);
    const back = pattern(m.buffer, pages, 'to vgem');
    expect(readLines(view.buffer, back)).toEqual(back);
    m.unmap();
    imp.release();
    view.unmap();
  });

  it('closing the gntdev releases its imports', () => {
    using buf = udmabuf.allocate(PAGE_SIZE);
    const imp = dev.importToRefs(buf, 0);
    dev.close();
    expect(imp.released).toBe(true);
    expect(() => mapper.map(0, imp.refs)).toThrow(KernelError);
  });

  it('a size that is not the buffer’s is EINVAL from the kernel, with the rule', () => {
    using buf = udmabuf.allocate(2 * PAGE_SIZE);
    let err: unknown;
    try {
      // The raw binding: the TS API derives the count from the size and cannot get it wrong.
      binding.impToRefs(dev.fd, buf.fd, 0, 3);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelError);
    expect((err as KernelError).code).toBe('EINVAL');
    // Through core's hint table, which the raw binding's error carries too:
    expect((err as Error).message).toMatch(/not exactly count pages/);
    expect(dev.imports.size).toBe(0);
  });

  it('releasing an fd never imported is ENOENT, named', () => {
    using buf = udmabuf.allocate(PAGE_SIZE);
    expect(() => binding.impRelease(dev.fd, buf.fd)).toThrow(/IOCTL_GNTDEV_DMABUF_IMP_RELEASE.*ENOENT/);
  });

  it('exportFromRefs in a PV domain is EINVAL saying the domain is not auto-translated', () => {
    using sharer = GrantSharer.open();
    const s = sharer.share(0, 1);
    for (const backing of ['pages', 'wc', 'coherent'] as const) {
      let err: unknown;
      try {
        dev.exportFromRefs(0, s.refs, { backing });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KernelError);
      expect((err as KernelError).code).toBe('EINVAL');
      expect((err as Error).message).toContain(NOT_AUTO_TRANSLATED);
    }
    // Both backings never reach the kernel.
    expect(() => dev.exportFromRefs(0, s.refs, { backing: ['wc', 'coherent'] })).toThrow(RangeError);
  });

  it('waitReleased wants a buffer exported by this fd', async () => {
    using buf = udmabuf.allocate(PAGE_SIZE);
    await expect(dev.waitReleased(buf)).rejects.toThrow(RangeError);
  });
});
