// `zcopy demo` in Xen dom0: the seeds' two zero-copy flows between two domains, each ending on a real display
// (vkms) whose scanout is captured by writeback and saved as a PNG.
//  1. backend-allocated (IMP_TO_REFS): dom0's vkms dumb buffer is granted to a frontend domU (PV on x86, PVH on
//     arm64), which draws its frame straight into it; dom0 puts that same buffer on the display.
//  2. frontend-allocated (EXP_FROM_REFS): the frontend's own pages become a dma-buf in the backend, which reads
//     them through it and shows them on its vkms display (frame-backend.ts). Where the backend runs is the one
//     arch difference (frontendTopology()): on arm64 in dom0, where the seeds put it (every arm64 domain is
//     auto-translated, so dom0 can export); on x86 in a PVH domU, with dom0 as the frontend, since an x86 PV
//     dom0 cannot export (EXP_FROM_REFS is EINVAL in a PV domain; gntdev-dmabuf's dom0 tests assert both).

import { writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ZcopyError } from '@zcopy/core';
import { GntdevDmabuf, PAGE_SIZE } from '@zcopy/gntdev-dmabuf';
import { GrantMapper, GrantSharer } from '@zcopy/grant-table';
import { type DomUType, defaultDomUType } from '@zcopy/xen/domu';
import { XenStore } from '@zcopy/xenstore';
import { openDisplay } from './display.js';
import { type DomU, startDomU } from './domains.js';
import { FrameBackend } from './frame-backend.js';
import { countMismatches, drawFrame, type FrameContent, type FrameGeometry } from './pattern.js';
import { encodePng } from './png.js';
import { DemoReport, fmtMs } from './report.js';

export interface DemoOptions {
  outDir: string;
  print?: (line: string) => void;
  /** Run only one direction, or only the stock-guest scene (the default runs all three). */
  only?: 'backend' | 'frontend' | 'stock-guest';
  /** The architecture whose expectations apply (default: this process's). */
  arch?: string;
}

/**
 * Where the frontend-allocated direction's backend runs: 'dom0' on arm64 (the seeds' topology: the display
 * backend in dom0, a domU's grants exported there), 'domU' on x86, whose PV dom0 cannot export grants as a
 * dma-buf (EINVAL: not auto-translated), so a PVH domU is the backend and dom0 the frontend.
 */
export function frontendTopology(arch: string = process.arch): 'dom0' | 'domU' {
  return arch === 'arm64' ? 'dom0' : 'domU';
}

const label = (t: DomUType) => t.toUpperCase();

function reference(g: FrameGeometry, content: FrameContent): Uint8Array {
  const ref = new Uint8Array(g.pitch * g.height);
  drawFrame(ref, g, content);
  return ref;
}

function mustMatch(what: string, mismatches: number, total: number): string {
  if (mismatches !== 0)
    throw new ZcopyError(
      'ERR_ZCOPY_FRAME_MISMATCH',
      `${what}: ${mismatches} of ${total} pixels differ from the frontend's frame`,
    );
  return `${total} pixels identical`;
}

