import { readdirSync } from 'node:fs';

/** Open fds of this process, as the kernel counts them. */
export function procFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}
