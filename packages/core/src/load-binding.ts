// Finds and loads a package's native addon.
// Order: ZCOPY_BINDING_<NAME> (a .node file), ZCOPY_BINDING_DIR/<name>.node, then node-gyp-build's search of the
// package: the local build (build/Release/, in a clone of the repository), then the prebuilt binary shipped in the
// package, in prebuildify's layout: prebuilds/linux-x64/@zcopy+<pkg>.glibc.node, prebuilds/linux-arm64/... .
// N-API binaries are ABI-stable across Node versions, so one prebuild per platform, arch and libc serves every
// Node >= 20. They are built for glibc >= 2.28 (the floor of Node 20 itself); musl (Alpine) is not supported.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/** node-gyp-build (CommonJS): `resolve(dir)` returns the path of the addon it would load, or throws. */
interface NodeGypBuild {
  (dir: string): unknown;
  resolve(dir: string): string;
}

/** The platforms the published packages ship binaries for, and the oldest glibc they load on. */
export const PREBUILT_PLATFORMS = ['linux-x64', 'linux-arm64'] as const;
export const GLIBC_NEEDED = '2.28';

/** This process's C library: glibc and its version, or musl (Alpine) / unknown. */
export function detectLibc(): { family: 'glibc' | 'musl' | 'unknown'; version?: string } {
  if (process.platform !== 'linux') return { family: 'unknown' };
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
    ?.header;
  if (header?.glibcVersionRuntime) return { family: 'glibc', version: header.glibcVersionRuntime };
  try {
    if (existsSync('/etc/alpine-release') || readdirSync('/lib').some((f) => f.startsWith('ld-musl-')))
      return { family: 'musl' };
  } catch {}
  return { family: 'unknown' };
}

function versionBelow(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0;
  }
  return false;
}

/** What the package holds under prebuilds/, for the error: "linux-x64/@zcopy+core.glibc.node, ...". */
function shippedPrebuilds(packageDir: string): string {
  const dir = join(packageDir, 'prebuilds');
  try {
    const found = readdirSync(dir).flatMap((tuple) => {
      try {
        return readdirSync(join(dir, tuple)).map((f) => `${tuple}/${f}`);
      } catch {
        return [];
      }
    });
    return found.length ? found.join(', ') : 'none';
  } catch {
    return 'none (no prebuilds/ directory)';
  }
}

/** Load `<name>.node` for the package rooted at `packageDir`. */
export function loadBinding<T>(packageDir: string, name: string): T {
  const envName = `ZCOPY_BINDING_${name.replace(/^zcopy_/, '').toUpperCase()}`;
  const failures: string[] = [];
  const tryLoad = (file: string): { ok: true; value: T } | { ok: false } => {
    if (!existsSync(file)) {
      failures.push(`  ${file}: not found`);
      return { ok: false };
    }
    try {
      return { ok: true, value: require(file) as T };
    } catch (e) {
      failures.push(`  ${file}: ${(e as Error).message.split('\n')[0]}`);
      return { ok: false };
    }
  };

  const explicit = process.env[envName];
  const dir = process.env.ZCOPY_BINDING_DIR;
  if (explicit) {
    // An explicit override that is missing or broken is an error, never a fallback.
    const r = tryLoad(explicit);
    if (r.ok) return r.value;
  } else {
    if (dir) {
      const r = tryLoad(join(dir, `${name}.node`));
      if (r.ok) return r.value;
    }
    let file: string | undefined;
    try {
      file = (require('node-gyp-build') as NodeGypBuild).resolve(packageDir);
    } catch (e) {
      failures.push(
        `  ${join(packageDir, 'build', 'Release')}/*.node: not found`,
        `  ${join(packageDir, 'prebuilds', `${process.platform}-${process.arch}`)}/*.glibc.node: not found ` +
          `(node-gyp-build: ${(e as Error).message.split('\n')[0]}); the package ships: ${shippedPrebuilds(packageDir)}`,
      );
    }
    if (file) {
      const r = tryLoad(file);
      if (r.ok) return r.value;
    }
  }

  const libc = detectLibc();
  const platform = `${process.platform}-${process.arch}`;
  const found =
    libc.family === 'glibc' ? `glibc ${libc.version}` : libc.family === 'musl' ? 'musl' : 'unknown libc';
  const notes: string[] = [];
  if (!(PREBUILT_PLATFORMS as readonly string[]).includes(platform))
    notes.push(`zcopy ships binaries for ${PREBUILT_PLATFORMS.join(' and ')} only, not ${platform}.`);
  if (libc.family === 'musl')
    notes.push('musl libc (Alpine) is not supported: the binaries are built for glibc.');
  else if (libc.family === 'glibc' && libc.version && versionBelow(libc.version, GLIBC_NEEDED))
    notes.push(`glibc ${libc.version} is too old: the binaries need glibc >= ${GLIBC_NEEDED}.`);
  throw new Error(
    `zcopy: cannot load the native addon '${name}' for ${platform} (${found}; needed: glibc >= ${GLIBC_NEEDED} ` +
      `on ${PREBUILT_PLATFORMS.join(' or ')}). Looked for:\n` +
      `${failures.join('\n')}\n` +
      (notes.length ? `${notes.join(' ')}\n` : '') +
      `Fix: install a release that ships prebuilds for this platform, or build it from the repository with ` +
      `'pnpm build' (needs g++ and Node's headers), or set ${envName} to a built ${name}.node.`,
  );
}