async function backendAllocated(xs: XenStore, report: DemoReport, o: DemoOptions): Promise<void> {
  const type = defaultDomUType(o.arch);
  report.section(
    'backend-allocated',
    `dom0 display buffer -> ${label(type)} frontend draws into it (IMP_TO_REFS)`,
  );
  let fe: DomU | undefined;
  const gnt = GntdevDmabuf.open();
  const display = await report.step(
    'dom0: open vkms, read its display mode',
    () => openDisplay(),
    (d) => `${d.width}x${d.height}`,
  );
  try {
    const { width, height } = display;
    fe = await report.step(
      `start the frontend domU (${label(type)})`,
      () =>
        startDomU(xs, {
          type,
          agent: 'frontend.js',
          name: 'zcopy-frontend',
          // a PVH boot under TCG sometimes dies (images/README.md); PV has never been seen to
          attempts: type === 'pvh' ? 3 : 1,
          note: o.print,
        }),
      (d) => `domid ${d.domid}`,
    );
    const dumb = await report.step(
      'dom0: vkms dumb buffer, XRGB8888',
      () => display.drm.createDumb({ width, height, bpp: 32 }),
      (b) => `${b.size} bytes, pitch ${b.pitch}`,
    );
    const g: FrameGeometry = { width, height, pitch: dumb.pitch };
    const imp = await report.step(
      'dom0: PRIME export + IMP_TO_REFS to the frontend',
      () => {
        using dmabuf = dumb.exportDmaBuf();
        return gnt.importToRefs(dmabuf, fe!.domid);
      },
      (i) => `${i.refs.length} grant refs`,
    );
    const frames: FrameContent[] = [1, 2].map((n) => ({
      seed: n,
      lines: [
        'ZCOPY',
        `FRAME ${n} DRAWN BY DOMU ${fe!.domid}`,
        'INTO DOM0 VKMS MEMORY',
        'SCANNED OUT BY DOM0 - 0 BYTES COPIED',
      ],
    }));
    await report.step(
      'frontend: map the refs, draw frame 1 into them',
      async () => {
        await fe!.channel.send('frame', { backend: 0, refs: Array.from(imp.refs), ...g, ...frames[0] });
        return fe!.channel.result<{ drawMs: number; mappedBytes: number }>('drawn', 120_000);
      },
      (r) => `${r.mappedBytes} bytes mapped, drawn in ${fmtMs(r.drawMs)}`,
    );
    const scanout = await report.step('dom0: framebuffer of that buffer, KMS commit', async () => {
      const f = display.frameOf(dumb);
      await display.show(f);
      return f;
    });
    const capture = display.createCaptureBuffer();
    const cap = await report.step('dom0: writeback capture of the scanout', () => display.capture(capture));
    await report.step('verify: the display showed the frontend frame', () =>
      mustMatch(
        'scanout',
        countMismatches(cap.pixels, cap.pitch, reference(g, frames[0]!), g.pitch, width, height),
        width * height,
      ),
    );
    const png = join(o.outDir, 'backend-allocated.png');
    await writeFile(png, encodePng({ pixels: cap.pixels, width, height, pitch: cap.pitch }));
    report.pictures.push(png);
    await report.step('frontend draws frame 2 in place; the display shows it', async () => {
      await fe!.channel.send('frame2', frames[1]);
      await fe!.channel.result('drawn2', 120_000);
      const c2 = await display.capture(capture);
      return mustMatch(
        'frame 2',
        countMismatches(c2.pixels, c2.pitch, reference(g, frames[1]!), g.pitch, width, height),
        width * height,
      );
    });
    await report.step('release: frontend unmaps, IMP_RELEASE, buffers closed', async () => {
      await fe!.channel.send('unmap', {});
      await fe!.channel.result('unmapped', 60_000);
      imp.release();
      scanout.close();
      capture.close();
      dumb.close();
    });
    report.copied.set('backend-allocated', 0);
  } finally {
    display.close();
    gnt.close();
    const died = fe?.death();
    if (died) report.deaths.push(`${fe!.name} (xl: shut down, reason ${died})`);
    await fe?.destroy();
  }
}

