// Typed view of the core addon (raw bindings: numbers in, numbers out; no policy here).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBinding } from './load-binding.js';

export interface BlockingHandle<T> {
  promise: Promise<T>;
  /** Asks the call to stop; a method (it reads `id` from its `this`): call it as handle.cancel(). */
  cancel(): void;
  /** The call's cancel token in the addon's registry (blocking.h). */
  id: number;
}

export interface CoreBinding {
  open(path: string, flags: number, mode?: number): number;
  close(fd: number): void;
  adopt(fd: number): number;
  /** Like adopt, for an fd the kernel has just returned (no F_GETFD probe): ownNew's native half. */
  own(fd: number): number;
  release(fd: number): void;
  dup(fd: number): number;
  trackedFds(): number[];
  fionread(fd: number): number;
  /** With a size: ftruncate'd to it, the fd closed again if that fails. */
  memfdCreate(name: string, flags: number, size?: number): number;
  ftruncate(fd: number, size: number): void;
  addSeals(fd: number, seals: number): void;
  getSeals(fd: number): number;
  eventfd(initval: number, flags: number): number;
  fallocate(fd: number, mode: number, offset: number, length: number): void;
  eventfdRead(fd: number): bigint;
  eventfdWrite(fd: number, value: bigint): void;
  mmap(fd: number, length: number, prot: number, flags: number, offset: number): ArrayBuffer;
  munmap(buffer: ArrayBuffer): boolean;
  mappingCount(): number;
  /** Where fired waits go: (fd, token of arm(), status (libuv's: 0, or -errno), ready libuv events). */
  waitCallback(callback: (fd: number, token: number, status: number, events: number) => void): void;
  /** Arms `fd` in the core's epoll set for libuv `events`, once (EPOLLONESHOT); `token` comes back when it fires. */
  arm(fd: number, events: number, token: number): void;
  /** Takes an armed fd out of the set (a wait given up). */
  disarm(fd: number): void;
  pollBlocking(fd: number, events: number, timeoutMs: number): BlockingHandle<number>;
  socketPair(type: number): number[];
  connectUnix(path: string, type: number): number;
  listenUnix(path: string, type: number, backlog: number): number;
  /** -1 when no connection is waiting. */
  accept(fd: number): number;
  socketInfo(fd: number): { domain: number; type: number };
  /** -1 when the socket is full (EAGAIN). */
  sendFds(fd: number, data: Uint8Array, fds: readonly number[]): number;
  /** null when nothing is waiting (EAGAIN); fds already closed (and `dropped` counted) when ctrunc/trunc. */
  recvFds(
    fd: number,
    maxBytes: number,
    maxFds: number,
  ): { data: Buffer; fds: number[]; ctrunc: boolean; trunc: boolean; dropped: number } | null;
  /** sysconf(_SC_PAGESIZE). */
  pageSize: number;
  constants: Record<
    | 'MFD_ALLOW_SEALING'
    | 'MFD_HUGETLB'
    | 'MFD_HUGE_SHIFT'
    | 'MFD_HUGE_MASK'
    | 'AF_UNIX'
    | 'SOCK_STREAM'
    | 'SOCK_SEQPACKET'
    | 'SOCK_DGRAM'
    | 'SCM_MAX_FD'
    | 'F_SEAL_SEAL'
    | 'F_SEAL_SHRINK'
    | 'F_SEAL_GROW'
    | 'F_SEAL_WRITE'
    | 'EFD_NONBLOCK'
    | 'EFD_SEMAPHORE'
    | 'PROT_READ'
    | 'PROT_WRITE'
    | 'MAP_SHARED'
    | 'MAP_PRIVATE'
    | 'POLLIN'
    | 'POLLOUT'
    | 'POLLPRI'
    | 'POLL_IN'
    | 'POLL_OUT'
    | 'POLL_ERR'
    | 'POLL_HUP'
    | 'POLL_NVAL',
    number
  >;
}

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

// One copy of core per process: a second one (a package manager that did not dedupe, a symlinked path Node did
// not resolve) has its own classes, so `instanceof` fails between objects of the two. Said once, with both paths.
const LOADED = Symbol.for('@zcopy/core:loaded-from');
const loaded = (globalThis as Record<symbol, string | undefined>)[LOADED];
if (loaded === undefined) (globalThis as Record<symbol, string>)[LOADED] = packageDir;
else if (loaded !== packageDir)
  process.emitWarning(
    `@zcopy/core is loaded twice in this process, from ${loaded} and from ${packageDir}: objects made by one ` +
      "copy are not the other's (instanceof fails between them); make every @zcopy package resolve one core",
    { code: 'ZCOPY_CORE_TWICE' },
  );

export const native: CoreBinding = loadBinding<CoreBinding>(packageDir, 'zcopy_core');
