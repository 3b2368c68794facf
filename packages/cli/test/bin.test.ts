// Host: the built executable, as `pnpm doctor` and a user's PATH run it (needs `node scripts/turbo.mjs run build`).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { assertReportSchema } from './schema.js';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  bin: Record<string, string>;
};

describe('dist/bin.js', () => {
  it('is built, executable, with a node shebang, and is the package’s `zcopy` bin', () => {
    expect(existsSync(bin), `${bin} is missing: run node scripts/turbo.mjs run build`).toBe(true);
    expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(() => accessSync(bin, constants.X_OK)).not.toThrow();
    expect(pkg.bin).toEqual({ zcopy: './dist/bin.js' });
  });

  it('runs by itself (shebang): `zcopy doctor --json` prints a valid report and exits 0', () => {
    const r = spawnSync(bin, ['doctor', '--json'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    assertReportSchema(JSON.parse(r.stdout));
  });

  it('`node dist/bin.js doctor` prints the table; a bad option exits 2', () => {
    const ok = spawnSync(process.execPath, [bin, 'doctor'], { encoding: 'utf8', timeout: 30_000 });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/\d+ of \d+ interfaces available\.\n$/);
    const bad = spawnSync(process.execPath, [bin, 'doctor', '--nope'], { encoding: 'utf8', timeout: 30_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("unknown option '--nope'");
  });
});
