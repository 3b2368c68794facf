#!/usr/bin/env node
// Builds a package's native addon: every native/*.cc of the package in the current directory,
// with node-addon-api, Node's headers (uv.h) and @zcopy/core's C++ headers, into build/Release/<name>.node.
// Usage (from a package's build:native script): node ../../scripts/build-native.mjs <addon-name> [--arch arm64]
// A plain g++ call instead of node-gyp: no download of Node headers, no Python, and one flag set for every package.
// It also writes build/compile_commands.json (the same flags, one entry per source) for editors: clangd finds it
// from the package's native/ sources.
// --arch <x64|arm64>: build for that Linux arch; another arch than this machine's is cross-compiled with
// Debian's <triple>-g++ (g++-aarch64-linux-gnu) into build/linux-<arch>/<name>.node (the release's prebuilds,
// scripts/prebuild.mjs). N-API and libuv headers are the same for every arch, so this machine's Node headers serve.
// Every addon links core's native/compat/glibc_compat.cc and these flags, so that one build runs on glibc >= 2.28
// with GCC 8's libstdc++ or newer (checked per binary by the packaging suite, test/packaging).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const name = process.argv[2];
const archAt = process.argv.indexOf('--arch');
const arch = archAt > 0 ? process.argv[archAt + 1] : process.arch;
const TRIPLES = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };
if (!name || !TRIPLES[arch]) {
  console.error('usage: build-native.mjs <addon-name> [--arch x64|arm64]');
  process.exit(2);
}
const cross = arch !== process.arch;
const pkgDir = process.cwd();
const require = createRequire(join(root, 'package.json'));

function nodeIncludeDir() {
  const candidates = [
    process.env.ZCOPY_NODE_INCLUDE,
    join(dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  for (const dir of candidates)
    if (existsSync(join(dir, 'uv.h')) && existsSync(join(dir, 'node_api.h'))) return dir;
  throw new Error(
    `Node.js headers (node_api.h, uv.h) not found in: ${candidates.join(', ')}.\n` +
      'Install them (Debian: apt-get install libnode-dev, or use a Node.js build that ships include/node) ' +
      'or point ZCOPY_NODE_INCLUDE at the directory.',
  );
}

const compat = join(root, 'packages/core/native/compat/glibc_compat.cc');
const sources = [
  ...readdirSync(join(pkgDir, 'native'))
    .filter((f) => f.endsWith('.cc'))
    .map((f) => join('native', f)),
  compat,
];
const out = cross
  ? join(pkgDir, 'build', `linux-${arch}`, `${name}.node`)
  : join(pkgDir, 'build', 'Release', `${name}.node`);
mkdirSync(dirname(out), { recursive: true });

const cxx = cross ? process.env[`CXX_${arch}`] || `${TRIPLES[arch]}-g++` : process.env.CXX || 'g++';
const flags = [
  '-std=c++20',
  '-O2',
  '-g1',
  '-fPIC',
  '-fvisibility=hidden',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-Wno-missing-field-initializers',
  '-DNAPI_VERSION=8',
  '-DNAPI_CPP_EXCEPTIONS',
  '-DNODE_ADDON_API_DISABLE_DEPRECATED',
  `-I${nodeIncludeDir()}`,
  `-I${require('node-addon-api').include_dir.replace(/^"|"$/g, '')}`,
  `-I${join(root, 'packages/core/native/include')}`,
  `-I${join(pkgDir, 'native')}`,
  ...(process.env.CXXFLAGS ? process.env.CXXFLAGS.split(/\s+/).filter(Boolean) : []),
];
// std::__throw_bad_array_new_length is GLIBCXX_3.4.29 (GCC 11): GCC 12's allocator calls land in glibc_compat.cc.
const ldflags = ['-shared', '-Wl,--wrap=_ZSt28__throw_bad_array_new_lengthv', '-Wl,-z,relro,-z,now'];

// The compilation database: each source compiled alone with the same flags (this machine's build only).
if (!cross)
  writeFileSync(
    join(pkgDir, 'build', 'compile_commands.json'),
    `${JSON.stringify(
      sources.map((src) => ({
        directory: pkgDir,
        file: resolve(pkgDir, src),
        arguments: [cxx, ...flags, '-c', src, '-o', join('build', `${basename(src)}.o`)],
      })),
      null,
      2,
    )}\n`,
  );

// Skip when the output is newer than every input (turbo caches across clones; this covers repeated local runs).
const inputs = [
  ...sources,
  fileURLToPath(import.meta.url),
  ...readdirSync(join(root, 'packages/core/native/include/zcopy')).map((f) =>
    join(root, 'packages/core/native/include/zcopy', f),
  ),
];
for (const f of readdirSync(join(pkgDir, 'native'))) if (f.endsWith('.h')) inputs.push(join('native', f));
if (existsSync(out)) {
  const built = statSync(out).mtimeMs;
  if (inputs.every((f) => statSync(resolve(pkgDir, f)).mtimeMs < built) && !process.env.ZCOPY_REBUILD) {
    process.exit(0);
  }
}

// ccache, where installed (setup.sh installs it), in a cache of its own: a rebuild from another clone (CI's fresh
// clone, the release's) costs seconds. Paths under the repository are hashed relative to it. ZCOPY_CCACHE=0: off.
const ccache = process.env.ZCOPY_CCACHE !== '0' && existsSync('/usr/bin/ccache');
const env = {
  ...process.env,
  CCACHE_DIR: process.env.ZCOPY_CCACHE_DIR || join(homedir(), '.cache', 'zcopy', 'ccache-addons'),
  CCACHE_BASEDIR: root,
  CCACHE_NOHASHDIR: '1',
};
// Each source compiled on its own (what ccache can cache), then one link. The objects stay out of the package
// directory (out/native-obj/): a domU's ramdisk copies whole package directories (@zcopy/xen/domu).
const objDir = join(root, 'out', 'native-obj', basename(pkgDir), arch);
mkdirSync(objDir, { recursive: true });
const objects = sources.map((src) => join(objDir, `${basename(src)}.o`));
let step = [];
try {
  sources.forEach((src, i) => {
    step = [cxx, ...flags, '-c', src, '-o', objects[i]];
    if (ccache) execFileSync('/usr/bin/ccache', step, { cwd: pkgDir, stdio: 'inherit', env });
    else execFileSync(cxx, step.slice(1), { cwd: pkgDir, stdio: 'inherit' });
  });
  step = [cxx, ...ldflags, ...objects, '-o', out];
  execFileSync(cxx, step.slice(1), { cwd: pkgDir, stdio: 'inherit' });
} catch {
  console.error(`native build of ${name} failed (${step.join(' ')})`);
  process.exit(1);
}
