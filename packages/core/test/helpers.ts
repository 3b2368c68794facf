import { readdirSync, readlinkSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Open fds of this process, as the kernel counts them. */
export function procFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

export async function collectGarbage(rounds = 5): Promise<void> {
  // --expose-gc at run time (the flag only takes effect for contexts created after it is set).
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < rounds; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** What each open fd of this process points at (readlink of /proc/self/fd/N). */
export function procFdTargets(): string[] {
  const out: string[] = [];
  for (const n of readdirSync('/proc/self/fd')) {
    try {
      out.push(readlinkSync(`/proc/self/fd/${n}`));
    } catch {
      // the directory's own fd, gone by now
    }
  }
  return out;
}
