// The loader (load-binding.ts) as a published package meets it: prebuilds in prebuildify's layout found through
// node-gyp-build, no build/ directory; and when nothing fits, an error that says what was looked for, what the
// package ships and which libc was found vs needed. (Packing, installing and loading the real tarballs, x64 and
// arm64: the packaging suite, test/packaging.)
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
