#!/usr/bin/env node
// Builds a package's native addon: every native/*.cc of the package in the current directory,
// with node-addon-api, Node's headers (uv.h) and @zcopy/core's C++ headers, into build/Release/<name>.node.
// Usage (from a package's build:native script): node ../../scripts/build-native.mjs <addon-name>
// A plain g++ call instead of node-gyp: no download of Node headers, no Python, and one flag set for every package.
// It also writes build/compile_commands.json (the same flags, one entry per source) for editors: clangd finds it
// from the package's native/ sources.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const name = process.argv[2];
if (!name) {
  console.error('usage: build-native.mjs <addon-name>');
  process.exit(2);
}
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

const sources = readdirSync(join(pkgDir, 'native'))
  .filter((f) => f.endsWith('.cc'))
  .map((f) => join('native', f));
const out = join(pkgDir, 'build', 'Release', `${name}.node`);
mkdirSync(dirname(out), { recursive: true });

const cxx = process.env.CXX || 'g++';
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
const args = [...flags, '-shared', ...sources, '-o', out];

// The compilation database: each source compiled alone with the same flags.
writeFileSync(
  join(pkgDir, 'build', 'compile_commands.json'),
  `${JSON.stringify(
    sources.map((src) => ({
      directory: pkgDir,
      file: join(pkgDir, src),
      arguments: [cxx, ...flags, '-c', src, '-o', join('build', `${src.replace(/^native\//, '')}.o`)],
    })),
    null,
    2,
  )}\n`,
);

// Skip when the output is newer than every input (turbo caches across clones; this covers repeated local runs).
const inputs = [
  ...sources,
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

try {
  execFileSync(cxx, args, { cwd: pkgDir, stdio: 'inherit' });
} catch {
  console.error(`native build of ${name} failed (${cxx} ${args.join(' ')})`);
  process.exit(1);
}
