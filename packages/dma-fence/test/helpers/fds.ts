import { readdirSync, readlinkSync } from 'node:fs';

/** Open fds of this process, as the kernel counts them. */
export function procFdCount(): number {
  return readdirSync('/proc/self/fd').length;
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
