// VM (Xen dom0): zero copy by backend allocation (row 2). A PVH domU with `be-alloc=1` runs the stock
// xen-drm-front and modetest; every buffer is a dumb buffer of dom0's vkms granted to the guest (IMP_TO_REFS),
// which modetest draws into; dom0 shows that same buffer. Checked: the frame equals the reference byte for byte,
// flips keep arriving, 0 bytes copied, the displayed dumb buffer holds what the capture shows, nothing is left
// granted or mapped. Then a PV domU with be-alloc=1: the backend serves it and holds nothing afterwards, and the
// stock frontend's defect in an x86 PV guest is asserted as it stands (below: the guest's kernel corrupts its own
// page accounting; be-alloc is for auto-translated guests, PVH here, and arm64's, where the frontend comes from).
import { bootDomU, type DomU } from '@zcopy/xen/domu';
import { afterAll, describe, expect, it } from 'vitest';
import { startBackendAllocBackend } from '../src/index.js';
import {
  FLIP_TEST_MS,
  frameDiff,
  guestJob,
  PVH_CONNECT_MS,
  referenceCapture,
  sha,
  sleep,
  until,
} from './helpers.js';

const arm64 = process.arch === 'arm64';
const vdispl = "vdispl = [ 'backend=0,be-alloc=1,connectors=id0:1024x768' ]";

