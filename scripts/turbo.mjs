#!/usr/bin/env node
// Runs turbo with ZCOPY_TOOLCHAIN set to what a native binary depends on (Node ABI, arch, compiler),
// so turbo never restores a .node file built by another toolchain.
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const cxx = process.env.CXX || 'g++';
let compiler = 'unknown';
try {
  compiler = execFileSync(cxx, ['--version'], { encoding: 'utf8' }).split('\n')[0];
} catch {
  // no compiler: the native build will say so
}
const toolchain = `${process.platform}-${process.arch} node${process.versions.node} napi${process.versions.napi} ${compiler}`;
const turbo = createRequire(import.meta.url).resolve('turbo/bin/turbo');
const r = spawnSync(process.execPath, [turbo, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, ZCOPY_TOOLCHAIN: toolchain, TURBO_TELEMETRY_DISABLED: '1' },
});
process.exit(r.status ?? 1);
