// VM (Xen dom0): lifecycle of stock PV guests (PVH on arm64: Xen on Arm has no PV guests) on the copy-path backend. A second guest while the first is shown
// (the display stays the first's; the second is served headless and its flips still complete); a guest
// destroyed in the middle of its flips; `xl vdispl-detach`; the backend stopped and started again while a guest
// waits. After each: nothing mapped or bound, the display free again.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type DomU, defaultDomUType, startDomU } from '@zcopy/xen/domu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCopyBackend } from '../src/index.js';
import { sleep, until } from './helpers.js';

const run = promisify(execFile);
const vdispl = "vdispl = [ 'backend=0,be-alloc=0,connectors=id0:1024x768' ]";
const waitDevice =
  'for i in $(seq 1 120); do modetest -M xendrm-du -c >/tmp/c 2>&1 && break; sleep 0.5; done; ' +
  "C=$(awk 'f&&/^[0-9]+/{print $1; exit} /^Connectors:/{f=1}' /tmp/c); echo connector=$C";
// B's flips: modetest reports once per 60 flips, so B must flip at 60/s Hz at least to be seen flipping. x86: 12 s.
// arm64 (TCG-emulated arm64 guests, PVH): measured 5.4-16.8 Hz for A while B flips and 7.5 Hz for B (2026-11-30,
// a CI run alongside), and one run where B stayed under 5 Hz for its 12 s and so never reported: 20 s there.
const bFlipS = process.arch === 'arm64' ? 20 : 12;
const flipsFor = (s: number) =>
  `(sleep ${s}; echo) | modetest -M xendrm-du -s "$C:1024x768" -v 2>&1 | tail -n 20`;

describe('lifecycle', () => {
  let be: Awaited<ReturnType<typeof startCopyBackend>>;
  const domus: DomU[] = [];
  const log: string[] = [];
  const start = async (job: string) => {
    const d = await startDomU({ type: defaultDomUType(), command: ['sh', '-c', job], xlConfig: [vdispl] });
    domus.push(d);
    return { d, domid: await d.domid() };
  };
  const settled = async () => {
    const b = be.backend;
    await until('no device connected', () => !b.devices.some((x) => x.state === 'connected'), 30_000);
    for (let i = 0; i < 50 && b.liveMappings > 0; i++) await sleep(100);
    expect(b.liveMappings, log.join('\n')).toBe(0);
    expect(b.boundPorts).toBe(0);
    expect(be.display.owner).toBeUndefined();
  };
  beforeAll(async () => {
    be = await startCopyBackend({ log: (l) => log.push(l) });
  });
  afterAll(async () => {
    for (const d of domus) await d.destroy();
    await be?.close();
  });

  it('a second guest while the first is shown: served headless, both keep flipping', async () => {
    const b = be.backend;
    // A flips for longer than B needs to boot and flip: both are served at the same time.
    const a = await start(`${waitDevice}\n${flipsFor(60)}\necho phase=done`);
    await until('A to flip', () => (b.stats(a.domid)?.flips ?? 0) >= 10, 120_000);
    const second = await start(`${waitDevice}\n${flipsFor(bFlipS)}\necho phase=done`);
    await until('B to flip', () => (b.stats(second.domid)?.flips ?? 0) >= 10, 120_000);
    expect(be.display.owner).toBe(`${a.domid}/0/0`);
    const aFlips = b.stats(a.domid)!.flips;
    await sleep(3000);
    expect(b.stats(a.domid)!.flips).toBeGreaterThan(aFlips); // A is still shown and flipping
    const [ra, rb] = await Promise.all([
      a.d.wait({ timeoutMs: 180_000 }),
      second.d.wait({ timeoutMs: 180_000 }),
    ]);
    for (const [r, id] of [
      [ra, a.domid],
      [rb, second.domid],
    ] as const) {
      const freq = r.output.match(/freq: [\d.]+Hz/g) ?? [];
      expect(freq.length, r.output).toBeGreaterThanOrEqual(1);
      const s = b.stats(id) ?? { flips: 0, events: 0, errors: -1 };
      console.log(`guest ${id}: ${s.flips} flips, ${s.events} events, modetest ${freq.join(', ')}`);
    }
    await settled();
  });

  it('a guest destroyed in the middle of its flips; the next guest gets the display', async () => {
    const b = be.backend;
    const c = await start(`${waitDevice}\n${flipsFor(120)}`);
    await until('C to flip', () => (b.stats(c.domid)?.flips ?? 0) >= 20, 120_000);
    await c.d.destroy();
    await settled();
    const d = await start(`${waitDevice}\n${flipsFor(8)}\necho phase=done`);
    await until('D to be shown', () => be.display.owner === `${d.domid}/0/0`, 120_000);
    const r = await d.d.wait({ timeoutMs: 120_000 });
    expect(r.output).toMatch(/phase=done/);
    await settled();
  });

  it('xl vdispl-detach: the backend disconnects and closes the device', async () => {
    const b = be.backend;
    const e = await start(`${waitDevice}\nsleep 60`);
    await until(
      'E to connect',
      () => b.devices.find((x) => x.frontendDomid === e.domid && x.state === 'connected'),
      120_000,
    );
    const detach = await run('xl', ['vdispl-detach', e.d.name, '0'], { timeout: 60_000 }).then(
      (r) => `ok ${r.stdout}${r.stderr}`,
      (err: Error & { stderr?: string }) => `failed: ${err.message} ${err.stderr ?? ''}`,
    );
    console.log(`xl vdispl-detach: ${detach.trim()}`);
    await until(
      'the device to close',
      () => !b.devices.some((x) => x.frontendDomid === e.domid && x.state === 'connected'),
      60_000,
    );
    await e.d.destroy();
    await settled();
  });

  it('the backend stopped and started again while a guest waits: the guest reconnects', async () => {
    const f = await start(
      `${waitDevice}\nsleep 15\n` +
        // The old xendrm-du went away with the old backend; wait for the new one.
        `${waitDevice}\n${flipsFor(20)}\necho phase=done`,
    );
    await until(
      'F to connect',
      () => be.backend.devices.find((x) => x.frontendDomid === f.domid && x.state === 'connected'),
      120_000,
    );
    await be.close();
    be = await startCopyBackend({ log: (l) => log.push(l) });
    const b = be.backend;
    await until(
      'F to reconnect',
      () => b.devices.find((x) => x.frontendDomid === f.domid && x.state === 'connected'),
      120_000,
    );
    const r = await f.d.wait({ timeoutMs: 180_000 });
    expect(r.output, `${r.output}\n${log.join('\n')}`).toMatch(/phase=done/);
    const freq = r.output.match(/freq: [\d.]+Hz/g) ?? [];
    expect(freq.length, r.output).toBeGreaterThanOrEqual(1);
    expect(b.stats(f.domid)?.flips ?? 0).toBeGreaterThanOrEqual(60);
    await settled();
  });
});
