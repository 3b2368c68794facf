#!/usr/bin/env node
// PV display benchmark: a stock guest's `modetest -v` page flipping on the TS backend, per buffer path — the copy
// path (PV guest, frontend allocation) and zero copy by backend allocation (PVH guest, be-alloc=1). Reported per
// path: flips per second as the backend saw them, the PG_FLIP round trip inside the backend (request taken →
// event pushed: the copy, the KMS flip and its vblank), the backend's CPU time per frame, bytes copied per frame.
// The driver-domain path runs in a PVH domU (see test/driver-domain.xen.vm.test.ts) and is not measured here;
// EPAM's displ_be is not built (it needs libxenbe and its dependencies from source, which this machine cannot
// fetch). Needs Xen dom0: node scripts/vm/run.mjs --mode xen -- node packages/pv-display/bench/run.mjs
// Prints a table; never asserts.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDom0 } from '@zcopy/xen';
import { benchArgs, printTable, skip } from '../../../scripts/bench/harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
if (!isDom0()) skip('pv-display bench: not Xen dom0; run it in the Xen VM (see the header of bench/run.mjs)');
const { json } = benchArgs({});
const pd = await import(join(here, '..', 'dist', 'index.js'));
const { bootDomU } = await import('@zcopy/xen/domu');
const FLIP_S = Number(process.env.PV_DISPLAY_BENCH_SECONDS ?? 30);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const job = [
  'for i in $(seq 1 120); do modetest -M xendrm-du -c >/tmp/c 2>&1 && break; sleep 0.5; done',
  "C=$(awk 'f&&/^[0-9]+/{print $1; exit} /^Connectors:/{f=1}' /tmp/c)",
  `(sleep ${FLIP_S}; echo) | modetest -M xendrm-du -s "$C:1024x768" -v 2>&1 | grep freq`,
].join('\n');

async function measure(name, start, type, beAlloc) {
  const be = await start({});
  const b = be.backend;
  try {
    const booted = await bootDomU({
      type,
      command: ['sh', '-c', job],
      xlConfig: [`vdispl = [ 'backend=0,be-alloc=${beAlloc},connectors=id0:1024x768' ]`],
      attempts: type === 'pvh' ? 3 : 1,
      note: (l) => console.warn(l),
    });
    const domid = booted.domid;
    // Wait for the first flips, then measure a window of the steady state.
    for (let i = 0; i < 1200 && (b.stats(domid)?.events ?? 0) < 5; i++) await sleep(100);
    const s0 = { ...b.stats(domid) };
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep((FLIP_S - 8) * 1000);
    const s1 = { ...b.stats(domid) };
    const c1 = process.cpuUsage(c0);
    const secs = (performance.now() - t0) / 1000;
    const r = await booted.domu.wait({ timeoutMs: 180_000 });
    const frames = s1.events - s0.events;
    return {
      path: name,
      guest: type,
      framesPerSecond: frames / secs,
      roundTripMsAvg: (s1.flipMsTotal - s0.flipMsTotal) / Math.max(1, frames),
      roundTripMsMax: s1.flipMsMax,
      cpuMsPerFrame: (c1.user + c1.system) / 1000 / Math.max(1, frames),
      bytesCopiedPerFrame: (s1.bytesCopied - s0.bytesCopied) / Math.max(1, frames),
      modetest: (r.output.match(/freq: [\d.]+Hz/g) ?? []).join(' '),
      errors: s1.errors,
    };
  } finally {
    await be.close();
  }
}

const rows = [];
rows.push(await measure('copy', pd.startCopyBackend, 'pv', 0));
rows.push(await measure('zero copy (be-alloc)', pd.startBackendAllocBackend, 'pvh', 1));
if (json) console.log(JSON.stringify({ bench: 'pv-display', rows }));
printTable([
  [
    'path',
    'guest',
    'frames/s',
    'round trip ms (avg/max)',
    'backend CPU ms/frame',
    'bytes copied/frame',
    'modetest',
  ],
  ...rows.map((r) => [
    r.path,
    r.guest,
    r.framesPerSecond.toFixed(1),
    `${r.roundTripMsAvg.toFixed(1)} / ${r.roundTripMsMax.toFixed(1)}`,
    r.cpuMsPerFrame.toFixed(2),
    String(Math.round(r.bytesCopiedPerFrame)),
    r.modetest,
  ]),
]);
