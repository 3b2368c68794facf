// The loader (load-binding.ts) as a published package meets it: prebuilds in prebuildify's layout found through
// node-gyp-build, no build/ directory; and when nothing fits, an error that says what was looked for, what the
// package ships and which libc was found vs needed. (Packing, installing and loading the real tarballs, x64 and
// arm64: the packaging suite, test/packaging.)
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const pkgDir = new URL('..', import.meta.url).pathname;
const loader = join(pkgDir, 'dist', 'load-binding.js');
const built = join(pkgDir, 'build', 'Release', 'zcopy_core.node');
const work = mkdtempSync(join(tmpdir(), 'zcopy-loader-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function node(code: string, env: Record<string, string> = {}): { stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', code], {
      cwd: work,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { stdout, stderr: '' };
  } catch (e) {
    return {
      stdout: String((e as { stdout: string }).stdout),
      stderr: String((e as { stderr: string }).stderr),
    };
  }
}

/** A package directory holding only package.json and the given prebuilds (arch -> file to copy). */
function fakePackage(name: string, prebuilds: Record<string, string>): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@zcopy/core', version: '0.0.0' }));
  for (const [tuple, file] of Object.entries(prebuilds)) {
    mkdirSync(join(dir, 'prebuilds', tuple), { recursive: true });
    copyFileSync(file, join(dir, 'prebuilds', tuple, '@zcopy+core.glibc.node'));
  }
  return dir;
}

const load = (dir: string) =>
  `const { loadBinding } = await import(${JSON.stringify(loader)});
   const b = loadBinding(${JSON.stringify(dir)}, 'zcopy_core'); console.log(typeof b.open);`;

describe('loadBinding', () => {
  it("finds prebuilds/<platform>-<arch>/@zcopy+core.glibc.node (prebuildify's layout) without a build/", () => {
    const dir = fakePackage('ok', { [`${process.platform}-${process.arch}`]: built });
    const { stdout, stderr } = node(load(dir));
    expect(stderr).toBe('');
    expect(stdout.trim()).toBe('function');
  });

  it('no prebuild for this platform: names what it looked for, what ships, and the libc found vs needed', () => {
    const other = process.arch === 'x64' ? 'arm64' : 'x64';
    const dir = fakePackage('other-arch', { [`linux-${other}`]: built });
    const { stderr } = node(load(dir));
    expect(stderr).toContain("cannot load the native addon 'zcopy_core'");
    expect(stderr).toContain(`prebuilds/${process.platform}-${process.arch}/*.glibc.node: not found`);
    expect(stderr).toContain(`the package ships: linux-${other}/@zcopy+core.glibc.node`);
    const glibc = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header
      .glibcVersionRuntime;
    expect(stderr).toContain(`(glibc ${glibc}; needed: glibc >= 2.28 on linux-x64 or linux-arm64)`);
  });

  it('a binary that does not load (wrong ELF) is reported with the dynamic loader’s reason', () => {
    const junk = join(work, 'junk.node');
    writeFileSync(junk, 'not an ELF file');
    const dir = fakePackage('broken', { [`${process.platform}-${process.arch}`]: junk });
    const { stderr } = node(load(dir));
    expect(stderr).toContain(`prebuilds/${process.platform}-${process.arch}/@zcopy+core.glibc.node: `);
    expect(stderr).toMatch(/invalid ELF header|file too short/);
  });

  it('a missing override names what was looked for and how to fix it', () => {
    const { stderr } = node(`await import(${JSON.stringify(join(pkgDir, 'dist', 'index.js'))});`, {
      ZCOPY_BINDING_CORE: '/nonexistent/zcopy_core.node',
    });
    expect(stderr).toContain("cannot load the native addon 'zcopy_core'");
    expect(stderr).toContain('/nonexistent/zcopy_core.node: not found');
    expect(stderr).toContain('ZCOPY_BINDING_CORE');
  });
});

describe('one core per process', () => {
  // stdout and stderr of a script that exits 0 (warnings go to stderr).
  const run = (code: string) => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      cwd: work,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    return { stdout: r.stdout, stderr: r.stderr };
  };
  it('a second copy of core loaded in the same process is named in a warning (ZCOPY_CORE_TWICE), once', () => {
    // A real second copy (its own dist and addon), as a package manager that did not dedupe would leave it.
    const copy = join(work, 'second-core');
    cpSync(join(pkgDir, 'dist'), join(copy, 'dist'), { recursive: true });
    mkdirSync(join(copy, 'build', 'Release'), { recursive: true });
    copyFileSync(built, join(copy, 'build', 'Release', 'zcopy_core.node'));
    copyFileSync(join(pkgDir, 'package.json'), join(copy, 'package.json'));
    // Its own node_modules as an install gives it (the loader finds the addon through node-gyp-build).
    const gypBuild = dirname(
      createRequire(join(pkgDir, 'package.json')).resolve('node-gyp-build/package.json'),
    );
    cpSync(gypBuild, join(copy, 'node_modules', 'node-gyp-build'), { recursive: true });
    const { stdout, stderr } = run(
      `const a = await import(${JSON.stringify(join(pkgDir, 'dist', 'index.js'))});
       const b = await import(${JSON.stringify(join(copy, 'dist', 'index.js'))});
       const e = a.EventFd.create(); console.log(e instanceof b.FdObject, e instanceof a.FdObject); e.close();`,
    );
    expect(stdout.trim()).toBe('false true');
    expect(stderr.match(/ZCOPY_CORE_TWICE/g)).toHaveLength(1);
    expect(stderr).toContain(`from ${pkgDir.replace(/\/$/, '')} and from ${copy}`);
  });

  it('one copy imported twice (the same path) says nothing', () => {
    const { stdout, stderr } = run(
      `await import(${JSON.stringify(join(pkgDir, 'dist', 'index.js'))});
       await import(${JSON.stringify(join(pkgDir, 'dist', 'native.js'))}); console.log('ok');`,
    );
    expect(stdout.trim()).toBe('ok');
    expect(stderr).toBe('');
  });
});
