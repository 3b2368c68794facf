// Booting a Linux domU from dom0 that runs one command and reports back, in TypeScript (the published CLI's
// demo and the repository's tests both use it; the repository's scripts/vm/xen-domu.sh does the same in bash).
//
// The domU boots the kernel $ZCOPY_KERNEL from a ramdisk: the prebuilt base $ZCOPY_DOMU_BASE (busybox, node and
// its libraries; images/build-domu-base.sh), padded to 512 bytes, followed by a cpio written here with the
// included directories (at the same paths), and /job.sh. The base's /init prints @@zcopy-domu-start@@, runs
// `sh /job.sh` with its output on the console, prints @@zcopy-domu-exit <status>@@ and powers off
// (on_poweroff/crash/reboot = destroy). xenconsoled logs the console (hvc0) to
// /var/log/xen/console/guest-<name>.log, which is where the markers are read. Environment, as for the script:
// ZCOPY_DOMU_EXTRA appends kernel arguments, ZCOPY_DOMU_CFG appends xl config lines, ZCOPY_DOMU_VERBOSE=1 prints
// stage timestamps (dom0 uptime) on stderr.
import { execFile } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CpioWriter } from './cpio.js';
import { DomUError } from './errors.js';

const run = promisify(execFile);

export const CONSOLE_LOG_DIR = '/var/log/xen/console';
export const STATE_DIR = '/run/zcopy-domu';
export const XL_LOG_DIR = '/var/log/xen';
export const START_MARKER = '@@zcopy-domu-start@@';
const EXIT_MARKER = /^@@zcopy-domu-exit (-?\d+)@@$/;

export type DomUType = 'pv' | 'pvh';

/**
 * The domU type a launch gets when it names none: 'pv' on x86; 'pvh' on arm64, where Xen has one kind of guest
 * (xl calls it pvh; Linux's sysfs says "HVM") and no PV at all. `arch` defaults to this process's.
 */
export function defaultDomUType(arch: string = process.arch): DomUType {
  return arch === 'arm64' ? 'pvh' : 'pv';
}

/** TypeError for a type this arch's Xen does not run: anything but 'pv'/'pvh', and 'pv' on arm64. */
export function checkDomUType(type: unknown, arch: string = process.arch): asserts type is DomUType {
  if (type !== 'pv' && type !== 'pvh') throw new TypeError("type must be 'pv' or 'pvh'");
  if (type === 'pv' && arch === 'arm64')
    throw new TypeError(
      "type 'pv' does not exist on arm64: every Xen guest there is 'pvh' (defaultDomUType())",
    );
}

export interface DomUOptions {
  /** 'pv' or 'pvh'; default defaultDomUType(): 'pv' on x86, 'pvh' on arm64 (which has no PV guests). */
  type?: DomUType;
  /** Memory in MiB (default 512). */
  memMiB?: number;
  vcpus?: number;
  /** The domain name (default zdomu-<pid>-<random>). */
  name?: string;
  /** Directories copied into the guest at the same path (symlinks in them kept, the paths themselves resolved). */
  include?: readonly string[];
  /** The command's working directory in the guest (default /). */
  cwd?: string;
  env?: Readonly<Record<string, string>>;
  /** The command and its arguments, run by the guest's sh. */
  command: readonly string[];
  /** More xl config lines, e.g. `vdispl = [ 'backend=0,be-alloc=0,connectors=id0:1024x768' ]` (after ZCOPY_DOMU_CFG's). */
  xlConfig?: readonly string[];
}

/** A domU's exit status and what its command printed (stdout and stderr, from the console). */
export interface DomUResult {
  status: number;
  output: string;
}

/** Xen's shutdown reason codes (xen/include/public/sched.h SHUTDOWN_*), as xl logs them. */
const SHUTDOWN_REASONS = ['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset'] as const;

/**
 * How a domain ended, by xl's own account: the daemonized `xl create` that watches each domain logs to
 * /var/log/xen/xl-<name>.log "Domain N has shut down, reason code R" (then carries out on_poweroff/on_reboot/
 * on_crash), or "Domain N has been destroyed." when `xl destroy` ended it. Our guests end by powering off; a
 * `reboot` or `crash` is a death (a PVH triple fault under TCG shows as `reboot`: Xen's default action for a
 * triple fault). Undefined while the domain runs or when xl left no log; `atMs` is when xl last wrote the log.
 */
