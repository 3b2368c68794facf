// Shared by the grant-table VM tests: addon paths for child processes, sysfs limits, small waits.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GNTALLOC_LIMIT_PATH, GNTDEV_LIMIT_PATH } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
export const coreAddon = join(here, '..', '..', 'core', 'build', 'Release', 'zcopy_core.node');
export const grantAddon = join(here, '..', 'build', 'Release', 'zcopy_grant_table.node');
export const fixture = (name: string): string => join(here, 'fixtures', name);

/** Runs `fn` with a module parameter set to `value`, restoring it after. */
export async function withLimit<T>(
  which: 'gntalloc' | 'gntdev',
  value: number,
  fn: () => T | Promise<T>,
): Promise<T> {
  const path = which === 'gntalloc' ? GNTALLOC_LIMIT_PATH : GNTDEV_LIMIT_PATH;
  const old = readFileSync(path, 'utf8').trim();
  writeFileSync(path, String(value));
  try {
    return await fn();
  } finally {
    writeFileSync(path, old);
  }
}

/** Mappings of this process backed by a device file under /dev/xen. */
export function xenMappingCount(): number {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((l) => l.includes('/dev/xen/')).length;
}

/** Runs a fixture under node; resolves with its stdout, exit code and signal. */
export function runChild(
  script: string,
  args: string[],
): Promise<{ stdout: string; code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture(script), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ stdout, code, signal }));
  });
}
