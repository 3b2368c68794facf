// What kind of file an fd is, and the one check every open/adopt/borrow/dup makes before it wraps an fd: the
// wrong kind is refused at once (WrongFdError naming what the fd is), not at its first use.
import { type BigIntStats, fstatSync, readlinkSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { KernelError, WrongFdError } from './errors.js';

/** A character device's numbers and its sysfs identity, e.g. { major: 10, minor: 125, subsystem: 'misc', name: 'udmabuf' }. */
export interface CharDevice {
  major: number;
  minor: number;
  /** The class or bus directory sysfs lists it under: 'misc', 'drm', 'dma_heap', 'mem'… ('' if unknown). */
  subsystem: string;
  /** Its sysfs name: 'udmabuf', 'card0', 'system', 'null'… ('' if unknown). */
  name: string;
}

/** The character device behind `fd`, or undefined when it is not one. */
export function charDeviceOf(fd: number): CharDevice | undefined {
  let st: BigIntStats;
  try {
    // bigint: Node keeps the last plain stat's mode in one shared array, and fs.realpathSync (which the module
    // loader uses) stops resolving symlinks when that mode says socket or FIFO (nodejs/node#51142): an fstat
    // of a socket here made a later `import()` load a package through pnpm's unresolved symlink path, so a
    // second copy of it. The bigint stats have their own array.
    st = fstatSync(fd, { bigint: true });
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).errno;
    if (typeof errno === 'number') throw new KernelError({ errno: Math.abs(errno), syscall: 'fstat' });
    throw e;
  }
  if (!st.isCharacterDevice()) return undefined;
  // Linux's dev_t encoding (new_decode_dev): 12 bits of major, 20 of minor, split around the low byte.
  const rdev = Number(st.rdev);
  const major = Math.floor(rdev / 256) & 0xfff;
  const minor = (rdev & 0xff) | (Math.floor(rdev / 4096) & 0xfff00);
  let subsystem = '';
  let name = '';
  try {
    const link = readlinkSync(`/sys/dev/char/${major}:${minor}`);
    name = basename(link);
    subsystem = basename(dirname(link));
  } catch {
    // no sysfs (or no entry): the numbers are all there is
  }
  return { major, minor, subsystem, name };
}

/**
 * What an fd is, in words, for error messages: its /proc/self/fd link ('/dev/null', 'anon_inode:sync_file',
 * '/dmabuf:', 'socket:[1234]'), with the device numbers and sysfs name of a character device.
 */
export function describeFd(fd: number): string {
  let target: string;
  try {
    target = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return `fd ${fd} (not open)`;
  }
  try {
    const dev = charDeviceOf(fd);
    if (dev)
      target += ` (char ${dev.major}:${dev.minor}${dev.subsystem ? `, ${dev.subsystem}/${dev.name}` : ''})`;
  } catch {
    // fstat failed: the link is enough
  }
  return target;
}

// Errnos with which a probe says "this fd is something else" (rather than "this fd is bad").
const wrongKind = new Set(['ENOTTY', 'EINVAL', 'ENOTSOCK', 'ENOTDIR', 'EBADFD', 'ENODEV', 'ENXIO']);

/**
 * The check before wrapping an fd: `probe` returns false (or throws a KernelError with ENOTTY, EINVAL,
 * ENOTSOCK…) when the fd is not `expected` ('a sw_sync timeline'). Then a WrongFdError names what the fd is,
 * with the kernel's answer as `cause`. Other failures (EBADF: not open) are rethrown as they are.
 */
export function checkFdKind(fd: number, expected: string, probe: () => unknown): void {
  let ok: unknown;
  try {
    ok = probe();
  } catch (e) {
    if (e instanceof KernelError && wrongKind.has(e.code))
      throw new WrongFdError(fd, describeFd(fd), expected, { cause: e });
    throw e;
  }
  if (ok === false) throw new WrongFdError(fd, describeFd(fd), expected);
}

/**
 * checkFdKind for a device node: the fd must be the character device of `subsystem` (and `name`, if given) as
 * sysfs lists it. Without sysfs only what the numbers tell is checked (a misc device has major 10).
 */
export function checkCharDevice(
  fd: number,
  expected: string,
  subsystem: string,
  name?: string | RegExp,
): void {
  checkFdKind(fd, expected, () => {
    const dev = charDeviceOf(fd);
    if (!dev) return false;
    if (!dev.subsystem) return subsystem !== 'misc' || dev.major === MISC_MAJOR;
    if (dev.subsystem !== subsystem) return false;
    if (name === undefined) return true;
    return typeof name === 'string' ? dev.name === name : name.test(dev.name);
  });
}

// include/uapi/linux/major.h
const MISC_MAJOR = 10;
