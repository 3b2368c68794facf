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

/** What a hint function is given: the failure, its errno's name, and the context of the call that failed. */
export interface HintInput {
  errno: number;
  code: string;
  syscall: string;
  request: string | undefined;
  path: string | undefined;
  /** What withErrorContext() said about the call (its arguments), or undefined. */
  context: Readonly<Record<string, unknown>> | undefined;
}

/**
 * What an errno means for a request: a sentence, or a function that makes it from the failure and the call's
 * context (a sysfs value, the domain type, the arguments). A function that returns undefined passes the
 * question on (to an older registration for the same key, then to the syscall's and the generic table).
 */
export type Hint = string | ((input: HintInput) => string | undefined);

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

// Hints by "request:CODE", "syscall:CODE" or "*:CODE", newest registration first; packages add their kernel's
// rules. Kept on globalThis: every copy of this module (vitest isolates modules per test file) shares one
// table, and one stack of call contexts.
const hintsKey = Symbol.for('zcopy.kernelErrorHints.v2');
const contextKey = Symbol.for('zcopy.kernelErrorContext');
const globalRecord = globalThis as Record<symbol, unknown>;
globalRecord[hintsKey] ??= new Map<string, Hint[]>();
globalRecord[contextKey] ??= [];
const hints = globalRecord[hintsKey] as Map<string, Hint[]>;
const contexts = globalRecord[contextKey] as Record<string, unknown>[];
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
  if (!hints.has(k)) hints.set(k, [v]);
}

// Brands: `instanceof` holds across copies of this module, which each define their own classes.
const brand = (name: string) => Symbol.for(`zcopy.${name}`);
function branded(value: unknown, name: string): boolean {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand(name)] === true
  );
}

/**
 * Register what an errno means for a request (or syscall, or '*'): shown in KernelError messages. A string
 * registered again for the same key replaces the earlier one; a function goes before the earlier ones and may
 * pass (return undefined). One table for every package: errors are built in one place, the KernelError
 * constructor, whether native code or TS raises them.
 */
export function registerHints(requestOrSyscall: string, table: Record<string, Hint>): void {
  for (const [code, hint] of Object.entries(table)) {
    const key = `${requestOrSyscall}:${code}`;
    const list = hints.get(key) ?? [];
    if (typeof hint === 'string') hints.set(key, [...list.filter((h) => typeof h !== 'string'), hint]);
    // The same function from another copy of a package's module replaces its earlier self.
    else hints.set(key, [hint, ...list.filter((h) => typeof h === 'string' || String(h) !== String(hint))]);
  }
}

/**
 * Runs `fn` with `context` (the call's arguments, e.g. { size }) visible to the hint functions of every
 * KernelError made while it runs (native code raises them synchronously, so the ioctl's failure sees it).
 * Two keys mean something to the core itself: `path` names the file of a failure that has none, and `hint`, a
 * Hint function, is asked first (for a rule only this call knows).
 */
export function withErrorContext<T>(context: Record<string, unknown>, fn: () => T): T {
  contexts.push(context);
  try {
    return fn();
  } finally {
    contexts.pop();
  }
}

function lookup(key: string, input: HintInput): string | undefined {
  for (const h of hints.get(key) ?? []) {
    const text = typeof h === 'string' ? h : h(input);
    if (text !== undefined) return text;
  }
  return undefined;
}

function currentContext(): Record<string, unknown> | undefined {
  return contexts.length > 0 ? Object.assign({}, ...contexts) : undefined;
}

function hintFor(
  info: KernelErrorInfo,
  code: string,
  context: Record<string, unknown> | undefined,
): string | undefined {
  if (info.hint !== undefined) return info.hint;
  const own = context?.hint;
  const input: HintInput = {
    errno: info.errno,
    code,
    syscall: info.syscall,
    request: info.request,
    path: info.path,
    context,
  };
  return (
    (typeof own === 'function' ? (own as (i: HintInput) => string | undefined)(input) : undefined) ??
    (info.request ? lookup(`${info.request}:${code}`, input) : undefined) ??
    lookup(`${info.syscall}:${code}`, input) ??
    lookup(`*:${code}`, input)
  );
}

export class KernelError extends Error {
  override name = 'KernelError';
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;
  readonly request: string | undefined;
  readonly path: string | undefined;

  constructor(given: KernelErrorInfo) {
    const context = currentContext();
    // A context's `path` names the file of a failure that has none of its own (e.g. an mmap of a device).
    const info =
      given.path === undefined && typeof context?.path === 'string'
        ? { ...given, path: context.path }
        : given;
    const code = errnoName(info.errno);
    const what = info.request
      ? `${info.syscall} ${info.request}`
      : info.path
        ? `${info.syscall} ${info.path}`
        : info.syscall;
    const desc = errnoEntry(info.errno)?.[1] ?? 'unknown error';
    const hint = hintFor(info, code, context);
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

/**
 * A failure that is neither the kernel's refusal (KernelError), a closed object (ClosedError), a timeout nor a
 * wrong JS argument (TypeError/RangeError): a state the call cannot proceed from, a peer that broke its
 * protocol, a message that did not fit. Always has a `code` ('ERR_ZCOPY_…') to branch on.
 */
export class ZcopyError extends Error {
  override name = 'ZcopyError';
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  get [brand('ZcopyError')](): boolean {
    return true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return branded(value, 'ZcopyError');
  }
}

/**
 * An fd of the wrong kind given to open/adopt/borrow/dup (e.g. /dev/null where a sw_sync timeline was expected):
 * refused at once, before the object exists. `target` is what the fd is (its /proc/self/fd link, e.g.
 * '/dev/null', 'anon_inode:sync_file'); `cause` is the kernel's answer to the probe, when there was one.
 */
export class WrongFdError extends TypeError {
  override name = 'WrongFdError';
  readonly code = 'ERR_ZCOPY_WRONG_FD';
  constructor(
    readonly fd: number,
    readonly target: string,
    readonly expected: string,
    options?: { cause?: unknown },
  ) {
    super(`fd ${fd} is ${target}, not ${expected}`, options);
  }

  get [brand('WrongFdError')](): boolean {
    return true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return branded(value, 'WrongFdError');
  }
}

/** The reason an AbortSignal gives, or a standard AbortError. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

// Published for native code: zcopy/errors.h looks it up under this symbol.
const factoryKey = Symbol.for('zcopy.kernelError');
globalRecord[factoryKey] ??= (info: KernelErrorInfo) => new KernelError(info);
