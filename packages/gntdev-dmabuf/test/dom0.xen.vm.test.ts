// VM (Xen dom0): import any dma-buf into grant refs and map them back. Xen lets a domain map its own grants, so
// dom0 grants a buffer's pages to itself (IMP_TO_REFS, domid 0) and maps them (gntdev).
// Export (EXP_FROM_REFS) needs an auto-translated domain. On x86 dom0 is PV: there it must fail, saying why. On
// arm64 (the seeds' hardware) every Xen domain is auto-translated, dom0 included ("HVM" in sysfs): there dom0
// exports, with no kernel patch (the images' 0002 adds only CPU access to the export, off by default).
import { existsSync, readFileSync } from 'node:fs';
import { KernelError, liveMappings } from '@zcopy/core';
import type { DmaBuf } from '@zcopy/dma-buf';
import { DrmDevice, type DumbBuffer, listDrmNodes } from '@zcopy/drm-prime';
import { GrantMapper, GrantSharer } from '@zcopy/grant-table';
import { type FdSnapshot, fdSnapshot } from '@zcopy/test-harness';
import { UdmabufDevice } from '@zcopy/udmabuf';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  exportCpuAccess,
  GntdevDmabuf,
  guestType,
  NOT_AUTO_TRANSLATED,
  PAGE_SIZE,
  setExportCpuAccess,
} from '../src/index.js';
import { binding } from '../src/native.js';

const arm64 = process.arch === 'arm64';

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

/** Fills the whole buffer: word i is a function of i and `seed`, so each page's content is its own. */
function fillWords(buf: Buffer, seed: number): void {
  const w = new Uint32Array(buf.buffer, buf.byteOffset, buf.length >>> 2);
  for (let i = 0; i < w.length; i++) w[i] = (Math.imul(i, 2654435761) ^ seed) >>> 0;
}
/** The pages of `buf` that do not hold fillWords(seed)'s words. */
function wrongPages(buf: Buffer, seed: number): number[] {
  const w = new Uint32Array(buf.buffer, buf.byteOffset, buf.length >>> 2);
  const per = PAGE_SIZE >>> 2;
  const wrong: number[] = [];
  for (let p = 0; p < w.length / per; p++)
    for (let i = p * per; i < (p + 1) * per; i++)
      if (w[i] !== (Math.imul(i, 2654435761) ^ seed) >>> 0) {
        wrong.push(p);
        break;
      }
  return wrong;
}
/** Slots of the default swiotlb pool in use (debugfs), i.e. bounce buffers live right now. */
const SWIOTLB_USED = '/sys/kernel/debug/swiotlb/io_tlb_used';
/** xen/interface/features.h: the domain's pseudo-physical frames are its machine frames (Xen on arm). */
const XENFEAT_DIRECT_MAPPED = 17;
const swiotlbUsed = () => Number(readFileSync(SWIOTLB_USED, 'utf8'));
/** "n pages (first: a, b, …)" for a failure message. */
const pagesNote = (p: number[]) => `${p.length}${p.length ? ` (first: ${p.slice(0, 8).join(', ')})` : ''}`;

