// Shared by the Xen tests: waiting, the reference capture of modetest on dom0's own vkms, the guest's job.
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { modetestReference, type PvDisplayBackend, pollUntil } from '../src/index.js';

export const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value (pollUntil of @zcopy/pv-display). */
export const until = pollUntil;

/**
 * How long a stock guest may take from `xl create` to its frontend connected. An x86 PVH domU (nested SVM under
 * TCG) boots in ~9-10 s on an idle machine of one kind and 39-61 s alone on another whose TCG is 2-3x slower
 * (pvh-stress, 2026-12-01), twice that with the other lane's guest running. A limit, not a speed assertion: a
 * domain that dies is noticed within seconds (bootDomU's retries).
 */
export const PVH_CONNECT_MS = 300_000;
/** A test that boots a stock guest and runs its flip phase (guestJob: up to 150 s of flips) to the end. */
export const FLIP_TEST_MS = 900_000;

/**
 * The same modetest command the guest runs, on dom0's own vkms, captured by writeback (modetestReference of
 * @zcopy/pv-display): what the guest's frame must equal byte for byte. Run while no backend holds the display.
 */
export async function referenceCapture(): Promise<{ sha: string; bytes: number; data: Buffer }> {
  const data = await modetestReference();
  return { sha: sha(data), bytes: data.length, data };
}

/**
 * The guest's job: wait for xendrm-du, find its connector, a plain mode set held `holdS`, then page flips for at
 * least `flipS` and on until modetest has printed its first `freq:` report (once per 60 flips), at most `maxFlipS`.
 * The hold covers dom0's capture (1.5 s after SET_CONFIG, then the writeback). A fixed flip time was a rate
 * assertion in disguise: 12 s gave several reports at the PVH guest's ~16 Hz on one machine, but x86 PVH guests
 * flipped at ~1 Hz on a machine whose TCG is 2-3x slower (F18, F19: 14-16 flips in 15 s, no report). Whether the
 * flips arrive, and each one's event, is what the tests assert; how fast is the machine's. arm64 (TCG-emulated
 * arm64 guests, 5.4-8.3 Hz measured on 2026-11-30) starts with 20 s. modetest quits on a line on its stdin: a
 * FIFO we hold open and write to when done.
 */
export function guestJob(holdS = 8, flipS = process.arch === 'arm64' ? 20 : 12, maxFlipS = 150): string {
  return [
    'for i in $(seq 1 60); do modetest -M xendrm-du -c >/tmp/c 2>&1 && break; sleep 0.5; done',
    "C=$(awk 'f&&/^[0-9]+/{print $1; exit} /^Connectors:/{f=1}' /tmp/c)",
    'echo "connector=$C"',
    'echo phase=static',
    `(sleep ${holdS}; echo) | modetest -M xendrm-du -s "$C:1024x768" 2>&1 | tail -n 5`,
    'echo phase=flips',
    'date +%s.%N',
    'rm -f /tmp/q /tmp/mt; mkfifo /tmp/q',
    'modetest -M xendrm-du -s "$C:1024x768" -v </tmp/q >/tmp/mt 2>&1 &',
    'mt=$!',
    'exec 3>/tmp/q',
    't=0',
    // Ends early when modetest does (a mode set refused): nothing more will come.
    `while [ "$t" -lt ${maxFlipS} ] && kill -0 "$mt" 2>/dev/null; do sleep 1; t=$((t + 1)); [ "$t" -ge ${flipS} ] && grep -q "freq:" /tmp/mt && break; done`,
    'echo "flip phase: $t s"',
    // In a subshell: with modetest gone the FIFO has no reader, and the write's SIGPIPE must not end this shell.
    '(echo >&3) 2>/dev/null; exec 3>&-',
    'wait',
    'tail -n 40 /tmp/mt',
    'date +%s.%N',
    'echo phase=done',
  ].join('\n');
}

/**
 * Where two XRGB8888 frames differ (the X byte ignored: vkms writes 0xff there, a client may not), for a failure
 * message: how many pixels, the first ones, the rows they span, samples of each.
 */
export function frameDiff(a: Uint8Array, b: Uint8Array, pitch = 4096): string {
  const n = Math.min(a.length, b.length) >>> 2;
  const va = new DataView(a.buffer, a.byteOffset, a.byteLength);
  const vb = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let diff = 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = -1;
  const first: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = va.getUint32(i * 4, true) & 0xff_ffff;
    const y = vb.getUint32(i * 4, true) & 0xff_ffff;
    if (x !== y) {
      diff++;
      const row = Math.floor(i / (pitch / 4));
      if (row < lo) lo = row;
      if (row > hi) hi = row;
      if (first.length < 5)
        first.push(
          `(${i % (pitch / 4)},${Math.floor(i / (pitch / 4))}) ${x.toString(16)} vs ${y.toString(16)}`,
        );
    }
  }
  const sample = (v: DataView) =>
    [0, 100 * pitch + 400, 384 * pitch + 2048, 700 * pitch + 200]
      .map((o) => v.getUint32(o, true).toString(16))
      .join(' ');
  return `${diff} of ${n} pixels differ${diff ? ` (rows ${lo}-${hi})` : ''}; first: ${first.join(', ')}; samples ${sample(va)} | ${sample(vb)}`;
}

/** After the guest ended: its device goes away (closed or removed), and nothing stays mapped or bound. */
export async function expectDeviceGone(b: PvDisplayBackend<unknown>, domid: number): Promise<void> {
  await until(
    'the device to go',
    () => b.devices.every((d) => d.frontendDomid !== domid || d.state === 'closed'),
    30_000,
  );
  expect(b.liveMappings).toBe(0);
  expect(b.boundPorts).toBe(0);
}
