#!/usr/bin/env node
// prepack: copy the built addon into prebuilds/<platform>-<arch>/ so the published tarball needs no compiler
// and no install script (pnpm 10 blocks those by default).
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const name = process.argv[2];
const src = join(process.cwd(), 'build', 'Release', `${name}.node`);
if (!existsSync(src)) {
  console.error(`prebuild: ${src} is missing; run the package's build:native first`);
  process.exit(1);
}
const dir = join(process.cwd(), 'prebuilds', `${process.platform}-${process.arch}`);
mkdirSync(dir, { recursive: true });
copyFileSync(src, join(dir, `${name}.node`));