export function domainEnd(
  name: string,
): { reason: (typeof SHUTDOWN_REASONS)[number] | 'destroyed' | 'unknown'; atMs: number } | undefined {
  const file = join(XL_LOG_DIR, `xl-${name}.log`);
  let text: string;
  let atMs: number;
  try {
    text = readFileSync(file, 'utf8');
    atMs = statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
  const shut = /has shut down, reason code (\d+)/.exec(text);
  if (shut) return { reason: SHUTDOWN_REASONS[Number(shut[1])] ?? 'unknown', atMs };
  if (/has been destroyed/.test(text)) return { reason: 'destroyed', atMs };
  return undefined;
}

/** Whether that end is a death (anything but powering off or being destroyed by someone). */
export function isDeath(end: ReturnType<typeof domainEnd>): boolean {
  return end !== undefined && end.reason !== 'poweroff' && end.reason !== 'destroyed';
}

/** " (xl: shut down by Xen, reason reboot)" for messages, or ''. */
function endNote(name: string): string {
  const end = domainEnd(name);
  if (!end) return '';
  if (end.reason === 'destroyed') return ' (xl: destroyed)';
  return ` (xl: it shut down, reason ${end.reason}${end.reason === 'reboot' ? ': a triple fault, or the guest rebooted' : ''})`;
}

/** The domain went away before it reported an exit status (it crashed, or was destroyed). */
export class DomainGoneError extends Error {
  override name = 'DomainGoneError';
  readonly code = 'ERR_ZCOPY_DOMAIN_GONE';
}

function stage(msg: string): void {
  if (!process.env.ZCOPY_DOMU_VERBOSE) return;
  let up = '?';
  try {
    up = readFileSync('/proc/uptime', 'utf8').split(' ')[0]!;
  } catch {}
  process.stderr.write(`xen-domu: ${up}s ${msg}\n`);
}

/** Single-quoted for sh. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

function env(name: 'ZCOPY_KERNEL' | 'ZCOPY_DOMU_BASE'): string {
  const v = process.env[name];
  if (!v)
    throw new DomUError(
      'ERR_ZCOPY_DOMU_ENV',
      `${name} unset: run this in dom0 of a zcopy xen-mode VM job (it names the guest kernel and the domU base ramdisk)`,
    );
  return v;
}

/** The job the base's /init runs: exports, cd, exec. */
export function jobScript(o: Pick<DomUOptions, 'env' | 'cwd' | 'command'>): string {
  const lines = ['#!/bin/sh'];
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      throw new TypeError(`env name ${JSON.stringify(k)} is not a shell name`);
    lines.push(`export ${k}=${shellQuote(v)}`);
  }
  lines.push(`cd ${shellQuote(o.cwd ?? '/')} || exit 126`);
  lines.push(`exec ${o.command.map(shellQuote).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** The xl config, as scripts/vm/xen-domu.sh writes it. */
export function xlConfig(o: {
  name: string;
  type: DomUType;
  kernel: string;
  ramdisk: string;
  memMiB: number;
  vcpus: number;
  extra?: readonly string[];
}): string {
  const extra = process.env.ZCOPY_DOMU_EXTRA ? ` ${process.env.ZCOPY_DOMU_EXTRA}` : '';
  return [
    `name = "${o.name}"`,
    `type = "${o.type}"`,
    `kernel = "${o.kernel}"`,
    `ramdisk = "${o.ramdisk}"`,
    `extra = "console=hvc0 quiet panic=-1 rdinit=/init initramfs_async=0${extra}"`,
    `memory = ${o.memMiB}`,
    `vcpus = ${o.vcpus}`,
    'on_poweroff = "destroy"',
    'on_reboot = "destroy"',
    'on_crash = "destroy"',
    process.env.ZCOPY_DOMU_CFG ?? '',
    ...(o.extra ?? []),
    '',
  ].join('\n');
}

/** Parses a console log: the output between the markers, and the exit status once it is there. */
export function parseConsole(text: string): { started: boolean; status: number | undefined; output: string } {
  let started = false;
  let status: number | undefined;
  let output = '';
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === START_MARKER) started = true;
    else if (status === undefined && EXIT_MARKER.test(line)) status = Number(EXIT_MARKER.exec(line)![1]);
    else if (started && status === undefined) output += `${line}\n`;
  }
  return { started, status, output };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A started domU. */
export class DomU {
  readonly name: string;
  readonly type: DomUType;
  readonly #work: string;
  #domid: number | undefined;

  /** @internal */
  constructor(name: string, type: DomUType, work: string) {
    this.name = name;
    this.type = type;
    this.#work = work;
  }

  /** Where xenconsoled logs the console. */
  get consoleLog(): string {
    return join(CONSOLE_LOG_DIR, `guest-${this.name}.log`);
  }

  /** The domain id (`xl domid`); DomainGoneError when it is gone. */
  async domid(): Promise<number> {
    if (this.#domid !== undefined) return this.#domid;
    try {
      this.#domid = Number((await run('xl', ['domid', this.name])).stdout.trim());
    } catch {
      throw new DomainGoneError(`domain ${this.name} went away right after xl create${endNote(this.name)}`);
    }
    return this.#domid;
  }

  /** Whether the domain still exists (one `xl domid`: an exec, so costly in a PV dom0 under TCG). */
  async alive(): Promise<boolean> {
    return run('xl', ['domid', this.name]).then(
      () => true,
      () => false,
    );
  }

  /** How the domain ended by xl's account (domainEnd), or undefined while it runs. */
  end(): ReturnType<typeof domainEnd> {
    return domainEnd(this.name);
  }

  /** The console so far ('' before xenconsoled wrote any). */
  console(): string {
    try {
      return readFileSync(this.consoleLog, 'utf8');
    } catch {
      return '';
    }
  }

  /**
   * Declares that this domain's kernel is expected to log BUG reports, and why (a test that drives a known
   * defect of a stock driver on purpose). The Xen suite fails a run on any domU kernel BUG (scripts/vm/
   * xen-suite.mjs) except in a domain declared here: its reports are listed as expected, with the reason.
   */
  expectKernelBugs(reason: string): void {
    if (!reason.trim()) throw new TypeError('expectKernelBugs: give the reason');
    writeFileSync(`${this.consoleLog}.expected-bugs`, `${reason.trim()}\n`);
  }

  /** The console's last `lines` lines. */
  consoleTail(lines = 40): string {
    return this.console().split('\n').slice(-lines).join('\n');
  }

  /**
   * Rejects with DomainGoneError once the domain no longer exists (checked every `everyMs`, 3 s by default:
   * each check is an exec); never settles if `signal` aborts first.
   */
  async whenGone(signal: AbortSignal, everyMs = 3000): Promise<never> {
    for (;;) {
      await sleep(everyMs);
      if (signal.aborted) return new Promise<never>(() => {});
      if (!(await this.alive()) && !signal.aborted)
        throw new DomainGoneError(`domain ${this.name} went away before it was ready${endNote(this.name)}`);
    }
  }

  /**
   * Waits for the exit marker on the console, then for the domain to go (up to 10 s, then xl destroy);
   * resolves with the status and output. Rejects (after xl destroy) on timeout, and with DomainGoneError when
   * the domain ended without reporting; both messages end with the console's last lines.
   */
  async wait(options: { timeoutMs?: number } = {}): Promise<DomUResult> {
    const timeoutMs = options.timeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    let lastCheck = Date.now();
    for (;;) {
      const c = parseConsole(this.console());
      if (c.status !== undefined) {
        stage(`${this.name} reported exit status ${c.status}`);
        for (let i = 0; (await this.alive()) && i < 20; i++) {
          if (i === 19) await this.destroy();
          else await sleep(500);
        }
        if (process.env.ZCOPY_DOMU_VERBOSE) process.stderr.write(this.console());
        rmSync(this.#work, { recursive: true, force: true });
        return { status: c.status, output: c.output };
      }
      if (Date.now() >= deadline) {
        await this.destroy();
        throw new DomUError(
          'ERR_ZCOPY_DOMU_TIMEOUT',
          `domU ${this.name} timed out after ${timeoutMs / 1000}s without reporting an exit status; its console:\n${this.consoleTail()}`,
        );
      }
      // Less often: that it still exists (xl is a costly exec here).
      if (Date.now() - lastCheck >= 3000) {
        lastCheck = Date.now();
        if (!(await this.alive()) && parseConsole(this.console()).status === undefined)
          throw new DomainGoneError(
            `domU ${this.name} ended without reporting an exit status${endNote(this.name)}; its console:\n${this.consoleTail()}`,
          );
      }
      await sleep(300);
    }
  }

  /** xl destroy: the domain dies at once, whatever it holds. Never throws (it may be gone already). */
  async destroy(): Promise<void> {
    await run('xl', ['destroy', this.name]).catch(() => {});
    rmSync(this.#work, { recursive: true, force: true });
  }
}

/** Writes the ramdisk and config, and runs `xl create`. The domain is booting when this resolves. */
export async function startDomU(options: DomUOptions): Promise<DomU> {
  const type = options.type ?? defaultDomUType();
  checkDomUType(type);
  if (!Array.isArray(options.command) || options.command.length === 0)
    throw new TypeError('command must be a non-empty array');
  const extra = options.xlConfig ?? [];
  if (!Array.isArray(extra) || extra.some((l) => typeof l !== 'string' || l.includes('\n')))
    throw new TypeError('xlConfig must be an array of single-line strings');
  const name = options.name ?? `zdomu-${process.pid}-${Math.floor(Math.random() * 32768)}`;
  if (!/^[A-Za-z0-9_.-]+$/.test(name))
    throw new TypeError(`name ${JSON.stringify(name)}: letters, digits, _ . - only`);
  const kernel = env('ZCOPY_KERNEL');
  const base = env('ZCOPY_DOMU_BASE');
  const job = jobScript(options);

  stage(`building the ramdisk for ${name} (${type})`);
  const work = join(STATE_DIR, name);
  mkdirSync(work, { recursive: true });
  const ramdisk = join(work, 'ramdisk.cpio');
  // The base first (the kernel unpacks concatenated archives; the base is padded to 512 bytes for this).
  copyFileSync(base, ramdisk);
  const fd = openSync(ramdisk, 'a');
  try {
    const cpio = new CpioWriter(fd, statSync(ramdisk).size);
    for (const dir of options.include ?? []) cpio.tree(realpathSync(dir));
    cpio.file('job.sh', Buffer.from(job), 0o644);
    cpio.end();
  } finally {
    closeSync(fd);
  }
  const cfg = join(work, 'domu.cfg');
  writeFileSync(
    cfg,
    xlConfig({
      name,
      type,
      kernel,
      ramdisk,
      memMiB: options.memMiB ?? 512,
      vcpus: options.vcpus ?? 1,
      extra,
    }),
  );
  stage('xl create');
  const log = join(CONSOLE_LOG_DIR, `guest-${name}.log`);
  if (existsSync(log)) rmSync(log, { force: true });
  try {
    await run('xl', ['create', cfg]);
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string };
    throw new DomUError(
      'ERR_ZCOPY_DOMU_CREATE',
      `xl create failed for ${name} (${cfg}):\n${err.stderr ?? ''}${err.stdout ?? ''}`,
    );
  } finally {
    // Built or not, the ramdisk is no longer needed (Xen holds the kernel and ramdisk in the guest's memory).
    // Dropped now, whoever ends the domain later: each holds the ~95 MB base, and dom0's /run is a tmpfs of half
    // its memory, which a few destroyed domUs fill (ENOSPC for the next ramdisk, and for xenstored).
    rmSync(ramdisk, { force: true });
  }
  stage('created');
  return new DomU(name, type, work);
}

export interface BootOptions<T> extends DomUOptions {
  /**
   * Resolves once the guest is up (its agent said so); gets `gone`, which aborts when the boot is given up.
   * Default: the domain exists.
   */
  ready?: (domu: DomU, gone: AbortSignal) => Promise<T>;
  /** Boots to try (default 1): a domain that dies, or a ready() that times out, is destroyed and booted again. */
  attempts?: number;
  /** Told of every retry, with the console's last lines. */
  note?: (line: string) => void;
}

function isTimeout(e: unknown): boolean {
  return e instanceof Error && (e.name === 'TimeoutError' || (e as { code?: string }).code === 'ETIMEDOUT');
}

/**
 * Boots a domU and waits until `ready` says it is up. A boot whose domain dies meanwhile (noticed within ~3 s
 * with `xl domid`) or whose ready() times out is destroyed and tried again, up to `attempts` boots, each retry
 * told to `note`; with several attempts, boot N is named <name>-N.
 */
export async function bootDomU<T = undefined>(
  options: BootOptions<T>,
): Promise<{ domu: DomU; domid: number; ready: T }> {
  const attempts = options.attempts ?? 1;
  if (!Number.isInteger(attempts) || attempts < 1)
    throw new RangeError('attempts must be a positive integer');
  const baseName = options.name ?? `zdomu-${process.pid}-${Math.floor(Math.random() * 32768)}`;
  for (let attempt = 1; ; attempt++) {
    const name = attempts > 1 ? `${baseName}-${attempt}` : baseName;
    const domu = await startDomU({ ...options, name });
    const gone = new AbortController();
    try {
      // Inside the retry: a guest that crashes at once is gone before its domid is read.
      const domid = await domu.domid();
      const watching = domu.whenGone(gone.signal);
      watching.catch(() => {}); // the loser of the race rejects unobserved once `gone` aborts
      const readying = options.ready ? options.ready(domu, gone.signal) : Promise.resolve(undefined as T);
      readying.catch(() => {});
      const ready = await Promise.race([readying, watching]);
      return { domu, domid, ready };
    } catch (e) {
      const tail = domu.consoleTail(25);
      await domu.destroy();
      if (!(isTimeout(e) || e instanceof DomainGoneError) || attempt >= attempts)
        throw new DomUError(
          'ERR_ZCOPY_DOMU_NOT_READY',
          `domU ${name} (${domu.type}) never became ready: ${String(e)}\n--- its console ---\n${tail}`,
          { cause: e },
        );
      // 'zcopy-retry:' is how every retried boot announces itself (the test summary counts and lists them).
      options.note?.(
        `zcopy-retry: domU ${name} (${domu.type}) did not come up (${String(e).split('\n')[0]}); booting it again. ` +
          `Its console ended:\n${tail.split('\n').slice(-5).join('\n')}`,
      );
    } finally {
      gone.abort();
    }
  }
}
