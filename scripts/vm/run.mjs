#!/usr/bin/env node
// CLI: run a command inside a fresh guest, in the current directory, and exit with its exit code.
//   node scripts/vm/run.mjs [--mode bare|xen] [--arch x64|arm64] [--timeout S] [--silence S] [--boot-silence S] [--out DIR] [--verbose] -- <command...>
// --arch defaults to $ZCOPY_VM_ARCH, else x64 (arm64: an emulated arm64 guest, images/README.md).
// --silence S: a guest that prints nothing for S seconds is looked into, ended and run once more (runner.mjs).
// --boot-silence S: the same before the job starts (default 60 s; every image boots in seconds).
// The job's output goes to stdout; boot progress (TTY) and failures to stderr.
import { runInVm } from './runner.mjs';

function usage(msg) {
  if (msg) console.error(`run.mjs: ${msg}`);
  console.error(
    'usage: node scripts/vm/run.mjs [--mode bare|xen] [--arch x64|arm64] [--timeout S] [--silence S] [--boot-silence S] [--out DIR] [--verbose] -- <command...>',
  );
  process.exit(2);
}

const argv = process.argv.slice(2);
const opts = {
  mode: 'bare',
  arch: process.env.ZCOPY_VM_ARCH || 'x64',
  timeoutMs: 600000,
  verbose: false,
  outDir: undefined,
};
let command = null;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--') {
    command = argv.slice(i + 1);
    break;
  } else if (a === '--mode') opts.mode = argv[++i];
  else if (a === '--arch') opts.arch = argv[++i];
  else if (a === '--timeout') opts.timeoutMs = Number(argv[++i]) * 1000;
  else if (a === '--silence') opts.silenceMs = Number(argv[++i]) * 1000;
  else if (a === '--boot-silence') opts.bootSilenceMs = Number(argv[++i]) * 1000;
  else if (a === '--out') opts.outDir = argv[++i];
  else if (a === '--verbose' || a === '-v') opts.verbose = true;
  else if (a === '--help' || a === '-h') usage();
  else usage(`unknown option ${a}`);
}
if (!command?.length) usage('no command given');
if (!['bare', 'xen'].includes(opts.mode)) usage(`--mode must be bare or xen, not ${opts.mode}`);
if (!['x64', 'arm64'].includes(opts.arch)) usage(`--arch must be x64 or arm64, not ${opts.arch}`);
if (!(opts.timeoutMs > 0)) usage('--timeout wants a number of seconds');
if (opts.silenceMs !== undefined && !(opts.silenceMs > 0)) usage('--silence wants a number of seconds');
if (opts.bootSilenceMs !== undefined && !(opts.bootSilenceMs > 0))
  usage('--boot-silence wants a number of seconds');

// Progress: rewritten in place on a terminal (gone on success), one line each with --verbose, else silent.
const tty = process.stderr.isTTY;
const progress = (msg) => {
  if (opts.verbose) process.stderr.write(`[vm] ${msg}\n`);
  else if (tty) process.stderr.write(`\r\x1b[K[vm] ${msg}`);
};
const clearProgress = () => tty && !opts.verbose && process.stderr.write('\r\x1b[K');

// Interrupted: exit through 'exit' handlers, which kill the guest and free its VM slot.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(130));

const res = await runInVm({
  mode: opts.mode,
  arch: opts.arch,
  command,
  cwd: process.cwd(),
  timeoutMs: opts.timeoutMs,
  silenceMs: opts.silenceMs,
  bootSilenceMs: opts.bootSilenceMs,
  outDir: opts.outDir,
  quiet: !opts.verbose,
  progress,
  onLine: (line, phase) => {
    if (phase !== 'job') return;
    clearProgress();
    if (!opts.verbose) process.stdout.write(`${line}\n`);
  },
});
clearProgress();

if (res.reason === 'exit') {
  if (opts.verbose)
    console.error(`[vm] exit ${res.exitCode}, boot ${res.bootMs}ms, total ${res.elapsedMs}ms`);
  process.exit(res.exitCode);
}
const why = {
  'kernel-bug': `the guest kernel reported a BUG during the job (job exit ${res.exitCode}):\n${res.kernelBugs}`,
  panic: 'the guest kernel panicked',
  timeout: `the VM did not finish within ${opts.timeoutMs / 1000}s and was killed`,
  stalled: `the guest went silent for ${Math.round((res.silentMs ?? 0) / 1000)}s, and again when run once more; what it was doing: ${res.stallReport}`,
  'qemu-died': 'QEMU exited abnormally',
  'no-result': 'the guest stopped without running the job to its end',
}[res.reason];
const tail = res.consoleLog.trimEnd().split('\n').slice(-40).join('\n');
console.error(`\n[vm] FAILED: ${why} (reason ${res.reason}, after ${(res.elapsedMs / 1000).toFixed(1)}s)`);
console.error(`[vm] last lines of the guest console (full log: ${res.outDir}/console.log):\n${tail}`);
process.exit(res.reason === 'timeout' || res.reason === 'stalled' ? 124 : 125);
