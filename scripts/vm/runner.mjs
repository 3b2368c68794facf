// Runs one command inside a fresh QEMU/TCG guest (bare kernel, or Xen + dom0) and reports how it ended.
// The guest sees the host root read-only (overlay, writable in the guest) and outDir writable at its host
// path; images/init runs outDir/job.sh and writes outDir/exit-code. Only that file says the job ran.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConsoleParser } from './console.mjs';
import { ensureImages, repoRoot } from './images.mjs';
import { jobScript } from './job-script.mjs';
import { bareArgs, xenArgs } from './qemu-args.mjs';
import { acquireSlot } from './slots.mjs';

const QEMU = process.env.ZCOPY_QEMU ?? 'qemu-system-x86_64';
const live = new Set(); // QEMU children still running: killed if this process exits first

process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/**
 * @param {object} o
 * @param {'bare'|'xen'} [o.mode]
 * @param {string|string[]} o.command  a shell command line, or an argv (quoted for the guest's /bin/sh)
 * @param {string} [o.cwd]       guest working directory (a host path; default process.cwd())
 * @param {Record<string,string>} [o.env]  extra environment for the job
 * @param {number} [o.timeoutMs] hard limit for the whole VM run, boot included
 * @param {string} [o.outDir]    host dir shared writable at the same path (default: a fresh temp dir)
 * @param {boolean} [o.quiet]    false: copy the guest console to our stderr as it comes
 * @param {string[]} [o.qemuArgs] extra QEMU arguments
 * @param {number} [o.bootRetries] boots to retry when the guest dies before the job starts (default 1)
 * @param {(line: string, phase: 'boot'|'job'|'shutdown') => void} [o.onLine] every console line
 * @param {(msg: string) => void} [o.progress] boot-stage messages (default: none)
 * @returns {Promise<{ok: boolean, exitCode: number|null, reason: 'exit'|'panic'|'timeout'|'qemu-died'|'no-result',
 *   consoleLog: string, jobOutput: string, elapsedMs: number, bootMs: number|null, outDir: string}>}
 */
export async function runInVm(options) {
  // A guest that died before the job started (a TCG boot oops, seen ~1 in 30 boots) proves nothing about the
  // job: boot it once more. A failure after the job started is always the result.
  const retries = options.bootRetries ?? 1;
  const progress = options.progress ?? (() => {});
  const mode = options.mode ?? 'bare';
  let first;
  for (let attempt = 0; ; attempt++) {
    const r = await runOnce(options);
    if (r.ok || r.bootMs !== null || r.reason === 'exit' || r.reason === 'timeout' || attempt >= retries) {
      // The retry is announced in the result's console log too, so a suite's summary counts it.
      if (first)
        r.consoleLog = `${first.consoleLog}\nzcopy-retry: ${mode} guest boot failed (${first.reason}) before the job started; booted again\n${r.consoleLog}`;
      return r;
    }
    first = r;
    progress(`zcopy-retry: ${mode} guest failed to boot (${r.reason}) before the job started; retrying once`);
    if (!options.quiet)
      process.stderr.write(`[vm] zcopy-retry: ${mode} guest failed to boot (${r.reason}); retrying once\n`);
  }
}

