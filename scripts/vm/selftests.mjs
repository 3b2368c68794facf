#!/usr/bin/env node
// Image smoke check: the kernel's own selftests for sync_file/sw_sync, udmabuf and dma-buf heaps (built from
// the guest kernel's source by images/build-selftests.sh), run in one bare guest. Prints their pass counts
// and exits non-zero if any test failed or did not run. Proves the image before our tests blame our code.
//   node scripts/vm/selftests.mjs [--verbose] [--json FILE] [--arch x64|arm64]   (FILE gets {passed, failed, suites})
// --arch arm64: the same selftests cross-built for arm64, in an arm64 guest (default: $ZCOPY_VM_ARCH, else x64).
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imagePath } from './images.mjs';
import { runInVm } from './runner.mjs';

const verbose = process.argv.includes('--verbose');
const jsonIdx = process.argv.indexOf('--json');
const jsonFile = jsonIdx > 0 ? process.argv[jsonIdx + 1] : undefined;
const archIdx = process.argv.indexOf('--arch');
const arch = archIdx > 0 ? process.argv[archIdx + 1] : process.env.ZCOPY_VM_ARCH || 'x64';
if (arch !== 'x64' && arch !== 'arm64') {
  console.error(`selftests: --arch must be x64 or arm64, not ${arch}`);
  process.exit(2);
}
const bin = await imagePath('build-selftests.sh', arch === 'arm64' ? ['arm64'] : []);
const outDir = await mkdtemp(join(tmpdir(), 'zcopy-selftests-'));
const tests = { sync: 'sync_test', udmabuf: 'udmabuf', 'dmabuf-heaps': 'dmabuf-heap' };

// Each test's output and exit status go to outDir; the job itself always succeeds if it got that far.
const script = Object.entries(tests)
  .map(([name, exe]) => `${bin}/${exe} > ${outDir}/${name}.log 2>&1; echo $? > ${outDir}/${name}.rc`)
  .join('\n');
const res = await runInVm({ arch, command: script, cwd: bin, outDir, timeoutMs: 300000, quiet: !verbose });
if (!res.ok) {
  console.error(`selftests: the VM run failed (${res.reason}, exit ${res.exitCode}); console tail:`);
  console.error(res.consoleLog.trimEnd().split('\n').slice(-30).join('\n'));
  process.exit(1);
}

const read = (f) => readFile(join(outDir, f), 'utf8').catch(() => null);
const counts = {};
// Boot retries of the runner (announced as 'zcopy-retry: ...' in the console log) are reported, never silent.
const retries = res.consoleLog
  .split('\n')
  .map((l) => /zcopy-retry: (.*)$/.exec(l)?.[1])
  .filter(Boolean);
const totals = { passed: 0, failed: 0, suites: {}, retries };
let failed = false;
for (const name of Object.keys(tests)) {
  const log = (await read(`${name}.log`)) ?? '';
  const rc = Number((await read(`${name}.rc`)) ?? NaN);
  const { pass, total } = countPasses(name, log, rc);
  counts[name] = `${pass}/${total}`;
  // A selftest that did not run counts as one failure, so it can never vanish from the totals.
  totals.passed += pass;
  totals.failed += Math.max(total - pass, rc !== 0 || total === 0 ? 1 : 0);
  totals.suites[name] = { pass, total, exit: rc };
  if (rc !== 0 || pass !== total || total === 0) {
    failed = true;
    console.error(`--- ${name} (exit ${rc}) ---\n${log.trimEnd()}`);
  } else if (verbose) console.error(`--- ${name} ---\n${log.trimEnd()}`);
}
console.log(
  `selftests${arch === 'arm64' ? ' (arm64)' : ''}: ${Object.entries(counts)
    .map(([n, c]) => `${n} ${c}`)
    .join(', ')} (VM ${(res.elapsedMs / 1000).toFixed(1)}s)`,
);
if (jsonFile) await writeFile(jsonFile, `${JSON.stringify(totals, null, 2)}\n`);
process.exit(failed ? 1 : 0);

/** Each selftest reports differently: kselftest totals, a single ok line, or per-case OK/FAIL lines. */
function countPasses(name, log, rc) {
  if (name === 'sync') {
    const m = log.match(/# Totals: pass:(\d+) fail:(\d+) xfail:(\d+) xpass:(\d+) skip:(\d+) error:(\d+)/);
    if (!m) return { pass: 0, total: 0 };
    const [pass, ...rest] = m.slice(1).map(Number);
    return { pass, total: pass + rest.reduce((a, b) => a + b, 0) };
  }
  if (name === 'udmabuf') return { pass: rc === 0 && /: ok$/m.test(log) ? 1 : 0, total: 1 };
  // dmabuf-heaps: "  Testing <case>:  OK" / "FAIL (...)" per heap and case
  const cases = log.split('\n').filter((l) => /^\s+Testing /.test(l));
  return { pass: cases.filter((l) => /OK\s*$/.test(l)).length, total: cases.length };
}
