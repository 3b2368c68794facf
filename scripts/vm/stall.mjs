// What the runner does when a guest goes silent (no console output for the silence limit): before it kills the
// guest, it looks inside, so a freeze under TCG leaves evidence instead of only a timeout.
//   1. From QEMU (QMP): the run state, and each vCPU's registers sampled three times a second apart. A RIP
//      that does not move is a CPU stuck in one place; the kernel addresses are named from System.map when
//      the kernel build left one beside the image.
//   2. From the guest's own kernel, if it still takes interrupts: SysRq 'l' (a backtrace of every CPU) and
//      'w' (tasks blocked in D state). A bare guest's console is an 8250 UART: a serial break (QMP
//      chardev-send-break) then the key. Under Xen the serial is Xen's: three Ctrl-A switch its input to Xen,
//      whose debug keys 'd' (registers and stack of each physical CPU), '0' (dom0's vCPUs) and 'q' (each
//      domain's vCPU state) answer even when dom0 does not; three more Ctrl-A give the input back to dom0,
//      whose hvc console takes SysRq as Ctrl-O then the key.
//   3. The heartbeat (images/init writes the guest's uptime to outDir/heartbeat every 5 s, over 9p, not the
//      console): new beats while the runner looks mean the guest runs and only its console stopped; none, that
//      the guest (or at least its userspace and 9p) stopped too.
// Whatever the guest prints in answer lands in its console log; the report (stall.txt in the run's outDir)
// holds the QEMU side and the console lines that came after the pokes.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Qmp } from './qmp.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A function naming kernel text addresses from a System.map (undefined when there is none). */
export function symbolizer(systemMap) {
  if (!systemMap || !existsSync(systemMap)) return undefined;
  const syms = [];
  for (const line of readFileSync(systemMap, 'utf8').split('\n')) {
    const [addr, type, name] = line.split(' ');
    if (name && /^[tTwW]$/.test(type)) syms.push([BigInt(`0x${addr}`), name]);
  }
  syms.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (!syms.length) return undefined;
  return (addr) => {
    let lo = 0;
    let hi = syms.length - 1;
    if (addr < syms[0][0] || addr > syms[hi][0] + 0x100000n) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (syms[mid][0] <= addr) lo = mid;
      else hi = mid - 1;
    }
    return `${syms[lo][1]}+0x${(addr - syms[lo][0]).toString(16)}`;
  };
}

/** The RIP (x86) or PC (arm64) of each CPU in an `info registers -a` dump, named where possible. */
export function cpuPositions(dump, name) {
  const out = [];
  const re = /(?:RIP=|EIP=|\bPC=)([0-9a-f]{8,16})/gi;
  for (let m = re.exec(dump); m; m = re.exec(dump)) {
    const a = BigInt(`0x${m[1]}`);
    const sym = name?.(a);
    out.push(`${m[1]}${sym ? ` ${sym}` : ''}`);
  }
  return out;
}

/** The heartbeat file's beat: the guest's uptime in it and when the host saw it written (undefined: none yet). */
function beat(file) {
  try {
    return { uptime: readFileSync(file, 'utf8').trim(), atMs: statSync(file).mtimeMs };
  } catch {
    return undefined;
  }
}

/** images/init's heartbeat period, s. */
const BEAT_S = 5;

/**
 * What the heartbeat says, given whether it moved while the runner looked and how old the last beat was when the
 * stall was found. A beat overdue at the stall (several periods) that comes back once the runner pokes means the
 * guest's timers had stopped until an interrupt came: x86 Xen under QEMU's nested SVM loses its timer interrupt
 * for minutes (images/README.md), and the runner's keys are such an interrupt.
 */
export function heartbeatVerdict(moved, staleAtStallS) {
  if (!moved)
    return ' -> no beat while the runner looked: the guest (its userspace and 9p at least) stopped too';
  if (staleAtStallS > 3 * BEAT_S)
    return (
      ` -> the beats had stopped (the last ${staleAtStallS.toFixed(0)}s before the stall) and came back only` +
      " once the runner poked: the guest's timers stood still until an interrupt came (x86 Xen under nested SVM" +
      ' loses its timer interrupt: images/README.md), not a quiet job'
    );
  return ' -> the guest still runs (beats at the stall and while the runner looked): the job is quiet, or the console stopped';
}

