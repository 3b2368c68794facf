// The demo's stock-guest scene (`zcopy demo --only stock-guest`): an unmodified guest — Linux's own
// xen-drm-front and libdrm's `modetest`, nothing of ours — shown by dom0's TypeScript PV display backend
// (@zcopy/pv-display, copy path: PV dom0 backend, PV guest, frontend allocation). The writeback capture must equal
// byte for byte the same modetest command's frame on dom0's own vkms, and is saved as a PNG.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { modetestReference, startCopyBackend, pollUntil as until } from '@zcopy/pv-display';
import { type DomU, defaultDomUType, startDomU } from '@zcopy/xen/domu';
import { encodePng } from './png.js';
import type { DemoReport } from './report.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const GUEST_JOB = [
  'for i in $(seq 1 120); do modetest -M xendrm-du -c >/tmp/c 2>&1 && break; sleep 0.5; done',
  "C=$(awk 'f&&/^[0-9]+/{print $1; exit} /^Connectors:/{f=1}' /tmp/c)",
  '(sleep 8; echo) | modetest -M xendrm-du -s "$C:1024x768"',
].join('\n');

export async function stockGuest(report: DemoReport, outDir: string): Promise<void> {
  // PV on x86; PVH on arm64, where Xen has no PV guests (the same stock xen-drm-front either way).
  const type = defaultDomUType();
  const kind = type.toUpperCase();
  report.section('stock-guest', `a stock ${kind} guest's modetest on dom0's TypeScript PV display backend`);
  const ref = await report.step(
    "dom0: the same modetest on dom0's own vkms (reference)",
    () => modetestReference(),
    (b) => `${b.length} bytes`,
  );
  const be = await report.step(
    'dom0: start the PV display backend (copy path) on vkms',
    () => startCopyBackend(),
    (b) => `watching ${b.backend.root}`,
  );
  const b = be.backend;
  let domu: DomU | undefined;
  try {
    domu = await report.step(
      `start a stock ${kind} guest with a vdispl device (xen-drm-front)`,
      () =>
        startDomU({
          type,
          name: 'zcopy-stock-guest',
          command: ['sh', '-c', GUEST_JOB],
          xlConfig: ["vdispl = [ 'backend=0,be-alloc=0,connectors=id0:1024x768' ]"],
        }),
      (d) => d.name,
    );
    const domid = await domu.domid();
    await report.step(
      "the guest's xen-drm-front connects",
      () =>
        until(
          'the frontend',
          () => b.devices.find((d) => d.frontendDomid === domid && d.state === 'connected'),
          300_000,
        ),
      (d) => `domid ${d.frontendDomid}, ${d.connectors.map((c) => `${c.width}x${c.height}`).join(', ')}`,
    );
    await report.step('modetest sets its mode (SET_CONFIG): dom0 shows the frame', () =>
      until('SET_CONFIG', () => b.stats(domid)?.requests.SET_CONFIG, 120_000),
    );
    await sleep(1500);
    const kms = be.display.kms;
    const cap = await report.step('dom0: writeback capture of the display', () =>
      kms.capture(kms.pick().crtc),
    );
    await report.step('verify: the capture equals the reference byte for byte', () => {
      if (!Buffer.from(cap.data).equals(ref)) throw new Error('the capture differs from the reference frame');
      return `${cap.data.length} bytes identical`;
    });
    const png = join(outDir, 'stock-guest.png');
    await writeFile(
      png,
      encodePng({ pixels: cap.data, width: cap.width, height: cap.height, pitch: cap.pitch }),
    );
    report.pictures.push(png);
    const st = b.stats(domid)!;
    report.copied.set(
      'stock-guest', // the steps' direction: the summary matches them by it
      Math.round(st.bytesCopied / Math.max(1, st.requests.SET_CONFIG ?? 1)),
    );
    await report.step('the guest ends; nothing stays mapped or bound', async () => {
      await domu!.wait({ timeoutMs: 120_000 });
      domu = undefined;
      await until('the device to go', () => !b.devices.some((d) => d.state === 'connected'), 30_000);
      for (let i = 0; i < 50 && b.liveMappings + b.boundPorts > 0; i++) await sleep(100);
      if (b.liveMappings + b.boundPorts > 0)
        throw new Error(`${b.liveMappings} mappings and ${b.boundPorts} ports left`);
      return '0 mappings, 0 ports';
    });
  } finally {
    await domu?.destroy();
    await be.close();
  }
}
