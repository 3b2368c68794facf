// Errors raised by every zcopy package.
// KernelError is built here and also by native code (through the factory published on globalThis below),
// so an ioctl failing in any addon, on any thread, surfaces as this one class.
import { getSystemErrorMap } from 'node:util';

export interface KernelErrorInfo {
  errno: number;
  syscall: string;
  /** The ioctl's kernel name, e.g. 'IOCTL_GNTDEV_MAP_GRANT_REF'. */
  request?: string;
  /** The path, when opening a device node failed. */
  path?: string;
  /** What the failure means here, when the caller knows better than the generic table. */
  hint?: string;
}

const errnoMap = getSystemErrorMap();

// Linux errnos that drivers return but libuv (so Node) has no name for.
const linuxOnly = new Map<number, [string, string]>([
  [76, ['ENOTUNIQ', 'name not unique on network']],
  [77, ['EBADFD', 'file descriptor in bad state']],
  [121, ['EREMOTEIO', 'remote I/O error']],
  [123, ['ENOMEDIUM', 'no medium found']],
  [126, ['ENOKEY', 'required key not available']],
  [130, ['EOWNERDEAD', 'owner died']],
  [131, ['ENOTRECOVERABLE', 'state not recoverable']],
  [512, ['ERESTARTSYS', 'interrupted system call should be restarted']],
  [524, ['ENOTSUPP', 'operation is not supported (kernel-internal ENOTSUPP)']],
]);

function errnoEntry(errno: number): [string, string] | undefined {
  return errnoMap.get(-errno) ?? linuxOnly.get(errno);
}

/** The errno's name, e.g. 22 → 'EINVAL' (Node's names, plus Linux-only ones such as EBADFD). */
export function errnoName(errno: number): string {
  return errnoEntry(errno)?.[0] ?? `E${errno}`;
}

/** The errno number for a name, e.g. 'EINVAL' → 22. */
export function errnoNumber(name: string): number {
  for (const [neg, [n]] of errnoMap) if (n === name) return -neg;
  for (const [num, [n]] of linuxOnly) if (n === name) return num;
  throw new RangeError(`unknown errno name ${name}`);
}

// Hints by "request:CODE", "syscall:CODE" or "*:CODE"; packages add their kernel's rules.
// Kept on globalThis: every copy of this module (vitest isolates modules per test file) shares one table.
const hintsKey = Symbol.for('zcopy.kernelErrorHints');
const globalRecord = globalThis as Record<symbol, unknown>;
globalRecord[hintsKey] ??= new Map<string, string>();
const hints = globalRecord[hintsKey] as Map<string, string>;
for (const [k, v] of [
  [
    'open:ENOENT',
    'the device node does not exist: the kernel lacks the driver (see `zcopy doctor`) or devtmpfs is not mounted',
  ],
  ['open:ENXIO', 'the device node exists but no driver is bound to it'],
  ['open:ENODEV', 'the device node exists but no driver is bound to it'],
  ['open:EACCES', 'permission denied: run as a user with access to the device node (or as root)'],
  ['open:EPERM', 'operation not permitted: the device needs privileges this process lacks'],
  [
    'ioctl:ENOTTY',
    'this fd does not implement the ioctl: wrong kind of file, or the kernel was built without the feature',
  ],
  ['ioctl:EBADF', 'the fd is not open (was it closed?)'],
  ['ioctl:EFAULT', 'the kernel could not read or write the argument buffer'],
  [
    'epoll_ctl:EPERM',
    'this kind of fd cannot be watched with epoll (regular files): use a blocking wait instead',
  ],
  ['mmap:ENODEV', 'this fd cannot be memory-mapped'],
  ['mmap:EACCES', 'the fd was not opened with the access the mapping asks for'],
] as const) {
  if (!hints.has(k)) hints.set(k, v);
}

// Brands: `instanceof` holds across copies of this module, which each define their own classes.
const brand = (name: string) => Symbol.for(`zcopy.${name}`);
function branded(value: unknown, name: string): boolean {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand(name)] === true
  );
}

/** Register what an errno means for a request (or syscall): shown in KernelError messages. */
export function registerHints(requestOrSyscall: string, table: Record<string, string>): void {
  for (const [code, text] of Object.entries(table)) hints.set(`${requestOrSyscall}:${code}`, text);
}

function hintFor(info: KernelErrorInfo, code: string): string | undefined {
  return (
    info.hint ??
    (info.request ? hints.get(`${info.request}:${code}`) : undefined) ??
    hints.get(`${info.syscall}:${code}`) ??
    hints.get(`*:${code}`)
  );
}

export class KernelError extends Error {
  override name = 'KernelError';
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;
  readonly request: string | undefined;
  readonly path: string | undefined;

  constructor(info: KernelErrorInfo) {
    const code = errnoName(info.errno);
    const what = info.request
      ? `${info.syscall} ${info.request}`
      : info.path
        ? `${info.syscall} ${info.path}`
        : info.syscall;
    const desc = errnoEntry(info.errno)?.[1] ?? 'unknown error';
    const hint = hintFor(info, code);
    super(`${what} failed: ${code} (${desc})${hint ? `: ${hint}` : ''}`);
    this.errno = info.errno;
    this.code = code;
    this.syscall = info.syscall;
    this.request = info.request;
    this.path = info.path;
  }

  get [brand('KernelError')](): boolean {
    return true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return branded(value, 'KernelError');
  }
}

/** A wait that ran out of time. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
  readonly code = 'ETIMEDOUT';
  constructor(
    what: string,
    readonly timeoutMs: number,
  ) {
    super(`${what} timed out after ${timeoutMs} ms`);
  }

  get [brand('TimeoutError')](): boolean {
    return true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return branded(value, 'TimeoutError');
  }
}

/** Use of an object after close(), or a wait settled because its owner was closed. */
export class ClosedError extends Error {
  override name = 'ClosedError';
  readonly code = 'ERR_ZCOPY_CLOSED';
  constructor(what: string) {
    super(`${what} is closed`);
  }

  get [brand('ClosedError')](): boolean {
    return true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return branded(value, 'ClosedError');
  }
}

/** The reason an AbortSignal gives, or a standard AbortError. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

// Published for native code: zcopy/errors.h looks it up under this symbol.
const factoryKey = Symbol.for('zcopy.kernelError');
globalRecord[factoryKey] ??= (info: KernelErrorInfo) => new KernelError(info);
