// Booting a domU with some workspace packages: which directories go in is worked out from the packages'
// dependencies (@zcopy/xen/domu's packageClosure), never listed by hand; the guest runs their built dist/, so a
// package whose src/ is newer than its dist/ stops the boot with "run pnpm build".
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type BootOptions, bootDomU, type DomU, type DomUType, packageClosure } from '@zcopy/xen/domu';

const run = promisify(execFile);

/** Throws unless every package with a src/ has a dist/ newer than each of its sources. */
export function checkBuilt(dirs: readonly string[]): void {
  for (const dir of dirs) {
    if (!existsSync(join(dir, 'src'))) continue;
    const dist = join(dir, 'dist', 'index.js');
    if (!existsSync(dist))
      throw new Error(`${dist} is missing: run \`pnpm build\` before the two-domain tests`);
    const built = statSync(dist).mtimeMs;
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (statSync(p).mtimeMs > built)
          throw new Error(`${p} is newer than ${dist}: run \`pnpm build\` before the two-domain tests`);
      }
    };
    walk(join(dir, 'src'));
  }
}

export interface PackagesBootOptions<T> extends Omit<BootOptions<T>, 'include' | 'command'> {
  type: DomUType;
  /** Package directories (or names resolved from the first directory): they and their dependencies go in. */
  packages: readonly string[];
  /** The script the guest's node runs, and its arguments. */
  script: string;
  args?: readonly string[];
}

/**
 * Boots a domU that runs `node script args…` with the packages (and their dependencies) copied in; PVH boots
 * default to three attempts (a PVH boot under TCG sometimes crashes: images/README.md), each retry reported.
 */
export async function bootWithPackages<T = undefined>(
  o: PackagesBootOptions<T>,
): Promise<{ domu: DomU; domid: number; ready: T }> {
  const include = packageClosure(o.packages, o.packages[0]);
  checkBuilt(include);
  return bootDomU<T>({
    ...o,
    include,
    command: [process.execPath, o.script, ...(o.args ?? [])],
    attempts: o.attempts ?? (o.type === 'pvh' ? 3 : 1),
    note: o.note ?? ((line) => console.warn(line)),
  });
}

/** Whether a domain of that name exists (an xl exec). */
export function domainAlive(name: string): Promise<boolean> {
  return run('xl', ['domid', name]).then(
    () => true,
    () => false,
  );
}

/** Domain ids xl lists (a dying domain still mapped by someone stays listed until released). */
export async function listedDomids(): Promise<number[]> {
  const { stdout } = await run('xl', ['list']);
  return stdout
    .split('\n')
    .slice(1)
    .map((l) => Number(l.trim().split(/\s+/)[1]))
    .filter((n) => Number.isInteger(n));
}

/** The domain's memory as Xen counts it (xl list's Mem column, MiB). */
export async function domainMemMiB(domid: number): Promise<number> {
  const { stdout } = await run('xl', ['list', String(domid)]);
  const cols = stdout.trim().split('\n').pop()!.trim().split(/\s+/);
  return Number(cols[2]);
}

/** What Xen's own log says of guests that died (e.g. "d2v0 Triple fault": the TCG crash in images/README.md). */
export async function xenDeathLines(): Promise<string> {
  return run('xl', ['dmesg']).then(
    (r) =>
      r.stdout
        .split('\n')
        .filter((l) => /Triple fault|crash|Dumping Dom|RIP:/.test(l))
        .slice(-6)
        .join('\n'),
    () => '',
  );
}