async function frontendAllocated(xs: XenStore, report: DemoReport, o: DemoOptions): Promise<void> {
  report.section('frontend-allocated', 'dom0 grants its frame -> PVH backend displays it (EXP_FROM_REFS)');
  let be: DomU | undefined;
  const sharer = GrantSharer.open();
  const mapper = GrantMapper.open();
  try {
    be = await report.step(
      'start the backend domU (PVH)',
      () =>
        startDomU(xs, {
          type: 'pvh',
          agent: 'backend.js',
          name: 'zcopy-backend',
          attempts: 3,
          note: o.print,
        }),
      (d) => `domid ${d.domid}`,
    );
    const { width, height } = be.ready as { width: number; height: number };
    const g: FrameGeometry = { width, height, pitch: width * 4 };
    const pages = Math.ceil((g.pitch * height) / PAGE_SIZE);
    const frames: FrameContent[] = [1, 2].map((n) => ({
      seed: 4 + n,
      lines: [
        'ZCOPY',
        `FRAME ${n} DRAWN BY DOM0 IN ITS OWN PAGES`,
        `SCANNED OUT BY PVH DOMU ${be!.domid}`,
        'EXP_FROM_REFS - 0 BYTES COPIED',
      ],
    }));
    const shared = await report.step(
      'dom0 (frontend): grant pages to the backend, draw frame 1',
      () => {
        const s = sharer.share(be!.domid, pages);
        drawFrame(new Uint8Array(s.arrayBuffer), g, frames[0]!);
        return s;
      },
      (s) => `${s.refs.length} grant refs`,
    );
    await report.step(
      'backend: EXP_FROM_REFS -> one dma-buf',
      async () => {
        await be!.channel.send('frame', { frontend: 0, refs: Array.from(shared.refs), ...g, ...frames[0] });
        return be!.channel.result<{ size: number }>('exported', 120_000);
      },
      (r) => `${r.size} bytes`,
    );
    await report.step('backend: the bytes read through the dma-buf are the frame', async () => {
      const r = await be!.channel.result<{ mismatches: number }>('verified', 120_000);
      return mustMatch('dma-buf contents', r.mismatches, width * height);
    });
    await report.step('backend: PRIME import into its vkms, KMS commit', () =>
      be!.channel.result('shown', 180_000),
    );
    const shown = await report.step('backend: writeback capture of its scanout', async () => {
      const r = await be!.channel.result<{ mismatches: number; refs: number[]; pitch: number }>(
        'captured',
        180_000,
      );
      mustMatch('backend scanout', r.mismatches, width * height);
      return r;
    });
    await report.step('dom0: map the backend capture (its refs), save it', async () => {
      using view = mapper.map(be!.domid, shown.refs, { access: 'read' });
      const pixels = new Uint8Array(view.arrayBuffer);
      const png = join(o.outDir, 'frontend-allocated.png');
      await writeFile(png, encodePng({ pixels, width, height, pitch: shown.pitch }));
      report.pictures.push(png);
      return mustMatch(
        'capture seen from dom0',
        countMismatches(pixels, shown.pitch, reference(g, frames[0]!), g.pitch, width, height),
        width * height,
      );
    });
    await report.step('dom0 draws frame 2 in place; the backend sees it', async () => {
      drawFrame(new Uint8Array(shared.arrayBuffer), g, frames[1]!);
      await be!.channel.send('frame2', frames[1]);
      const r = await be!.channel.result<{ viaDmaBuf: number; captured: number }>('seen2', 180_000);
      mustMatch('frame 2 through the dma-buf', r.viaDmaBuf, width * height);
      return mustMatch('frame 2 on the display', r.captured, width * height);
    });
    await report.step(
      'release handshake: EXP_WAIT_RELEASED, then ungrant',
      async () => {
        await be!.channel.send('release', {});
        const r = await be!.channel.result<{ first: string }>('released', 120_000);
        shared.unshare();
        return r.first;
      },
      (r) => `wait: ${r}`,
    );
    report.copied.set('frontend-allocated', 0);
  } finally {
    mapper.close();
    sharer.close();
    const died = be?.death();
    if (died) report.deaths.push(`${be!.name} (xl: shut down, reason ${died})`);
    await be?.destroy();
  }
}

