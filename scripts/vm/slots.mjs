// Machine-wide limit on concurrent guests. TCG guests are CPU-bound: on 2 cores, three -smp 2 guests at once
// each run 3x slower and their timeouts stop meaning anything. A slot is a directory made atomically with
// mkdir, holding its owner: pid, the process's start time (field 22 of /proc/<pid>/stat) and the boot id. A slot
// whose owner is gone is taken over, and so is one whose pid now belongs to another process: the cache outlives
// a killed run and a reboot (CI keeps ~/.cache/zcopy), and after a reboot a dead owner's pid is often alive again.
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const cacheDir = process.env.ZCOPY_CACHE ?? join(process.env.HOME ?? '/root', '.cache', 'zcopy');
const slotsDir = join(cacheDir, 'vm-slots');

/** ZCOPY_VM_SLOTS, else one guest per 2 host cores (each guest gets -smp 2). */
export function slotCount() {
  const n = Number(process.env.ZCOPY_VM_SLOTS);
  return n >= 1 ? Math.floor(n) : Math.max(1, Math.floor(availableParallelism() / 2));
}

function read(path) {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** This boot's id and a process's start time in clock ticks since boot ('' when there is no such process). */
const bootId = () => read('/proc/sys/kernel/random/boot_id');
function startTime(pid) {
  const stat = read(`/proc/${pid}/stat`);
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its last ')'.
  return stat ? (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '') : '';
}

/** What a slot's pid file holds for process pid. */
export function ownerRecord(pid = process.pid) {
  return `${pid} ${startTime(pid)} ${bootId()}`;
}

/** Whether the owner a pid file names still runs: the same pid, start time and boot. A bare pid (an older
 *  runner's file) is checked as a pid only. */
export function ownerAlive(record) {
  const [pidText, start, boot] = String(record).trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (e.code !== 'EPERM') return false;
  }
  if (start === undefined) return true;
  return boot === bootId() && start === startTime(pid);
}

function statMs(dir) {
  try {
    return statSync(dir).mtimeMs;
  } catch {
    return 0;
  }
}

export function tryTake(dir) {
  try {
    mkdirSync(dir);
  } catch (e) {
    if (e.code !== 'EEXIST') throw e;
    const owner = read(join(dir, 'pid'));
    // No pid file: its owner is between mkdir and write, or died there (then the dir is old).
    if (owner === '' ? Date.now() - statMs(dir) < 10000 : ownerAlive(owner)) return false;
    rmSync(dir, { recursive: true, force: true });
    return tryTake(dir);
  }
  // Whole or not at all (a rename): a half-written record would read as another process's.
  writeFileSync(join(dir, 'pid.tmp'), ownerRecord());
  renameSync(join(dir, 'pid.tmp'), join(dir, 'pid'));
  return true;
}

/** Waits for a free slot; resolves to a release function. onWait is told once if we have to queue. */
export async function acquireSlot(onWait = () => {}) {
  mkdirSync(slotsDir, { recursive: true });
  const n = slotCount();
  let told = false;
  for (;;) {
    for (let i = 0; i < n; i++) {
      const dir = join(slotsDir, `slot-${i}`);
      if (tryTake(dir)) {
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          process.off('exit', release);
          rmSync(dir, { recursive: true, force: true });
        };
        process.on('exit', release);
        return release;
      }
    }
    if (!told) onWait(`waiting for a free VM slot (${n} in use; ZCOPY_VM_SLOTS raises the limit)`);
    told = true;
    await sleep(500);
  }
}
