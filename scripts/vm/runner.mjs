// Runs one command inside a fresh QEMU/TCG guest (bare kernel, or Xen + dom0) and reports how it ended.
// The guest sees the host root read-only (overlay, writable in the guest) and outDir writable at its host
// path; images/init runs outDir/job.sh and writes outDir/exit-code. Only that file says the job ran.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ConsoleParser } from './console.mjs';
import { ensureImages, repoRoot } from './images.mjs';
import { jobScript } from './job-script.mjs';
import { bareArgs, qemuBinary, xenArgs } from './qemu-args.mjs';
import { acquireSlot } from './slots.mjs';
import { diagnoseStall } from './stall.mjs';

const live = new Set(); // QEMU children still running: killed if this process exits first

process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/**
 * @param {object} o
 * @param {'bare'|'xen'} [o.mode]
 * @param {'x64'|'arm64'} [o.arch]  the guest's arch (default x64; arm64 is emulated: images/README.md)
 * @param {string|string[]} o.command  a shell command line, or an argv (quoted for the guest's /bin/sh)
 * @param {string} [o.cwd]       guest working directory (a host path; default process.cwd())
 * @param {Record<string,string>} [o.env]  extra environment for the job
 * @param {number} [o.timeoutMs] hard limit for the whole VM run, boot included
 * @param {number} [o.silenceMs] a guest whose console says nothing for this long is stalled: looked into
 *   (scripts/vm/stall.mjs), killed and run once more from the start (default $ZCOPY_VM_SILENCE_S or 300 s)
 * @param {number} [o.bootSilenceMs] the same before the job starts (default $ZCOPY_VM_BOOT_SILENCE_S or 60 s):
 *   every image boots to its job in 2-6 s under TCG (images/README.md), so a boot that has said nothing for a
 *   minute is frozen, and waiting for timeoutMs would only lose the time the retry needs
 * @param {string} [o.outDir]    host dir shared writable at the same path (default: a fresh temp dir)
 * @param {boolean} [o.quiet]    false: copy the guest console to our stderr as it comes
 * @param {string[]} [o.qemuArgs] extra QEMU arguments
 * @param {number} [o.bootRetries] boots to retry when the guest dies before the job starts (default 1)
 * @param {number} [o.stallRetries] runs to repeat when the guest stalls (default 1)
 * @param {(line: string, phase: 'boot'|'job'|'shutdown') => void} [o.onLine] every console line
 * @param {(msg: string) => void} [o.progress] boot-stage messages (default: none)
 * @returns {Promise<{ok: boolean, exitCode: number|null,
 *   reason: 'exit'|'kernel-bug'|'panic'|'timeout'|'stalled'|'qemu-died'|'no-result',
 *   stallReport?: string,  the last stall's report (a file in outDir)
 *   consoleLog: string, kernelBugs: string, jobOutput: string, elapsedMs: number, bootMs: number|null, outDir: string}>}
 */
export async function runInVm(options) {
  // A guest that died before the job started (a TCG boot oops, seen ~1 in 30 boots) proves nothing about the
  // job: boot it once more. A failure after the job started is the result, with one exception: a guest that
  // went silent (a whole-guest freeze under TCG, images/README.md) is looked into, and the run starts over.
  // Every retry is announced in the result's console log (a zcopy-retry: line), so a suite's summary counts it.
  const bootRetries = options.bootRetries ?? 1;
  const stallRetries = options.stallRetries ?? 1;
  const progress = options.progress ?? (() => {});
  const mode = options.mode ?? 'bare';
  const what = options.arch === 'arm64' ? `arm64 ${mode}` : mode;
  const before = [];
  let boots = 0;
  let stalls = 0;
  for (;;) {
    const r = await runOnce({ ...options, attempt: boots + stalls });
    let why;
    if (r.reason === 'stalled' && stalls < stallRetries) {
      stalls++;
      why = `${what} guest went silent for ${Math.round(r.silentMs / 1000)}s ${r.bootMs === null ? 'while booting' : 'during the job'} (stalled; what it was doing: ${r.stallReport}); the run starts over`;
    } else if (
      !r.ok &&
      r.bootMs === null &&
      r.reason !== 'exit' &&
      r.reason !== 'timeout' &&
      r.reason !== 'stalled' &&
      boots < bootRetries
    ) {
      boots++;
      why = `${what} guest boot failed (${r.reason}) before the job started; booted again`;
    }
    if (!why) {
      if (before.length) r.consoleLog = `${before.join('\n')}\n${r.consoleLog}`;
      return r;
    }
    before.push(r.consoleLog, `zcopy-retry: ${why}`);
    progress(`zcopy-retry: ${why}`);
    if (!options.quiet && !options.progress) process.stderr.write(`[vm] zcopy-retry: ${why}\n`);
  }
}

