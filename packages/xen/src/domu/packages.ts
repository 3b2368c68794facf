// Which directories a domU needs to run code of some packages: each package and every package it depends on
// (dependencies, not devDependencies), found the way Node finds them from the package itself — so it works in
// the repository (pnpm's symlinks, resolved to the real directories) and in an installed node_modules alike.
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DomUError } from './errors.js';

interface Manifest {
  name?: string;
  dependencies?: Record<string, string>;
}

function manifestDir(from: string, name: string): string {
  const require = createRequire(join(from, 'package.json'));
  let entry: string;
  try {
    entry = require.resolve(`${name}/package.json`);
  } catch {
    throw new DomUError(
      'ERR_ZCOPY_DOMU_PACKAGE',
      `cannot find the package ${name} from ${from} (is it installed?)`,
    );
  }
  return realpathSync(dirname(entry));
}

/**
 * The real directories of `packages` (directories, or names resolved from `from`) and of their dependencies,
 * transitively, in a stable order.
 */
export function packageClosure(packages: readonly string[], from: string = process.cwd()): string[] {
  const seen = new Set<string>();
  const visit = (dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const m = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
    for (const dep of Object.keys(m.dependencies ?? {}).sort()) visit(manifestDir(dir, dep));
  };
  for (const p of packages)
    visit(p.startsWith('/') || p.startsWith('.') ? realpathSync(p) : manifestDir(from, p));
  return [...seen];
}
