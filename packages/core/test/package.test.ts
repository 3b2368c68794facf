// The published tarball must work without a compiler and without install scripts:
// pack it, unpack it elsewhere, and load it from there (prebuilds/, not build/).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const pkgDir = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'zcopy-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function node(code: string, env: Record<string, string> = {}): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: work,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('published package', () => {
  it('ships a prebuilt addon and no install script, and loads from the tarball', () => {
    execFileSync('pnpm', ['pack', '--pack-destination', work], { cwd: pkgDir, stdio: 'ignore' });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    execFileSync('tar', ['-xzf', join(work, tarball!), '-C', work]);
    const unpacked = join(work, 'package');
    expect(
      existsSync(join(unpacked, 'prebuilds', `${process.platform}-${process.arch}`, 'zcopy_core.node')),
    ).toBe(true);
    expect(existsSync(join(unpacked, 'build'))).toBe(false);
    expect(existsSync(join(unpacked, 'dist', 'index.js'))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8'));
    for (const s of ['install', 'preinstall', 'postinstall']) expect(manifest.scripts?.[s]).toBeUndefined();

    const out = node(
      `const c = await import(${JSON.stringify(join(unpacked, 'dist', 'index.js'))});
       const e = c.EventFd.create(5); console.log(String(e.read())); e.close();`,
    );
    expect(out.trim()).toBe('5');
  }, 60_000);

  it('a missing override names what was looked for and how to fix it', () => {
    let stderr = '';
    try {
      node(`await import(${JSON.stringify(join(pkgDir, 'dist', 'index.js'))});`, {
        ZCOPY_BINDING_CORE: '/nonexistent/zcopy_core.node',
      });
    } catch (e) {
      stderr = String((e as { stderr: string }).stderr);
    }
    expect(stderr).toContain("cannot load the native addon 'zcopy_core'");
    expect(stderr).toContain('/nonexistent/zcopy_core.node: not found');
    expect(stderr).toContain('ZCOPY_BINDING_CORE');
  });
});