describe('gntdev dma-buf in dom0', () => {
  let dev: GntdevDmabuf;
  let mapper: GrantMapper;
  let udmabuf: UdmabufDevice;
  let fds: FdSnapshot;
  let maps: number;
  beforeEach(() => {
    fds = fdSnapshot();
    maps = liveMappings();
    dev = GntdevDmabuf.open();
    mapper = GrantMapper.open();
    udmabuf = UdmabufDevice.open();
  });
  afterEach(async () => {
    dev.close();
    mapper.close();
    udmabuf.close();
    expect(await fds.leaked()).toEqual([]);
    expect(liveMappings()).toBe(maps);
  });

  it('dom0 is PV on x86, auto-translated ("HVM") on arm64 (the premise of the export test)', () => {
    expect(guestType()).toBe(arm64 ? 'HVM' : 'PV');
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

  it('exportFromRefs in dom0: EINVAL saying the domain is not auto-translated on x86 (PV); on arm64 it exports', () => {
    using sharer = GrantSharer.open();
    const pages = 4;
    const s = sharer.share(0, pages);
    const lines = pattern(s.buffer, pages, 'dom0 frame');
    for (const backing of ['pages', 'wc', 'coherent'] as const) {
      if (!arm64) {
        let err: unknown;
        try {
          dev.exportFromRefs(0, s.refs, { backing });
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(KernelError);
        expect((err as KernelError).code).toBe('EINVAL');
        expect((err as Error).message).toContain(NOT_AUTO_TRANSLATED);
        continue;
      }
      // arm64: the self-grants export with each backing; upstream's exporter has no mmap (EINVAL while the
      // images' CPU-access parameter is off), with it on the dma-buf shows the granted bytes, no copy.
      const exp = dev.exportFromRefs(0, s.refs, { backing });
      try {
        expect(exp.size).toBe(pages * PAGE_SIZE);
        expect(exportCpuAccess()).toBe('off');
        let err: unknown;
        try {
          exp.mmap().unmap();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(KernelError);
        expect((err as KernelError).code).toBe('EINVAL');
        setExportCpuAccess(true);
        try {
          const view = exp.mmap({ access: 'read' });
          const seen = exp.withCpuAccess('read', () => readLines(Buffer.from(view.arrayBuffer), lines));
          view.unmap();
          expect(seen, backing).toEqual(lines);
        } finally {
          setExportCpuAccess(false);
        }
      } finally {
        exp.close();
      }
    }
    // Both backings never reach the kernel.
    expect(() => dev.exportFromRefs(0, s.refs, { backing: ['wc', 'coherent'] })).toThrow(RangeError);
  });

  it('waitReleased wants a buffer exported by this fd', async () => {
    using buf = udmabuf.allocate(PAGE_SIZE);
    await expect(dev.waitReleased(buf)).rejects.toThrow(RangeError);
  });
});

// A PV dom0's DMA ops are swiotlb-xen's, which bounce every segment whose pages are contiguous in the domain's
// pseudo-physical space but not in machine memory. Unpatched, IMP_TO_REFS works out the frames to grant from the
// attachment's DMA addresses, so a bounced segment's grants are the swiotlb bounce buffer, not the buffer's
// pages (images/README.md, kernel patch 0003). Such segments appear once dom0 has mapped grants: each mapping
// takes pages out of the balloon, and the balloon driver gives them back with new machine frames one by one.
// So each case first maps and unmaps 32 MiB of grants, and shows that its buffer has such segments (a
// DRM device's PRIME import of it, which goes through swiotlb-xen, uses bounce slots) before it is granted.
// arm64 has no such segments to make, for two reasons: its dom0 is direct-mapped (pseudo-physical = machine
// frame, Xen's XENFEAT_direct_mapped, which the populated-again balloon pages keep), and swiotlb-xen's DMA ops are
// set per device from the firmware's description (arch_setup_dma_ops), which vgem's and vkms's bare platform
// devices never get: their DMA is dma-direct's. There the case asserts what is true instead: after the same
// balloon round the PRIME import bounces nothing, and every granted page is still the buffer's own.
describe('gntdev dma-buf in dom0: large buffers', () => {
  const SIZE = 32 << 20;
  const BALLOON = '/sys/devices/system/xen_memory/xen_memory0';
  let dev: GntdevDmabuf;
  let mapper: GrantMapper;
  let fds: FdSnapshot;
  let maps: number;
  let vgem: DrmDevice;
  let vkms: DrmDevice;
  beforeAll(() => {
    const open = (driver: string) => {
      const node = listDrmNodes().find((n) => n.driver?.name === driver && n.type === 'primary');
      expect(node, `the VM kernel has ${driver}`).toBeDefined();
      return DrmDevice.open(node!.path);
    };
    vgem = open('vgem');
    vkms = open('vkms');
  });
  afterAll(() => {
    vgem?.close();
    vkms?.close();
  });
  beforeEach(() => {
    fds = fdSnapshot();
    maps = liveMappings();
    dev = GntdevDmabuf.open();
    mapper = GrantMapper.open();
  });
  afterEach(async () => {
    dev.close();
    mapper.close();
    expect(await fds.leaked()).toEqual([]);
    expect(liveMappings()).toBe(maps);
  });

  /**
   * The balloon round: map 32 MiB of grants (pages taken out of the balloon), unmap them, wait until the balloon
   * driver has populated them again. Returns the buffer that was granted, still held, so that the next buffer is
   * made of the populated pages rather than of its.
   */
  async function balloonRound(): Promise<DumbBuffer> {
    using dev = GntdevDmabuf.open();
    using mapper = GrantMapper.open();
    const held = vgem.createDumb({ width: 4096, height: SIZE / 4096 / 4, bpp: 32 });
    try {
      {
        using buf = held.exportDmaBuf();
        const imp = dev.importToRefs(buf, 0);
        mapper.map(0, imp.refs).unmap();
        imp.release();
      }
      const kb = (f: string) => Number(readFileSync(`${BALLOON}/${f}`, 'utf8'));
      for (let t = 0; kb('info/current_kb') < kb('target_kb'); t++) {
        expect(t, 'the balloon is populated again within 10 s').toBeLessThan(100);
        await new Promise((r) => setTimeout(r, 100));
      }
    } catch (e) {
      held.close();
      throw e;
    }
    return held;
  }

  /** Bounce slots a PRIME import of `buf` into `drm` holds: > 0 when the buffer has bounced segments. */
  function bouncedByImport(drm: DrmDevice, buf: DmaBuf): number {
    const used = swiotlbUsed();
    using _imported = drm.importDmaBuf(buf);
    return swiotlbUsed() - used;
  }

  /**
   * A 32 MiB dumb buffer of `drm` made after a balloon round. x86 (PV dom0): one with segments swiotlb-xen bounces
   * (shown by `other`'s PRIME import of it; up to 3 rounds until it has such segments). arm64: the one of the
   * first round, whose PRIME import bounces nothing (see above). On a failed expectation nothing is left open.
   */
  async function fragmentedDumb(name: string, drm: DrmDevice, other: DrmDevice) {
    expect(existsSync(SWIOTLB_USED), 'debugfs shows the swiotlb pool').toBe(true);
    for (let round = 1; ; round++) {
      using _held = await balloonRound();
      const dumb = drm.createDumb({ width: 4096, height: SIZE / 4096 / 4, bpp: 32 });
      let view: ReturnType<DumbBuffer['map']> | undefined;
      let buf: DmaBuf | undefined;
      const close = () => {
        buf?.close();
        view?.unmap();
        dumb.close();
      };
      try {
        view = dumb.map();
        fillWords(view.buffer, 0x1111);
        buf = dumb.exportDmaBuf();
        const bounced = bouncedByImport(other, buf);
        if (!arm64 && bounced === 0 && round < 3) {
          close();
          continue;
        }
        console.log(`${name} buffer: ${bounced} bounce slots for a PRIME import (round ${round})`);
        if (arm64) {
          // Xen's feature bits (sysfs: submap 0, hex): dom0 here is direct-mapped.
          const features = Number.parseInt(readFileSync('/sys/hypervisor/properties/features', 'utf8'), 16);
          console.log(`Xen features ${features.toString(16)}`);
          expect(features & (1 << XENFEAT_DIRECT_MAPPED), 'XENFEAT_direct_mapped').not.toBe(0);
          expect(bounced, 'arm64: a PRIME import bounces no segment').toBe(0);
        } else expect(bounced, 'the buffer has segments swiotlb-xen bounces').toBeGreaterThan(0);
        return { dumb, view, buf };
      } catch (e) {
        close();
        throw e;
      }
    }
  }

  /** Imports `buf` (filled with fillWords(0x1111), `view` its bytes) to dom0's own refs, checks every page. */
  function check(buf: DmaBuf, view: Buffer) {
    const used = swiotlbUsed();
    const imp = dev.importToRefs(buf, 0);
    const bounceSlots = swiotlbUsed() - used;
    const m = mapper.map(0, imp.refs);
    // The grant side sees the buffer's bytes on every page …
    const unseen = wrongPages(m.buffer, 0x1111);
    // … and what it writes on every page lands in the buffer, now …
    fillWords(m.buffer, 0x2222);
    const unwritten = wrongPages(view, 0x2222);
    m.unmap();
    imp.release();
    // … and after the release (a bounce buffer copied back at unmap would show here as old bytes).
    const lost = wrongPages(view, 0x2222);
    const result = {
      bounceSlots,
      unseen: pagesNote(unseen),
      unwritten: pagesNote(unwritten),
      lostAfterRelease: pagesNote(lost),
    };
    console.log(`${SIZE / PAGE_SIZE} pages granted:`, JSON.stringify(result));
    expect(result).toEqual({ bounceSlots: 0, unseen: '0', unwritten: '0', lostAfterRelease: '0' });
  }

  for (const [name, other] of [
    ['vgem', 'vkms'],
    ['vkms', 'vgem'],
  ] as const)
    it(`a 32 MiB ${name} dumb buffer ${arm64 ? 'after a balloon round (arm64: nothing bounced)' : 'with bounced segments'}: every granted page is the buffer’s own`, async () => {
      const drm = name === 'vgem' ? vgem : vkms;
      const { dumb, view, buf } = await fragmentedDumb(name, drm, other === 'vgem' ? vgem : vkms);
      try {
        check(buf, view.buffer);
      } finally {
        buf.close();
        view.unmap();
        dumb.close();
      }
    });
});