async function frontendAllocatedInDom0(xs: XenStore, report: DemoReport, o: DemoOptions): Promise<void> {
  report.section(
    'frontend-allocated',
    'PVH frontend grants its frame -> dom0 backend exports and displays it (EXP_FROM_REFS)',
  );
  let fe: DomU | undefined;
  const display = await report.step(
    'dom0: open vkms, read its display mode',
    () => openDisplay(),
    (d) => `${d.width}x${d.height}`,
  );
  const g: FrameGeometry = { width: display.width, height: display.height, pitch: display.width * 4 };
  const { width, height } = g;
  let be: FrameBackend;
  try {
    be = new FrameBackend(display, g);
  } catch (e) {
    display.close();
    throw e;
  }
  try {
    fe = await report.step(
      'start the frontend domU (PVH)',
      () =>
        startDomU(xs, {
          type: 'pvh',
          agent: 'sharing-frontend.js',
          name: 'zcopy-frontend',
          attempts: 3,
          note: o.print,
        }),
      (d) => `domid ${d.domid}`,
    );
    const frames: FrameContent[] = [1, 2].map((n) => ({
      seed: 4 + n,
      lines: [
        'ZCOPY ON ARM64 XEN',
        `FRAME ${n} DRAWN BY DOMU ${fe!.domid} IN ITS PAGES`,
        'EXPORTED AND SHOWN BY DOM0',
        'EXP_FROM_REFS - 0 BYTES COPIED',
      ],
    }));
    const granted = await report.step(
      'frontend: grant pages to dom0, draw frame 1 in them',
      async () => {
        const pages = Math.ceil((g.pitch * height) / PAGE_SIZE);
        await fe!.channel.send('frame', { backend: 0, pages, ...g, ...frames[0] });
        return fe!.channel.result<{ refs: number[]; drawMs: number }>('granted', 120_000);
      },
      (r) => `${r.refs.length} grant refs, drawn in ${fmtMs(r.drawMs)}`,
    );
    await report.step(
      'dom0 (backend): EXP_FROM_REFS -> one dma-buf',
      () => be.exportFrom(fe!.domid, granted.refs),
      (b) => `${b.size} bytes`,
    );
    await report.step('dom0: the bytes read through the dma-buf are the frame', () =>
      mustMatch('dma-buf contents', be.mismatchesThroughDmaBuf(frames[0]!), width * height),
    );
    await report.step('dom0: PRIME import into its vkms, KMS commit', () => be.show());
    const cap = await report.step('dom0: writeback capture of the scanout', async () => {
      const c = await be.capture(frames[0]!);
      mustMatch('scanout', c.mismatches, width * height);
      return c;
    });
    await report.step('dom0: save the capture', async () => {
      const png = join(o.outDir, 'frontend-allocated.png');
      await writeFile(png, encodePng({ pixels: cap.pixels, width, height, pitch: cap.pitch }));
      report.pictures.push(png);
      return `${width}x${height}`;
    });
    await report.step('frontend draws frame 2 in place; dom0 shows it', async () => {
      await fe!.channel.send('frame2', frames[1]);
      await fe!.channel.result('drawn2', 120_000);
      mustMatch('frame 2 through the dma-buf', be.mismatchesThroughDmaBuf(frames[1]!), width * height);
      return mustMatch('frame 2 on the display', (await be.capture(frames[1]!)).mismatches, width * height);
    });
    await report.step(
      'release handshake: EXP_WAIT_RELEASED, then the frontend ungrants',
      async () => {
        const first = await be.release();
        await fe!.channel.send('ungrant', {});
        await fe!.channel.result('ungranted', 60_000);
        return first;
      },
      (r) => `wait: ${r}`,
    );
    report.copied.set('frontend-allocated', 0);
  } finally {
    be.close();
    const died = fe?.death();
    if (died) report.deaths.push(`${fe!.name} (xl: shut down, reason ${died})`);
    await fe?.destroy();
  }
}

/**
 * Runs one direction; if it failed while one of its domUs died (by xl's account: under QEMU TCG a PVH domU now
 * and then dies by no fault of the code, images/README.md), runs it once more, announced with a `zcopy-retry:`
 * line that the test summary counts. A failure with no death, or a second failure, stands.
 */
async function direction(
  report: DemoReport,
  print: (line: string) => void,
  name: string,
  run: () => Promise<void>,
): Promise<void> {
  const steps = report.steps.length;
  const pictures = report.pictures.length;
  const deaths = report.deaths.length;
  try {
    await run();
  } catch (e) {
    const died = report.deaths.slice(deaths);
    if (died.length === 0) throw e;
    print(`zcopy-retry: demo ${name}: failed while domU ${died.join(', ')} died; the direction runs again`);
    report.rewind(steps, pictures);
    await run();
  }
}

export async function runDemo(o: DemoOptions): Promise<DemoReport> {
  const print = o.print ?? ((l: string) => console.log(l));
  await mkdir(o.outDir, { recursive: true });
  const report = new DemoReport(print);
  const summary = join(o.outDir, 'demo.json');
  // A step whose promise is left pending with nothing left to run (e.g. waiting for a child's exit event that
  // never comes) would end Node with exit code 13 and no finally: name the step and write the report first.
  const stuck = () => {
    report.abandon('never finished: its promise was left pending with nothing left to run');
    writeFileSync(summary, JSON.stringify(report, null, 2));
    process.exitCode = 1;
  };
  process.once('beforeExit', stuck);
  const xs = XenStore.open();
  try {
    if (o.only === undefined || o.only === 'backend')
      await direction(report, print, 'backend-allocated', () => backendAllocated(xs, report, o));
    if (o.only === undefined || o.only === 'frontend') {
      const run = frontendTopology(o.arch) === 'dom0' ? frontendAllocatedInDom0 : frontendAllocated;
      await direction(report, print, 'frontend-allocated', () => run(xs, report, o));
    }
    if (o.only === undefined || o.only === 'stock-guest') {
      const { stockGuest } = await import('./stock-guest.js');
      await stockGuest(report, o.outDir);
    }
  } finally {
    process.off('beforeExit', stuck);
    xs.close();
    await writeFile(summary, JSON.stringify(report, null, 2));
  }
  return report;
}
