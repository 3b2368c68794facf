// The measured side of the gntdev-dmabuf benchmark, run in a PVH domU (EXP_FROM_REFS needs an auto-translated
// domain) started by bench/run.mjs. dom0 grants a 1080p frame and sends its refs over xenstore; this side runs
// dmabuf-bench.mjs (zcopy) and build/dmabuf_bench (the same sequences in C) on the same refs, in alternating
// rounds, then counts both sides' syscalls per operation (strace -f -c in count mode, with the strace run.mjs
// copied into build/strace: the domU's ramdisk has none); prints one line "@@bench <JSON>".
//   node domu-bench.mjs <seconds per case> <rounds> <operations per strace count>
import { existsSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listDrmNodes } from '@zcopy/drm-prime';
import { waitJson, writeJson, XenStore } from '@zcopy/xenstore';
import * as bench from '../../../scripts/bench/harness.mjs';
import { guestType } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const [seconds, rounds, count] = process.argv.slice(2).map(Number);
const xs = XenStore.open();
const domid = Number(await xs.read('domid'));
const base = `/local/domain/${domid}/data/zcopy-bench`;
await writeJson(xs, `${base}/ready`, { domid, guestType: guestType() });
const { frontend, refs } = await waitJson(xs, `${base}/frame`, { timeoutMs: 300_000 });
xs.close();

// The card node: the copy path's dumb buffer is not render-allowed.
const node = listDrmNodes().find((n) => n.driver?.name === 'vgem' && n.type === 'primary');
if (!node) throw new Error('no vgem node in the domU');
const refsFile = '/tmp/dmabuf-bench-refs.txt';
writeFileSync(refsFile, `${refs.join('\n')}\n`);

// strace and the libraries it needs beyond node's (run.mjs copies them from dom0, which sees the host's).
const straceDir = join(here, 'build', 'strace');
if (existsSync(join(straceDir, 'strace'))) {
  process.env.PATH = `${straceDir}:${process.env.PATH ?? '/usr/bin:/bin'}`;
  process.env.LD_LIBRARY_PATH = straceDir;
}

// Progress on stderr (the domU console): where a run stopped, if it does.
const progress = (msg) => process.stderr.write(`bench: ${msg}\n`);
const cSide = [join(here, 'build', 'dmabuf_bench'), [node.path, frontend, refsFile, seconds]];
const zSide = [process.execPath, [join(here, 'dmabuf-bench.mjs'), node.path, frontend, refsFile, seconds]];
const run = ([file, args]) => bench.jsonLines(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
const split = (lines) => ({
  ops: Object.fromEntries(bench.opsPerSecond(lines.filter((l) => l.case))),
  cpu: Object.fromEntries(bench.cpuPerOp(lines.filter((l) => l.case))),
  check: lines.find((l) => l.check)?.check,
});
const out = await bench.alternate(rounds, {
  zcopy: (round) => {
    progress(`round ${round}: zcopy`);
    return split(run(zSide));
  },
  c: (round) => {
    progress(`round ${round}: C`);
    return split(run(cSide));
  },
});
progress(`syscalls per operation (strace -f -c, ${count} operations minus 0)`);
const names = Object.keys(out.zcopy[0].ops);
const syscalls = bench.syscallsOfCases(names, { zcopy: zSide, c: cSide, n: count });
// The C side's zero-copy with its release wait on a thread, as zcopy's (dmabuf_bench.c): C's syscalls for it.
const THREAD = 'zero-copy [wait on a thread]';
if (bench.haveStrace())
  syscalls[THREAD] = {
    zcopy: syscalls['zero-copy']?.zcopy,
    c: bench.syscallsPerCase(THREAD, cSide[0], cSide[1], { n: count }),
  };

console.log(
  `@@bench ${JSON.stringify({
    domid,
    guestType: guestType(),
    vgem: node.path,
    pages: refs.length,
    rounds,
    kernel: release(),
    strace: bench.haveStrace(),
    zcopy: out.zcopy,
    c: out.c,
    syscalls,
  })}`,
);