/**
 * Looks inside a silent guest; resolves to the report's text (never rejects: what could not be asked is said).
 * @param {object} o
 * @param {string} o.qmpPath    QEMU's QMP socket
 * @param {import('node:stream').Writable} o.stdin  QEMU's stdin: the serial console's input
 * @param {'bare'|'xen'} o.mode
 * @param {'x64'|'arm64'} o.arch
 * @param {string} [o.systemMap]
 * @param {() => string} o.consoleText  the console log so far
 * @param {string} [o.heartbeat]  the heartbeat file images/init writes
 * @param {number} [o.answerMs] the longest wait for the guest's answers to the SysRq / debug keys
 */
export async function diagnoseStall({
  qmpPath,
  stdin,
  mode,
  arch,
  systemMap,
  consoleText,
  heartbeat,
  answerMs = 20000,
}) {
  const report = [];
  const t0 = Date.now();
  const beat0 = heartbeat ? beat(heartbeat) : undefined;
  const name = symbolizer(systemMap);
  const before = consoleText().length;
  let qmp;
  try {
    qmp = await Qmp.open(qmpPath);
    const status = await qmp.execute('query-status');
    report.push(`QEMU run state: ${status.status}${status.running ? '' : ' (vCPUs not running)'}`);
    const samples = [];
    for (let i = 0; i < 3; i++) {
      if (i) await sleep(1000);
      const dump = await qmp.hmp('info registers -a');
      if (i === 0) report.push('--- info registers -a (first sample) ---', dump.trimEnd());
      samples.push(cpuPositions(dump, name));
    }
    report.push('--- each vCPU where it was, three samples a second apart ---');
    const cpus = Math.max(...samples.map((s) => s.length));
    for (let c = 0; c < cpus; c++) report.push(`cpu${c}: ${samples.map((s) => s[c] ?? '?').join('  |  ')}`);
    if (!name && arch === 'x64') report.push('(no System.map beside the kernel image: addresses unnamed)');
  } catch (e) {
    report.push(`QMP: ${e.message}`);
  }

  // The guest's own view, if its kernel still answers.
  const type = (s) => stdin?.writable && stdin.write(s);
  try {
    if (mode === 'xen' && arch === 'x64') {
      type('\x01\x01\x01');
      await sleep(500);
      for (const key of ['d', '0', 'q']) {
        type(key);
        await sleep(3000);
      }
      type('\x01\x01\x01');
      await sleep(500);
      for (const key of ['l', 'w']) {
        type(`\x0f${key}`);
        await sleep(3000);
      }
      report.push('sent: Xen debug keys d, 0, q; dom0 SysRq l, w (Ctrl-O on hvc0)');
    } else if (qmp) {
      for (const key of ['l', 'w']) {
        await qmp.execute('chardev-send-break', { id: 'serial0' });
        await sleep(200);
        type(key);
        await sleep(3000);
      }
      report.push('sent: serial break + SysRq l, w');
    }
  } catch (e) {
    report.push(`poking the console: ${e.message}`);
  }
  // The answers: until the console has been quiet for 3 s (at most answerMs).
  for (
    let waited = 0, quiet = 0, len = consoleText().length;
    waited < answerMs && quiet < 3;
    waited += 1000
  ) {
    await sleep(1000);
    const now = consoleText().length;
    quiet = now === len ? quiet + 1 : 0;
    len = now;
  }
  qmp?.close();
  if (heartbeat) {
    const beat1 = beat(heartbeat);
    const ago = (b) => `${((Date.now() - b.atMs) / 1000).toFixed(0)}s ago`;
    if (!beat1) report.push('heartbeat: none written (the job had not started, or 9p never worked)');
    else {
      const moved = beat0 === undefined || beat1.uptime !== beat0.uptime;
      report.push(
        `heartbeat: last beat ${ago(beat1)}, guest uptime ${beat1.uptime} s` +
          (beat0
            ? ` (at the stall: ${beat0.uptime} s, ${((t0 - beat0.atMs) / 1000).toFixed(0)}s before)`
            : '') +
          heartbeatVerdict(moved, beat0 ? (t0 - beat0.atMs) / 1000 : 0),
      );
    }
  }
  const answer = consoleText().slice(before);
  report.push(
    `--- the console after the pokes (${answer.length} bytes: none means the guest kernel did not answer) ---`,
    answer.trimEnd(),
  );
  return `${report.join('\n')}\n`;
}
