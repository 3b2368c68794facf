#!/usr/bin/env node
// The main job (`npm run demo` / `pnpm demo`): boots the Xen image under QEMU and runs `zcopy demo` in dom0,
// which shares a frame zero-copy between two domains in both directions and saves what the displays showed.
//   node scripts/demo.mjs [--arch x64|arm64] [--out DIR] [--only backend|frontend|stock-guest] [--verbose]
// --arch arm64 boots the arm64 Xen image (the seeds' hardware, emulated): the same `zcopy demo`, whose
// frontend-allocated direction there runs with the backend in dom0 (images/README.md, "arm64 guests").
// Exit 0 only if every step passed; otherwise the failing step and the guest's log are printed.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInVm } from './vm/runner.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const USAGE =
  'usage: node scripts/demo.mjs [--arch x64|arm64] [--out DIR] [--only backend|frontend|stock-guest] [--verbose]';
let outDir;
let arch = 'x64';
let verbose = false;
const extra = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--out') outDir = resolve(argv[++i]);
  else if (argv[i] === '--arch') {
    arch = argv[++i];
    if (arch === 'x86_64' || arch === 'x86') arch = 'x64';
    if (arch !== 'x64' && arch !== 'arm64') {
      console.error(`demo: --arch must be x64 or arm64, got ${arch}\n${USAGE}`);
      process.exit(2);
    }
  } else if (argv[i] === '--only') extra.push('--only', argv[++i]);
  else if (argv[i] === '--verbose' || argv[i] === '-v') verbose = true;
  else {
    console.error(`demo: unknown option ${argv[i]}\n${USAGE}`);
    process.exit(2);
  }
}
outDir ??= join(root, 'out', arch === 'arm64' ? 'demo-arm64' : 'demo');
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(130));

const cli = join(root, 'packages', 'cli', 'dist', 'bin.js');
if (!existsSync(cli)) {
  console.error('demo: packages are not built; run `bash scripts/setup.sh` first (npm run demo does)');
  process.exit(1);
}
await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });

const t0 = Date.now();
const secs = () => `${((Date.now() - t0) / 1000).toFixed(0)}s`;
console.log(
  `zcopy demo${arch === 'arm64' ? ' (arm64)' : ''}: a frame shared zero-copy between two Xen domains, shown on a display (vkms), captured`,
);
const res = await runInVm({
  mode: 'xen',
  arch,
  command: [process.execPath, cli, 'demo', '--out', outDir, ...extra],
  cwd: root,
  outDir,
  // arm64 is emulated on an x86 host: its guests run about twice as long as x86's (images/README.md)
  timeoutMs: (arch === 'arm64' ? 30 : 20) * 60_000,
  quiet: !verbose,
  progress: (msg) => console.log(`[${secs()}] ${msg}`),
  onLine: (line, phase) => {
    // (Xen's answer to the runner's nudge, runner.mjs, is not the demo's.)
    if (phase === 'job' && !/^zcopy-xen: |^\(XEN\) \*\*\* Serial input to /.test(line)) console.log(line);
  },
});

const summaryFile = join(outDir, 'demo.json');
const summary = existsSync(summaryFile) ? JSON.parse(readFileSync(summaryFile, 'utf8')) : undefined;
if (!res.ok || !summary || summary.steps.some((s) => !s.ok)) {
  console.error(`\nzcopy demo FAILED (${res.reason ?? `exit code ${res.exitCode}`}) after ${secs()}.`);
  const failed = summary?.steps.find((s) => !s.ok);
  if (failed) console.error(`failed step: ${failed.direction}: ${failed.name}\n  ${failed.detail}`);
  console.error('--- guest log (last 60 lines) ---');
  console.error(res.consoleLog.split('\n').slice(-60).join('\n'));
  console.error(`--- full log: ${join(outDir, 'console.log')}`);
  process.exit(1);
}
const byDirection = new Map();
for (const s of summary.steps) byDirection.set(s.direction, [...(byDirection.get(s.direction) ?? []), s]);
console.log(`\nzcopy demo passed in ${secs()} (guest booted in ${((res.bootMs ?? 0) / 1000).toFixed(1)}s)`);
for (const [direction, steps] of byDirection) {
  const ms = steps.reduce((a, s) => a + s.ms, 0);
  const copied = summary.bytesCopied[direction];
  console.log(
    `  ${direction.padEnd(20)} ${String(steps.length).padStart(2)} steps  ${(ms / 1000).toFixed(1).padStart(6)} s  frame bytes copied: ${copied}`,
  );
}
for (const p of summary.pictures) console.log(`  picture: ${relative(process.cwd(), p) || p}`);
