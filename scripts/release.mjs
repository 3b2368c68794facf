#!/usr/bin/env node
// The release: version, build every platform from a clean clone, pack, check, publish. A maintainer runs it (or
// CI, with NPM_TOKEN in ~/.npmrc); the packaging suite runs its publish step as a dry run on every CI run.
//   node scripts/release.mjs [--dry-run] [--version] [--tag <dist-tag>]
//   node scripts/release.mjs --publish-only --tarballs <dir> [--dry-run]     (publish tarballs packed earlier)
// Steps:
//   1. --version: `changeset version` (the pending .changeset/*.md become versions and CHANGELOGs); commit that
//      first, the release is cut from HEAD.
//   2. a fresh clone of HEAD in a temporary directory (uncommitted changes are refused: a release is a commit),
//      `pnpm install --frozen-lockfile`, then scripts/pack.mjs: TS and the x64 addons built from nothing (turbo
//      cache empty), the arm64 addons cross-compiled, every public package packed to out/release/.
//   3. the packaging suite on exactly those tarballs (test/packaging: contents, publint, attw, glibc ceiling,
//      npm and pnpm installs, x64 and arm64-under-qemu smoke, consumer type-check).
//   4. `npm publish <tarball> --access public` for each, dependencies first (--dry-run: npm checks and prints
//      what it would publish, and nothing is sent).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const has = (f) => argv.includes(f);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const dryRun = has('--dry-run');
const log = (m) => console.error(`[release] ${m}`);
const sh = (cmd, args, cwd = root) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 2, 2] });

let tarballs = opt('--tarballs');
if (!has('--publish-only')) {
  if (has('--version')) {
    sh('pnpm', ['changeset', 'version']);
    log('versions bumped: review, commit, and run this again without --version');
    process.exit(0);
  }
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (dirty.trim() && !dryRun)
    throw new Error(`uncommitted changes; a release is cut from a commit:\n${dirty}`);
  if (dirty.trim()) log('uncommitted changes are not in the release (dry run: going on with HEAD)');
  const clone = mkdtempSync(join(tmpdir(), 'zcopy-release-'));
  try {
    sh('git', ['clone', '--quiet', '--no-hardlinks', root, clone]);
    log(
      `clean clone of ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()} in ${clone}`,
    );
    sh('pnpm', ['install', '--frozen-lockfile', '--prefer-offline', '--reporter=silent'], clone);
    tarballs = join(root, 'out', 'release');
    sh(process.execPath, [join(clone, 'scripts', 'pack.mjs'), '--build', 'all', '--out', tarballs], clone);
    log('checking the tarballs (test/packaging)');
    execFileSync(
      process.execPath,
      ['--test', '--test-reporter=spec', join(clone, 'test', 'packaging', 'packaging.test.mjs')],
      {
        cwd: clone,
        stdio: ['ignore', 2, 2],
        env: { ...process.env, ZCOPY_PACKAGING_TARBALLS: tarballs },
      },
    );
  } finally {
    rmSync(clone, { recursive: true, force: true });
  }
}
if (!tarballs) throw new Error('--publish-only needs --tarballs <dir> (a scripts/pack.mjs output)');

// Dependencies first, so that no published package points at a version not yet on the registry.
const manifest = JSON.parse(readFileSync(join(tarballs, 'manifest.json'), 'utf8'));
const packed = (p) =>
  JSON.parse(execFileSync('tar', ['-xzOf', p.tarball, 'package/package.json'], { encoding: 'utf8' }));
const deps = (p) =>
  Object.keys(packed(p).dependencies ?? {}).filter((n) => manifest.some((q) => q.name === n));
const order = [];
const visit = (p, seen = new Set()) => {
  if (order.includes(p) || seen.has(p.name)) return;
  seen.add(p.name);
  for (const n of deps(p))
    visit(
      manifest.find((q) => q.name === n),
      seen,
    );
  order.push(p);
};
for (const p of manifest) visit(p);

const tag = opt('--tag') ?? 'latest';
for (const p of order) {
  log(`${dryRun ? 'dry run: ' : ''}npm publish ${p.name}@${p.version} (${tag})`);
  sh('npm', [
    'publish',
    p.tarball,
    '--access',
    'public',
    '--tag',
    tag,
    ...(dryRun ? ['--dry-run'] : []),
    '--loglevel=warn',
  ]);
}
log(`${dryRun ? 'dry run done: would publish' : 'published'} ${order.map((p) => p.name).join(', ')}`);
