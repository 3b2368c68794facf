// Machine-wide limit on concurrent guests. TCG guests are CPU-bound: on 2 cores, three -smp 2 guests at once
// each run 3x slower and their timeouts stop meaning anything. A slot is a directory made atomically with
// mkdir, holding the owner's pid; a slot whose owner is dead is taken over.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

function statMs(dir) {
  try {
    return statSync(dir).mtimeMs;
  } catch {
    return 0;
  }
}

function tryTake(dir) {
  try {
    mkdirSync(dir);
  } catch (e) {
    if (e.code !== 'EEXIST') throw e;
    let pid = NaN;
    try {
      pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    } catch {}
    // No pid file: its owner is between mkdir and write, or died there (then the dir is old).
    if (Number.isNaN(pid) ? Date.now() - statMs(dir) < 10000 : alive(pid)) return false;
    rmSync(dir, { recursive: true, force: true });
    return tryTake(dir);
  }
  writeFileSync(join(dir, 'pid'), String(process.pid));
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