async function runOnce({
  mode = 'bare',
  arch = 'x64',
  command,
  cwd = process.cwd(),
  env = {},
  timeoutMs = 600000,
  outDir,
  quiet = true,
  qemuArgs = [],
  onLine,
  progress = () => {},
  silenceMs = Number(process.env.ZCOPY_VM_SILENCE_S ?? 300) * 1000,
  bootSilenceMs = Number(process.env.ZCOPY_VM_BOOT_SILENCE_S ?? 60) * 1000,
  nudgeMs = Number(process.env.ZCOPY_VM_NUDGE_S ?? 15) * 1000,
  attempt = 0,
}) {
  if (mode !== 'bare' && mode !== 'xen') throw new Error(`unknown VM mode ${mode}`);
  if (arch !== 'x64' && arch !== 'arm64') throw new Error(`unknown VM arch ${arch} (x64 or arm64)`);
  if (command == null || command.length === 0) throw new Error('runInVm: command is required');
  outDir = resolve(outDir ?? (await mkdtemp(join(tmpdir(), 'zcopy-vm-'))));
  if (/\s/.test(outDir))
    throw new Error(`outDir must not contain whitespace (it goes on the kernel command line): ${outDir}`);

  const what = arch === 'arm64' ? `arm64 ${mode}` : mode;
  progress(`preparing ${what} images`);
  const images = await ensureImages(mode, arch);
  const setup = [];
  if (arch === 'arm64') {
    setup.push(join(repoRoot, 'scripts', 'vm', 'arm64-up.sh'));
    env = { ZCOPY_ARM64_REPO: repoRoot, ...env };
  }
  if (mode === 'xen') setup.push(join(repoRoot, 'scripts', 'vm', 'xen-dom0-up.sh'));
  // What dom0 jobs need to start domUs (scripts/vm/xen-domu.sh).
  if (mode === 'xen') env = { ZCOPY_KERNEL: images.kernel, ZCOPY_DOMU_BASE: images.domuBase, ...env };
  env = { ZCOPY_VM_MODE: mode, ZCOPY_VM_ARCH: arch, ...env };
  await mkdir(outDir, { recursive: true }); // --out may name a directory that does not exist yet
  await rm(join(outDir, 'exit-code'), { force: true });
  await rm(join(outDir, 'kernel-bugs'), { force: true });
  await rm(join(outDir, 'heartbeat'), { force: true });
  await writeFile(join(outDir, 'job.sh'), jobScript({ command, cwd: resolve(cwd), env, setup }), {
    mode: 0o755,
  });

  const qemu = qemuBinary(arch);
  const args =
    mode === 'xen'
      ? xenArgs({ ...images, arch, outDir, extra: qemuArgs })
      : bareArgs({ ...images, arch, outDir, extra: qemuArgs });
  await writeFile(
    join(outDir, 'qemu.cmdline'),
    [qemu, ...args].map((a) => JSON.stringify(a)).join(' ') + '\n',
  );

  const release = await acquireSlot(progress);
  // QMP on a short private path (a unix socket path has ~100 bytes; outDir can be longer): only stall.mjs uses it.
  const qmpDir = await mkdtemp(join(tmpdir(), 'zcopy-qmp-'));
  const qmpPath = join(qmpDir, 'qmp.sock');
  try {
    return await boot({
      mode,
      arch,
      what,
      qemu,
      args: [...args, '-qmp', `unix:${qmpPath},server=on,wait=off`],
      qmpPath,
      systemMap: join(dirname(images.kernel), 'System.map'),
      outDir,
      timeoutMs,
      silenceMs,
      bootSilenceMs: Math.min(bootSilenceMs, silenceMs),
      // Only x86 Xen loses its timer interrupt (images/README.md, "Xen's timer interrupt lost"); 0 turns it off.
      nudgeMs: mode === 'xen' && arch === 'x64' && nudgeMs > 0 ? Math.min(nudgeMs, silenceMs / 2) : 0,
      attempt,
      quiet,
      onLine,
      progress,
    });
  } finally {
    release();
    await rm(qmpDir, { recursive: true, force: true });
  }
}

