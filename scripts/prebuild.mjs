#!/usr/bin/env node
// prepack of every published package: refuses to pack a package whose dist/ is missing or older than its src/,
// and (with an addon name) lays out the prebuilt binaries the way prebuildify does, so the tarball needs no
// compiler and no install script (pnpm 10 blocks those by default) and node-gyp-build finds them:
//   prebuilds/linux-x64/@zcopy+<pkg>.glibc.node     from build/Release/<addon>.node (this machine's build)
//   prebuilds/linux-arm64/@zcopy+<pkg>.glibc.node   from build/linux-arm64/<addon>.node (build-native --arch arm64)
// prebuilds/ is emptied first (no stale binary survives), each binary is stripped, and one that is missing or
// older than its sources stops the pack. ZCOPY_PREBUILD_ARCHES=x64 packs fewer arches (local tries only; a
// release packs both: scripts/release.mjs).
//   node ../../scripts/prebuild.mjs [<addon-name>]
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkgDir = process.cwd();
const addon = process.argv[2];
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const TRIPLES = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };
const arches = (process.env.ZCOPY_PREBUILD_ARCHES || 'x64,arm64').split(',').filter(Boolean);

function fail(msg) {
  console.error(`prepack ${pkg.name}: ${msg}`);
  process.exit(1);
}

function files(dir, test) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && test(e.name))
    .map((e) => join(e.parentPath ?? e.path, e.name));
}
const mtime = (f) => statSync(f).mtimeMs;

// dist/: present, and every src/*.ts compiled after its last change.
if (!existsSync(join(pkgDir, 'dist', 'index.js'))) fail("dist/index.js is missing: run 'pnpm build' first");
for (const src of files(join(pkgDir, 'src'), (n) => n.endsWith('.ts') && !n.endsWith('.d.ts'))) {
  const out = join(pkgDir, 'dist', relative(join(pkgDir, 'src'), src).replace(/\.ts$/, '.js'));
  if (!existsSync(out))
    fail(`${relative(pkgDir, out)} is missing (from ${relative(pkgDir, src)}): run 'pnpm build'`);
  if (mtime(out) < mtime(src)) fail(`${relative(pkgDir, out)} is older than its source: run 'pnpm build'`);
}

if (addon) {
  // Every input of a native build (scripts/build-native.mjs): the package's native/, core's headers and compat.
  const inputs = [
    ...files(join(pkgDir, 'native'), (n) => /\.(cc|h)$/.test(n)),
    ...files(join(root, 'packages/core/native/include'), (n) => n.endsWith('.h')),
    join(root, 'packages/core/native/compat/glibc_compat.cc'),
    join(root, 'scripts/build-native.mjs'),
  ];
  const newest = Math.max(...inputs.map(mtime));
  const prebuilds = join(pkgDir, 'prebuilds');
  rmSync(prebuilds, { recursive: true, force: true });
  for (const arch of arches) {
    if (!TRIPLES[arch]) fail(`unknown arch '${arch}' in ZCOPY_PREBUILD_ARCHES`);
    const built =
      arch === process.arch
        ? join(pkgDir, 'build', 'Release', `${addon}.node`)
        : join(pkgDir, 'build', `linux-${arch}`, `${addon}.node`);
    const how =
      arch === process.arch
        ? "'pnpm build'"
        : `'node scripts/pack.mjs' (or build-native.mjs ${addon} --arch ${arch} in the package)`;
    if (!existsSync(built)) fail(`${relative(pkgDir, built)} is missing: run ${how}`);
    if (mtime(built) < newest) fail(`${relative(pkgDir, built)} is older than its sources: run ${how}`);
    // prebuildify's name: the package name ('/' as '+') and the libc tag; N-API builds carry no ABI tag.
    const dest = join(prebuilds, `linux-${arch}`, `${pkg.name.replace(/\//g, '+')}.glibc.node`);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(built, dest);
    const strip = arch === process.arch ? 'strip' : `${TRIPLES[arch]}-strip`;
    execFileSync(strip, ['--strip-unneeded', dest]);
  }
}
