import { readdirSync, readlinkSync } from 'node:fs';

/** Open fds of this process, as the kernel counts them. */
export function procFdCount(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch (e) {
    // Seen once in the guest (ENOENT under heavy host load, not reproduced since): keep what helps explain it.
    let self: string;
    try {
      self = readlinkSync('/proc/self');
    } catch (x) {
      self = String(x);
    }
    throw new Error(`cannot list /proc/self/fd (pid ${process.pid}, /proc/self -> ${self}): ${e}`, {
      cause: e,
    });
  }
}

/** How many of this process's fds are sync_files (the kernel names them anon_inode:sync_file). */
export function syncFileFdCount(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:sync_file') n++;
    } catch {
      // the directory's own fd, gone by now
    }
  }
  return n;
}
