// VM (Xen dom0): the copy path (PV dom0 backend, PV frontend, frontend allocation) against the stock guest.
// dom0 runs the TS backend watching backend/vdispl before `xl create` of a PV domU with a vdispl device; the
// domU's Linux xen-drm-front connects, and libdrm's unmodified `modetest` (from the domU base) draws on it:
// first a plain mode set, whose frame dom0's vkms writeback must equal byte for byte the capture of the same
// modetest command run on dom0's own vkms; then page flipping (-v), whose PG_FLIP events dom0 counts against
// modetest's own reports. At the end nothing is left mapped or bound.
import { type DomU, defaultDomUType, startDomU } from '@zcopy/xen/domu';
import { afterAll, describe, expect, it } from 'vitest';
import { startCopyBackend } from '../src/index.js';
import {
  expectDeviceGone,
  FLIP_TEST_MS,
  frameDiff,
  guestJob,
  PVH_CONNECT_MS,
  referenceCapture,
  sha,
  sleep,
  until,
} from './helpers.js';

// The frontend: PV on x86, PVH on arm64 (Xen on Arm has no PV guests; defaultDomUType()).
const type = defaultDomUType();

describe(`copy path: a stock ${type.toUpperCase()} guest running modetest on the TS backend`, () => {
  let domu: DomU | undefined;
  let backend: Awaited<ReturnType<typeof startCopyBackend>> | undefined;
  afterAll(async () => {
    await domu?.destroy();
    await backend?.close();
  });

  it(
    'connects, shows modetest’s frame byte for byte, and keeps flipping',
    async () => {
      const ref = await referenceCapture();
      const log: string[] = [];
      backend = await startCopyBackend({ log: (l) => log.push(l) });
      domu = await startDomU({
        type,
        command: ['sh', '-c', guestJob()],
        xlConfig: ["vdispl = [ 'backend=0,be-alloc=0,connectors=id0:1024x768' ]"],
      });
      const domid = await domu.domid();
      const b = backend.backend;
      // This guest's device: a domain of an earlier test may still be in backend/vdispl while the toolstack
      // removes it (seen on arm64), and is not served (the backend checks `online` and the domain).
      const info = await until(
        'the frontend to connect',
        () => b.devices.find((d) => d.frontendDomid === domid && d.state === 'connected'),
        PVH_CONNECT_MS,
      );
      expect(info).toMatchObject({
        frontendDomid: domid,
        devid: 0,
        connectors: [{ width: 1024, height: 768 }],
      });
      expect(info.backendAllocation).toBe(false);

      // The plain mode set: SET_CONFIG with modetest's pattern, copied onto dom0's vkms.
      await until('SET_CONFIG', () => (b.stats(domid)?.requests.SET_CONFIG ?? 0) >= 1, 180_000);
      await sleep(1500);
      const kms = backend.display.kms;
      const frame = await kms.capture(kms.pick().crtc, { timeoutMs: 20_000 });
      expect(frame.data.length).toBe(ref.bytes);
      expect(sha(frame.data), frameDiff(frame.data, ref.data)).toBe(ref.sha);
      const st = b.stats(domid)!;
      expect(st.requests.DBUF_CREATE).toBeGreaterThanOrEqual(1);
      expect(st.requests.FB_ATTACH).toBeGreaterThanOrEqual(1);
      expect(st.bytesCopied).toBeGreaterThanOrEqual(1024 * 768 * 4);

      const result = await domu.wait({ timeoutMs: 420_000 });
      domu = undefined;
      const s = b.stats(domid);
      const out = result.output;
      const why = `${JSON.stringify(s)}\n${out}\n${log.slice(-20).join('\n')}`;
      expect(out, why).toMatch(/phase=done/);
      const freq = out.match(/freq: [\d.]+Hz/g) ?? [];
      // modetest reports once per 60 flips: at least that many PG_FLIP events reached it.
      expect(freq.length, why).toBeGreaterThanOrEqual(1);
      const flips = s?.flips ?? 0;
      // Flips that ended after the frontend's wait get no event (the frontend completed them itself).
      const events = (s?.events ?? 0) + (s?.lateFlips ?? 0);
      expect(flips).toBeGreaterThanOrEqual(60 * freq.length);
      expect(events).toBeGreaterThanOrEqual(60 * freq.length);
      expect(flips - events).toBeLessThanOrEqual(1);
      expect(s?.droppedEvents).toBe(0);
      expect(s?.errors, `${s?.lastError}\n${log.join('\n')}`).toBe(0);
      console.log(
        `pv-display copy path: ${flips} flips, ${events} events, modetest: ${freq.join(', ')}; ` +
          `${s?.bytesCopied} bytes copied (${Math.round((s?.bytesCopied ?? 0) / Math.max(1, flips + 1))} per frame)`,
      );
      // The domain is gone: the device went away and nothing stays mapped or bound.
      await expectDeviceGone(b, domid);
    },
    FLIP_TEST_MS,
  );
});