async function runOnce({
  mode = 'bare',
  command,
  cwd = process.cwd(),
  env = {},
  timeoutMs = 600000,
  outDir,
  quiet = true,
  qemuArgs = [],
  onLine,
  progress = () => {},
}) {
  if (mode !== 'bare' && mode !== 'xen') throw new Error(`unknown VM mode ${mode}`);
  if (command == null || command.length === 0) throw new Error('runInVm: command is required');
  outDir = resolve(outDir ?? (await mkdtemp(join(tmpdir(), 'zcopy-vm-'))));
  if (/\s/.test(outDir))
    throw new Error(`outDir must not contain whitespace (it goes on the kernel command line): ${outDir}`);

  progress(`preparing ${mode} images`);
  const images = await ensureImages(mode);
  const setup = mode === 'xen' ? join(repoRoot, 'scripts', 'vm', 'xen-dom0-up.sh') : null;
  // What dom0 jobs need to start domUs (scripts/vm/xen-domu.sh).
  if (mode === 'xen') env = { ZCOPY_KERNEL: images.kernel, ZCOPY_DOMU_BASE: images.domuBase, ...env };
  env = { ZCOPY_VM_MODE: mode, ...env };
  await rm(join(outDir, 'exit-code'), { force: true });
  await writeFile(join(outDir, 'job.sh'), jobScript({ command, cwd: resolve(cwd), env, setup }), {
    mode: 0o755,
  });

  const args =
    mode === 'xen'
      ? xenArgs({ ...images, outDir, extra: qemuArgs })
      : bareArgs({ ...images, outDir, extra: qemuArgs });
  await writeFile(
    join(outDir, 'qemu.cmdline'),
    [QEMU, ...args].map((a) => JSON.stringify(a)).join(' ') + '\n',
  );

  const release = await acquireSlot(progress);
  try {
    return await boot({ mode, args, outDir, timeoutMs, quiet, onLine, progress });
  } finally {
    release();
  }
}

async function boot({ mode, args, outDir, timeoutMs, quiet, onLine, progress }) {
  progress(`booting ${mode} guest`);
  const t0 = Date.now();
  const parser = new ConsoleParser();
  let bootMs = null;
  const run = await new Promise((done) => {
    let timedOut = false;
    let settled = false;
    const child = spawn(QEMU, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    const stderr = [];
    const feed = (chunk) => {
      for (const { line, phase } of parser.push(chunk)) {
        if (parser.phase !== 'boot' && bootMs === null) {
          bootMs = Date.now() - t0; // QEMU start to the job's start marker
          progress(`guest running the job (booted in ${(bootMs / 1000).toFixed(1)}s)`);
        }
        if (!quiet) process.stderr.write(`${line}\n`);
        onLine?.(line, phase);
      }
    };
    // No early kill on a panic line: the guest reboots by itself (panic=-1, oops=panic; Xen reboots when dom0
    // dies) and -no-reboot ends QEMU. Panic text a job prints (a domU's console) must not end the run.
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', feed);
    child.stderr.on('data', (d) => stderr.push(d));
    const finish = (code, signal, error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      live.delete(child);
      for (const { line, phase } of parser.flush()) onLine?.(line, phase);
      done({ code, signal, error, timedOut, stderr: Buffer.concat(stderr).toString() });
    };
    child.on('error', (e) => finish(null, null, e));
    child.on('close', (code, signal) => finish(code, signal, null));
  });
  const elapsedMs = Date.now() - t0;

  let exitCode = null;
  const codeFile = join(outDir, 'exit-code');
  if (existsSync(codeFile)) {
    const text = (await readFile(codeFile, 'utf8')).trim();
    if (/^\d+$/.test(text)) exitCode = Number(text);
  }
  // Only the exit-code file proves the job ran to its end; everything else is a failure of some kind.
  let reason;
  if (exitCode !== null) reason = 'exit';
  else if (parser.panicked) reason = 'panic';
  else if (run.timedOut) reason = 'timeout';
  else if (run.error || run.signal || run.code !== 0) reason = 'qemu-died';
  else reason = 'no-result';

  let consoleLog = parser.text;
  if (run.error) consoleLog += `\n[qemu could not start: ${run.error.message}]\n`;
  if (run.stderr.trim()) consoleLog += `\n[qemu stderr]\n${run.stderr}`;
  await writeFile(join(outDir, 'console.log'), consoleLog).catch(() => {});
  progress(
    reason === 'exit'
      ? `job exited ${exitCode} after ${(elapsedMs / 1000).toFixed(1)}s`
      : `VM run failed: ${reason}`,
  );
  return {
    ok: reason === 'exit' && exitCode === 0,
    exitCode,
    reason,
    consoleLog,
    jobOutput: parser.jobOutput,
    elapsedMs,
    bootMs,
    outDir,
  };
}