async function boot({
  mode,
  arch,
  what,
  qemu,
  args,
  qmpPath,
  systemMap,
  outDir,
  timeoutMs,
  silenceMs,
  bootSilenceMs,
  nudgeMs,
  attempt,
  quiet,
  onLine,
  progress,
}) {
  progress(`booting ${what} guest`);
  const t0 = Date.now();
  const parser = new ConsoleParser();
  let bootMs = null;
  let lastOutput = t0;
  let silentMs = 0;
  let stallReport;
  let nudges = 0;
  let lastNudge = 0;
  const run = await new Promise((done) => {
    let timedOut = false;
    let stalled = false;
    let settled = false;
    // stdin is the serial console's input: kept open (and silent) so a stall's SysRq / Xen keys can be typed.
    const child = spawn(qemu, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => {}); // QEMU gone: nothing more to type
    live.add(child);
    const stderr = [];
    const feed = (chunk) => {
      // Xen's answer to a nudge is not the guest speaking: it must not hide a silence.
      if (!(Date.now() - lastNudge < 5000 && isNudgeEcho(chunk))) lastOutput = Date.now();
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
    // Silence: the guest's console said nothing for silenceMs (vitest alone redraws every second), or for
    // bootSilenceMs before the job started (a quiet kernel prints nothing while it boots; the time counts from
    // QEMU's start). Look inside (QEMU's view, then the guest kernel's if it still answers), keep the report,
    // then end the guest.
    const limit = () => (bootMs === null ? bootSilenceMs : silenceMs);
    const watchdog = setInterval(
      async () => {
        // The nudge: under QEMU's nested SVM, x86 Xen now and then loses its timer interrupt, and then no timer
        // of Xen's or dom0's fires until some other interrupt comes (seen: minutes, ended by the stall report's
        // keys). Three Ctrl-A switch Xen's serial input to Xen and three switch it back: an interrupt Xen takes
        // itself, nothing reaches dom0, two lines on the console. Sent after nudgeMs of silence once the job
        // runs, then every nudgeMs while it lasts; counted, and said in the progress.
        if (
          nudgeMs > 0 &&
          !stalled &&
          !settled &&
          bootMs !== null &&
          Date.now() - lastOutput >= nudgeMs &&
          Date.now() - lastNudge >= nudgeMs
        ) {
          lastNudge = Date.now();
          nudges++;
          if (child.stdin.writable) child.stdin.write('\x01\x01\x01\x01\x01\x01');
          progress(
            `zcopy-nudge: the guest has been silent for ${Math.round((Date.now() - lastOutput) / 1000)}s: nudged Xen's serial line (${nudges})`,
          );
        }
        if (stalled || settled || Date.now() - lastOutput < limit()) return;
        stalled = true;
        silentMs = Date.now() - lastOutput;
        const limitText =
          bootMs === null ? `boot limit ${bootSilenceMs / 1000}s` : `limit ${silenceMs / 1000}s`;
        const lastLine = parser.text.trimEnd().split('\n').at(-1) ?? '';
        progress(
          `the guest has been silent for ${Math.round(silentMs / 1000)}s${bootMs === null ? ' while booting' : ''}: looking inside it, then ending it`,
        );
        const text = await diagnoseStall({
          qmpPath,
          stdin: child.stdin,
          mode,
          arch,
          systemMap,
          consoleText: () => parser.text,
          heartbeat: join(outDir, 'heartbeat'),
        });
        stallReport = join(outDir, `stall-${attempt + 1}.txt`);
        await writeFile(
          stallReport,
          `silent for ${Math.round(silentMs / 1000)}s (${limitText}), ${((Date.now() - t0) / 1000).toFixed(0)}s into the run; ` +
            `last console line: ${JSON.stringify(lastLine)}\n${text}`,
        ).catch(() => {});
        child.kill('SIGKILL');
      },
      Math.min(5000, bootSilenceMs / 4, silenceMs / 4, nudgeMs > 0 ? nudgeMs / 3 : 5000),
    );
    watchdog.unref();
    child.stdout.on('data', feed);
    child.stderr.on('data', (d) => stderr.push(d));
    const finish = (code, signal, error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(watchdog);
      live.delete(child);
      for (const { line, phase } of parser.flush()) onLine?.(line, phase);
      done({ code, signal, error, timedOut, stalled, stderr: Buffer.concat(stderr).toString() });
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
  // BUG reports the guest kernel logged during the job (images/init copies them from dmesg): a kernel that
  // reported one is corrupted, so the run fails whatever the job's own verdict.
  const bugsFile = join(outDir, 'kernel-bugs');
  const kernelBugs = existsSync(bugsFile) ? (await readFile(bugsFile, 'utf8')).trim() : '';
  // Only the exit-code file proves the job ran to its end; everything else is a failure of some kind.
  let reason;
  if (exitCode !== null && kernelBugs) reason = 'kernel-bug';
  else if (exitCode !== null) reason = 'exit';
  else if (parser.panicked) reason = 'panic';
  else if (run.stalled && !run.timedOut) reason = 'stalled';
  else if (run.timedOut) reason = 'timeout';
  else if (run.error || run.signal || run.code !== 0) reason = 'qemu-died';
  else reason = 'no-result';

  let consoleLog = parser.text;
  if (run.error) consoleLog += `\n[qemu could not start: ${run.error.message}]\n`;
  if (run.stderr.trim()) consoleLog += `\n[qemu stderr]\n${run.stderr}`;
  await writeFile(join(outDir, 'console.log'), consoleLog).catch(() => {});
  // A stalled run's console is kept apart: the run that follows writes console.log again.
  if (reason === 'stalled')
    await copyFile(join(outDir, 'console.log'), join(outDir, `console-stall-${attempt + 1}.log`)).catch(
      () => {},
    );
  progress(
    reason === 'exit'
      ? `job exited ${exitCode} after ${(elapsedMs / 1000).toFixed(1)}s`
      : reason === 'kernel-bug'
        ? `VM run failed: the guest kernel reported a BUG (job exited ${exitCode}): ${kernelBugs.split('\n')[0]}`
        : reason === 'stalled'
          ? `VM run failed: the guest went silent for ${Math.round(silentMs / 1000)}s (report: ${stallReport})`
          : `VM run failed: ${reason}`,
  );
  return {
    ok: reason === 'exit' && exitCode === 0,
    exitCode,
    reason,
    consoleLog,
    kernelBugs,
    jobOutput: parser.jobOutput,
    elapsedMs,
    bootMs,
    silentMs,
    stallReport,
    nudges,
    outDir,
  };
}

// What Xen prints when its serial input switches (the nudge's two lines), with the line ends dropped.
const NUDGE_ECHO = ['Xen', 'DOM0']
  .map((to) => `(XEN) *** Serial input to ${to} (type 'CTRL-a' three times to switch input)`)
  .join('');

/** A chunk of console output that is (part of) Xen's answer to a nudge and nothing else. */
export function isNudgeEcho(chunk) {
  const text = chunk.toString('latin1').replace(/[\r\n]/g, '');
  // (A line end alone: the end of one of those lines, come on its own.)
  return chunk.length > 0 && (NUDGE_ECHO + NUDGE_ECHO).includes(text);
}
