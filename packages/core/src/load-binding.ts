// Finds and loads a package's native addon.
// Order: ZCOPY_BINDING_<NAME> (a .node file), ZCOPY_BINDING_DIR/<name>.node, the prebuilt binary shipped in the
// package (prebuilds/<platform>-<arch>/), then the local build (build/Release/). N-API binaries are
// ABI-stable across Node versions, so one prebuild per platform and arch serves every Node >= 20.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/** Load `<name>.node` for the package rooted at `packageDir`. */
export function loadBinding<T>(packageDir: string, name: string): T {
  const envName = `ZCOPY_BINDING_${name.replace(/^zcopy_/, '').toUpperCase()}`;
  const candidates: string[] = [];
  const explicit = process.env[envName];
  if (explicit) candidates.push(explicit);
  if (process.env.ZCOPY_BINDING_DIR) candidates.push(join(process.env.ZCOPY_BINDING_DIR, `${name}.node`));
  candidates.push(join(packageDir, 'prebuilds', `${process.platform}-${process.arch}`, `${name}.node`));
  candidates.push(join(packageDir, 'build', 'Release', `${name}.node`));

  const failures: string[] = [];
  for (const file of candidates) {
    if (!existsSync(file)) {
      failures.push(`  ${file}: not found`);
      if (file === explicit) break; // an explicit override that is missing is an error, not a fallback
      continue;
    }
    try {
      return require(file) as T;
    } catch (e) {
      failures.push(`  ${file}: ${(e as Error).message.split('\n')[0]}`);
      if (file === explicit) break;
    }
  }
  throw new Error(
    `zcopy: cannot load the native addon '${name}' for ${process.platform}-${process.arch}. Looked for:\n` +
      `${failures.join('\n')}\n` +
      `Fix: install a release that ships prebuilds for this platform, or build it from the repository with ` +
      `'pnpm build' (needs g++ and Node's headers), or set ${envName} to a built ${name}.node.`,
  );
}