describe('backend allocation: dom0 vkms buffers granted to a PVH guest', () => {
  let domu: DomU | undefined;
  let backend: Awaited<ReturnType<typeof startBackendAllocBackend>> | undefined;
  afterAll(async () => {
    await domu?.destroy();
    await backend?.close();
  });

  it(
    'modetest draws into dom0’s display buffer: the frame byte for byte, flips, 0 bytes copied',
    async () => {
      const ref = await referenceCapture();
      const log: string[] = [];
      backend = await startBackendAllocBackend({ log: (l) => log.push(l) });
      const b = backend.backend;
      const booted = await bootDomU({
        type: 'pvh',
        command: ['sh', '-c', guestJob()],
        xlConfig: [vdispl],
        attempts: 3,
        note: (l) => console.warn(l),
        // Ready once the frontend connected (a boot that dies first is retried).
        ready: async () => {
          await until(
            'the frontend to connect',
            () => b.devices.find((d) => d.state === 'connected'),
            PVH_CONNECT_MS,
          );
        },
      });
      domu = booted.domu;
      const domid = booted.domid;
      const info = b.devices.find((d) => d.frontendDomid === domid)!;
      expect(info.backendAllocation).toBe(true);

      await until('SET_CONFIG', () => (b.stats(domid)?.requests.SET_CONFIG ?? 0) >= 1, 120_000);
      await sleep(1500);
      const kms = backend.display.kms;
      const frame = await kms.capture(kms.pick().crtc, { timeoutMs: 20_000 });
      expect(frame.data.length).toBe(ref.bytes);
      // Where a difference comes from: the display buffers themselves (what the guest's writes reached).
      const inBuffers = b
        .buffers(domid)
        .map((g) => {
          using m = g.dumb.map({ access: 'read' });
          return `buffer ${g.dumb.width}x${g.dumb.height}: ${frameDiff(m.buffer, ref.data)}`;
        })
        .join('\n');
      let again = '';
      if (sha(frame.data) !== ref.sha) {
        await sleep(3000);
        const later = await kms.capture(kms.pick().crtc, { timeoutMs: 20_000 });
        again = `\n3 s later: ${frameDiff(later.data, ref.data)}`;
      }
      expect(sha(frame.data), `${frameDiff(frame.data, ref.data)}\n${inBuffers}${again}`).toBe(ref.sha);

      const result = await domu.wait({ timeoutMs: 420_000 });
      domu = undefined;
      const out = result.output;
      const s = b.stats(domid)!;
      const why = `${JSON.stringify(s)}\n${out}\n${log.slice(-20).join('\n')}`;
      expect(out, why).toMatch(/phase=done/);
      const freq = out.match(/freq: [\d.]+Hz/g) ?? [];
      expect(freq.length, why).toBeGreaterThanOrEqual(1);
      expect(s.flips).toBeGreaterThanOrEqual(60 * freq.length);
      // Every flip modetest counted ended with our event, or (late: no event) with the frontend's own timeout.
      expect(s.events + s.lateFlips).toBeGreaterThanOrEqual(60 * freq.length);
      expect(s.bytesCopied).toBe(0);
      expect(s.errors, `${s.lastError}\n${log.join('\n')}`).toBe(0);
      console.log(
        `pv-display be-alloc (PVH): ${s.flips} flips, ${s.events} events, modetest ${freq.join(', ')}; 0 bytes copied`,
      );
      await until(
        'the device to go',
        () => !b.devices.some((d) => d.frontendDomid === domid && d.state === 'connected'),
        30_000,
      );
      expect(b.liveMappings).toBe(0);
      expect(b.boundPorts).toBe(0);
      expect(backend.liveImports()).toBe(0);
    },
    FLIP_TEST_MS,
  );

  // x86 only: Xen on Arm has one guest kind (auto-translated, "HVM" in sysfs) and no PV guests, so there is no
  // PV frontend to serve on arm64 (`@zcopy/xen/domu` refuses type 'pv' there). The skipped test's title says so,
  // and the suite's summary counts it as skipped.
  it.skipIf(arm64)(
    `a PV guest with be-alloc=1: served, nothing left in the backend, the stock frontend's page accounting defect${arm64 ? ' (skipped on arm64: Xen on Arm has no PV guests)' : ''}`,
    async () => {
      // On its own: whatever the test before left running goes first.
      await domu?.destroy();
      domu = undefined;
      backend ??= await startBackendAllocBackend({ log: (l) => console.log(l) });
      const b = backend.backend;
      for (let i = 0; i < 100 && b.liveMappings > 0; i++) await sleep(100);
      const d = await bootDomU({ type: 'pv', command: ['sh', '-c', guestJob(5, 5)], xlConfig: [vdispl] });
      domu = d.domu;
      const result = await domu
        .wait({ timeoutMs: 180_000 })
        .catch((e: Error) => ({ status: -1, output: e.message }));
      domu = undefined;
      const s = b.stats(d.domid);
      console.log(
        `pv-display be-alloc probe (PV guest): exit ${result.status}; backend: ${JSON.stringify(s)}\n` +
          result.output.split('\n').slice(-15).join('\n'),
      );
      // The stock xen-drm-front in an x86 PV guest, be-alloc=1: it maps the backend's grants into ballooned pages
      // and gives them to modetest with vm_map_pages. In a PV guest a user PTE holds the machine frame, and a
      // granted (foreign) frame does not translate back to the guest's pfn, so when modetest exits the kernel
      // cannot find those pages: their map counts and the process's rss stay raised ("Bad rss-counter state ...
      // MM_FILEPAGES val:768", exactly one 1024x768 XRGB8888 buffer), and the balloon thread later frees pages
      // still counted as mapped ("Bad page state in process xen-balloon"). Seen in every run since 2026-11-30
      // (images/README.md, "domU BUG reports"). The guest corrupts itself; the backend is not involved beyond
      // granting valid pages. Asserted so that a kernel where this changes says so, and declared to the suite.
      const bugs = d.domu
        .console()
        .split('\n')
        .filter((l) => /\] BUG: /.test(l));
      expect(
        bugs.some((l) => /Bad rss-counter state .*type:MM_FILEPAGES val:768/.test(l)),
        bugs.join('\n'),
      ).toBe(true);
      d.domu.expectKernelBugs(
        'stock xen-drm-front, x86 PV guest, be-alloc=1: user mappings of granted frames (vm_map_pages) lose their page accounting at exit',
      );
      // Whatever the guest managed, the backend holds nothing of it afterwards.
      await until(
        'the device to go',
        () => !b.devices.some((x) => x.frontendDomid === d.domid && x.state === 'connected'),
        30_000,
      );
      expect(b.liveMappings).toBe(0);
      expect(b.boundPorts).toBe(0);
      expect(backend.liveImports()).toBe(0);
    },
  );
});
