// What both dom0 benches of this package start from (run.mjs: timings, hypercalls.mjs: hypercall counts): the C
// bench (gnttab-bench.c) compiled against libxengnttab, and a 1080p RGBA frame (2,025 pages) dom0 shares with
// itself, each page starting with its index (the sides check their grant copies by it), its refs written one per
// line for both sides to read. gntalloc's page limit is raised for the frame and put back afterwards.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as bench from '../../../scripts/bench/harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const FRAME = 2025;

/** Runs `fn({ exe, refsFile, work })` (work: a scratch directory) with the C bench built and the frame shared; cleans up after it, whatever happens. */
export async function withSharedFrame(fn) {
  bench.requireBuilt('grant-table', 'core');
  const { GrantSharer, GNTALLOC_LIMIT_PATH } = await import(join(here, '..', 'dist', 'index.js'));
  const work = mkdtempSync(join(tmpdir(), 'gnttab-bench-'));
  const exe = bench.compileC(join(here, 'gnttab-bench.c'), { libs: ['-lxengnttab'], outDir: work });
  const oldLimit = readFileSync(GNTALLOC_LIMIT_PATH, 'utf8').trim();
  writeFileSync(GNTALLOC_LIMIT_PATH, '4096');
  const sharer = GrantSharer.open();
  try {
    const shared = sharer.share(0, FRAME);
    for (let p = 0; p < FRAME; p++) shared.buffer.writeUInt32LE(p, p * 4096);
    const refsFile = join(work, 'refs.txt');
    writeFileSync(refsFile, `${Array.from(shared.refs).join('\n')}\n`);
    return await fn({ exe, refsFile, work });
  } finally {
    sharer.close();
    writeFileSync(GNTALLOC_LIMIT_PATH, oldLimit);
    rmSync(work, { recursive: true, force: true });
  }
}
