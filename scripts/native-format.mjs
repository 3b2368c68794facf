#!/usr/bin/env node
// The C++ of the native addons (packages/*/native, and the C of the benches) formatted with clang-format by
// .clang-format, the way biome formats the TS: --check lists the files that differ and exits 1; --write
// rewrites them. clang-format runs as WebAssembly (@wasm-fmt/clang-format): no system package needed.
//   node scripts/native-format.mjs --check | --write
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { format } from '@wasm-fmt/clang-format';

const root = resolve(import.meta.dirname, '..');
const mode = process.argv[2];
if (mode !== '--check' && mode !== '--write') {
  console.error('usage: native-format.mjs --check | --write');
  process.exit(2);
}
const style = readFileSync(join(root, '.clang-format'), 'utf8');

function sources(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out = out.concat(sources(p));
    else if (/\.(cc|h|c)$/.test(e.name)) out.push(p);
  }
  return out;
}

const files = readdirSync(join(root, 'packages')).flatMap((p) => [
  ...sources(join(root, 'packages', p, 'native')),
  ...sources(join(root, 'packages', p, 'bench')).filter((f) => !f.includes('/build/')),
]);
const differ = [];
for (const f of files) {
  const text = readFileSync(f, 'utf8');
  const formatted = format(text, f, style);
  if (formatted === text) continue;
  differ.push(relative(root, f));
  if (mode === '--write') writeFileSync(f, formatted);
}
if (mode === '--check' && differ.length > 0) {
  console.error(
    `native-format: ${differ.length} of ${files.length} C/C++ files are not formatted (node scripts/native-format.mjs --write):\n  ${differ.join('\n  ')}`,
  );
  process.exit(1);
}
console.log(
  `native-format: ${files.length} C/C++ files${mode === '--write' ? `, ${differ.length} rewritten` : ' formatted'}`,
);
