// Cross-compiles the workspace's native addons for another Linux arch, two at a time, through
// scripts/build-native.mjs --arch <arch> (build/linux-<arch>/<addon>.node in each package; up-to-date outputs are
// skipped there). One path for both users: the release's prebuilds (scripts/pack.mjs) and the arm64 VM guests
// (scripts/vm/images.mjs, which bind build/linux-arm64 over build/Release in the guest).
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every workspace package, with its addon's name when it has one (the last word of its build:native script). */
export function workspacePackages(repo = root) {
  return readdirSync(join(repo, 'packages')).map((d) => {
    const json = JSON.parse(readFileSync(join(repo, 'packages', d, 'package.json'), 'utf8'));
    return { dir: join(repo, 'packages', d), json, addon: json.scripts?.['build:native']?.split(' ').at(-1) };
  });
}

/** Builds the addons of `packages` (default: all of `repo`'s) for `arch`; rejects naming the first that failed. */
export async function crossBuildAddons(arch, { repo = root, packages = workspacePackages(repo) } = {}) {
  const jobs = packages.filter((p) => p.addon);
  const run = promisify(execFile);
  const worker = async () => {
    for (let p = jobs.shift(); p; p = jobs.shift())
      await run(process.execPath, [join(repo, 'scripts', 'build-native.mjs'), p.addon, '--arch', arch], {
        cwd: p.dir,
      }).catch((e) => {
        throw new Error(`${p.json.name} (${arch}): ${e.stderr || e.message}`);
      });
  };
  await Promise.all([worker(), worker()]);
}
