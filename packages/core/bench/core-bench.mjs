// The zcopy side of the core benchmark (spawned by run.mjs; the same cases as core_bench.c).
//   node core-bench.mjs ops <seconds> [prefix]       every case (or those whose name starts with prefix): one
//                                                    {case, ops, seconds, cpu...} JSON line each
//   node core-bench.mjs count <case> <n>             exactly n operations of one case (for strace -c)
//   node core-bench.mjs latency <n> <exe> <kind>     wake latency, {p50, p99} in ns; kind 'zcopy': EventFd.wait()
//                                                    on an eventfd the C signaller writes; 'node': a 'data'
//                                                    event of a net.Socket (the child's stdout pipe), Node's
//                                                    own fastest fd-readiness path
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fstat } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { quantile, timed, timedAsync } from '../../../scripts/bench/harness.mjs';

// ZCOPY_BENCH_CORE: another build of @zcopy/core (its dist/index.js) to measure, e.g. main's, for a before/after.
const other = process.env.ZCOPY_BENCH_CORE;
const { EventFd, Fd, Memfd, PollFlags, waitFdBlocking } = await import(
  other ? pathToFileURL(other).href : '@zcopy/core'
);
// The raw binding under the safe API: the same native calls with no object, check or registry around them. Its
// rows ("[raw binding]") show the floor: raw − C is what any N-API call (and an external ArrayBuffer) costs,
// zcopy − raw what the safe API adds.
const { native } = await import(
  other ? new URL('internal.js', pathToFileURL(other)).href : '@zcopy/core/internal'
);
const K = native.constants;

// (No `using`: plain .mjs on Node 20 has no explicit resource management.)
function memfdOp() {
  const m = Memfd.create('b', { size: 4096 });
  const map = m.map({ length: 4096 });
  map.unmap();
  m.close();
}

let ev;
async function eventfdOp() {
  const p = ev.wait();
  ev.write(1);
  await p;
  ev.read();
}

function memfdRaw() {
  const fd = native.memfdCreate('b', K.MFD_ALLOW_SEALING, 4096);
  const ab = native.mmap(fd, 4096, K.PROT_READ | K.PROT_WRITE, K.MAP_SHARED, 0);
  native.munmap(ab);
  native.close(fd);
}

// The raw binding plus what the safe API's leak safety net costs: an object standing for the fd, registered in a
// FinalizationRegistry with itself as the unregister token and unregistered at close, as FdObject does.
const registry = new FinalizationRegistry(() => {});
function memfdRawRegistered() {
  const fd = native.memfdCreate('b', K.MFD_ALLOW_SEALING, 4096);
  const owner = { fd };
  registry.register(owner, { fd, type: Object }, owner);
  const ab = native.mmap(fd, 4096, K.PROT_READ | K.PROT_WRITE, K.MAP_SHARED, 0);
  native.munmap(ab);
  registry.unregister(owner);
  native.close(fd);
}

let fionreadFd;
// An eventfd holding 1 that nobody reads: it always polls readable, so the threadpool cases' work is a poll() that
// returns at once and what is timed is the round trip around it.
let ready;
const TP = 'threadpool round trip (poll of a ready fd)';
// Sync cases are timed without an await (C has no microtask tick either); the wait is awaited.
const cases = {
  'memfd 4 KiB create+map+close': memfdOp,
  'eventfd wait round trip': eventfdOp,
  'ioctl FIONREAD': () => fionreadFd.bytesReadable(),
  'eventfd write+read': () => {
    ev.write(1);
    ev.read();
  },
  'memfd 4 KiB create+map+close [raw binding]': memfdRaw,
  'memfd 4 KiB create+map+close [raw binding + leak registry]': memfdRawRegistered,
  'eventfd write+read [raw binding]': () => {
    native.eventfdWrite(ev.fd, 1n);
    native.eventfdRead(ev.fd);
  },
  // waitFdBlocking: runBlocking (owner pinned, timeout/abort/close handling) around the raw call below.
  [TP]: () => waitFdBlocking(ready, PollFlags.IN),
  // The raw call: a BlockingCall whose worker polls the fd and its call's cancel eventfd (made and closed per call).
  [`${TP} [raw binding]`]: () => native.pollBlocking(ready.fd, K.POLL_IN, -1).promise,
  // Node's own threadpool round trip (an fstat on a libuv worker, a callback on the JS thread): the floor of any
  // threadpool call a Node addon makes.
  [`${TP} [Node's threadpool: fs.fstat]`]: () =>
    new Promise((resolve, reject) => fstat(ready.fd, (err, st) => (err ? reject(err) : resolve(st)))),
};
const asyncCases = new Set([
  'eventfd wait round trip',
  TP,
  `${TP} [raw binding]`,
  `${TP} [Node's threadpool: fs.fstat]`,
]);

async function latency(n, exe, kind) {
  const shared = Memfd.create('shared', { size: 4096 });
  const view = new BigUint64Array(shared.map({ length: 4096 }).arrayBuffer, 0, 1);
  const lat = [];
  if (kind === 'zcopy') {
    const efd = EventFd.create();
    const child = spawn(exe, ['signaller'], { stdio: ['pipe', 'inherit', 'inherit', efd.fd, shared.fd] });
    for (let i = 0; i < n; i++) {
      const woke = efd.wait().then(() => process.hrtime.bigint());
      child.stdin.write('i');
      lat.push(Number((await woke) - view[0]));
      efd.read();
    }
    child.stdin.end();
    await once(child, 'exit');
    efd.close();
  } else {
    const child = spawn(exe, ['signaller-stdout'], {
      stdio: ['pipe', 'pipe', 'inherit', 'ignore', shared.fd],
    });
    let wake;
    child.stdout.on('data', () => wake(process.hrtime.bigint()));
    for (let i = 0; i < n; i++) {
      const woke = new Promise((r) => {
        wake = r;
      });
      child.stdin.write('i');
      lat.push(Number((await woke) - view[0]));
    }
    child.stdin.end();
    await once(child, 'exit');
  }
  shared.close();
  return { op: 'latency', kind, n, p50: quantile(lat, 0.5), p99: quantile(lat, 0.99) };
}

const [mode, a, b, c] = process.argv.slice(2);
ev = EventFd.create();
const fionreadMemfd = Memfd.create('fionread', { size: 4096 });
fionreadFd = Fd.dup(fionreadMemfd);
fionreadMemfd.close();
ready = EventFd.create(1);
if (mode === 'ops') {
  for (const [name, op] of Object.entries(cases))
    if (b !== undefined && !name.startsWith(b)) continue;
    else if (asyncCases.has(name)) await timedAsync(name, op, Number(a));
    else timed(name, op, Number(a));
} else if (mode === 'count') {
  const op = cases[a];
  if (!op) throw new Error(`no case '${a}'`);
  for (let i = 0, n = Number(b); i < n; i++) await op();
} else if (mode === 'latency') {
  console.log(JSON.stringify(await latency(Number(a), b, c)));
} else {
  console.error('usage: core-bench.mjs ops <s> | count <case> <n> | latency <n> <exe> zcopy|node');
  process.exit(2);
}
ev.close();
ready.close();
fionreadFd.close();
