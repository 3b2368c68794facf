#!/usr/bin/env node
// Builds every published package for every shipped platform and packs it: the tarballs a release publishes.
//   node scripts/pack.mjs --out <dir> [--build all|cross|none] [--arches x64,arm64]
// 1. build: turbo's build (TS + this machine's addons; skipped with --build cross|none), then each addon
//    cross-compiled for the other arch (scripts/cross-addons.mjs: build-native.mjs --arch arm64, Debian's
//    g++-aarch64-linux-gnu, through ccache), two at a time (skipped with --build none);
// 2. pack: `pnpm pack` in each package that is not private (workspace:^ ranges become ^<version>, publishConfig's
//    exports replace the repo's, prepack = scripts/prebuild.mjs lays out and strips the prebuilds);
// 3. writes <out>/manifest.json: [{ name, version, dir, tarball, addon }].
// For a clean build, run it in a fresh clone (the packaging suite and scripts/release.mjs do).
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { crossBuildAddons, workspacePackages } from './cross-addons.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const out = resolve(opt('--out', join(root, 'out', 'pack')));
const arches = opt('--arches', 'x64,arm64').split(',');
const log = (m) => console.error(`[pack] ${m}`);

const packages = workspacePackages(root).filter((p) => !p.json.private);

// publishConfig.exports is what the tarball's manifest gets: the repo's exports without the `source` condition
// (src/ is not shipped). A subpath added to one and not the other is a package that breaks once installed.
for (const p of packages) {
  const want = JSON.stringify(p.json.exports, (k, v) => (k === 'source' ? undefined : v));
  const got = JSON.stringify(p.json.publishConfig?.exports);
  if (want !== got)
    throw new Error(
      `${p.json.name}: publishConfig.exports must be its exports without the "source" condition\n  exports: ${want}\n  publishConfig.exports: ${got}`,
    );
}

const build = opt('--build', 'all');
if (!['all', 'cross', 'none'].includes(build)) throw new Error(`--build all|cross|none, not ${build}`);
if (build === 'all') {
  const t = Date.now();
  execFileSync(
    process.execPath,
    [join(root, 'scripts', 'turbo.mjs'), 'run', 'build', '--output-logs=errors-only'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  log(`built TS and ${process.arch} addons in ${((Date.now() - t) / 1000).toFixed(0)} s`);
}
if (build !== 'none') {
  const cross = arches.filter((a) => a !== process.arch);
  for (const arch of cross) {
    const t = Date.now();
    await crossBuildAddons(arch, { packages });
    log(`cross-built the ${arch} addons in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  }
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const manifest = [];
// Two at a time; each pnpm pack runs its package's prepack (scripts/prebuild.mjs) in its own directory.
const queue = [...packages];
const packOne = async (p) => {
  const r = await promisify(execFile)('pnpm', ['pack', '--pack-destination', out, '--json'], {
    cwd: p.dir,
    env: { ...process.env, ZCOPY_PREBUILD_ARCHES: arches.join(',') },
  }).catch((e) => {
    console.error(`${e.stdout ?? ''}${e.stderr ?? ''}`);
    throw new Error(`pnpm pack failed for ${p.json.name}`);
  });
  const tarball = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))).filename;
  if (!tarball || !existsSync(resolve(out, tarball)))
    throw new Error(`pnpm pack made no tarball for ${p.json.name}`);
  manifest.push({
    name: p.json.name,
    version: p.json.version,
    dir: p.dir,
    tarball: resolve(out, tarball),
    addon: p.addon,
  });
};
await Promise.all(
  [1, 2].map(async () => {
    for (let p = queue.shift(); p; p = queue.shift()) await packOne(p);
  }),
);
manifest.sort((a, b) => a.name.localeCompare(b.name));
writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
log(`${manifest.length} tarballs in ${out}`);
