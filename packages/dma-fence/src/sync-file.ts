// SyncFile: an fd standing for one or more dma-fences, readable (POLLIN) once all of them have signalled.
// Async waits go through @zcopy/core's uv_poll (never a thread per wait, never the event loop blocked).
import {
  errnoNumber,
  type FdLike,
  FdObject,
  type FdObjectOptions,
  fdOf,
  KernelError,
  PollEvents,
  TimeoutError,
  type WaitOptions,
  waitFd,
} from '@zcopy/core';
import {
  abortReason,
  adoptOrClose,
  checkFdKind,
  checkWaitOptions,
  native as core,
} from '@zcopy/core/internal';
import { binding } from './native.js';
import { decodeStatus, type FenceStatus, type SettledStatus } from './status.js';

export interface FenceInfo {
  /** The fence's timeline (sw_sync: the name of the process that opened the timeline). */
  timeline: string;
  /** The driver that created the fence, e.g. 'sw_sync'. */
  driver: string;
  status: FenceStatus;
  /** CLOCK_MONOTONIC nanoseconds (process.hrtime.bigint()'s clock) of the signal; 0n while active. */
  timestampNs: bigint;
}

export interface SyncFileInfo {
  /** The name given at merge, or the kernel's `<driver>-<timeline><context>-<seqno>`. */
  name: string;
  status: FenceStatus;
  /** Every fence, with merged fences unwrapped (fences already signalled at merge time are dropped). */
  fences: FenceInfo[];
}

/** Longest sync_file / fence name the kernel stores (32 bytes with the NUL). */
export const FENCE_NAME_MAX = 31;

export function checkFenceName(name: unknown): string {
  if (typeof name !== 'string') throw new TypeError('name must be a string');
  if (name.includes('\0')) throw new TypeError('name must not contain NUL characters');
  const bytes = Buffer.byteLength(name);
  if (bytes > FENCE_NAME_MAX)
    throw new RangeError(`name is limited to ${FENCE_NAME_MAX} bytes, got ${bytes}`);
  return name;
}

/** The status of any sync_file fd (SyncFile, another library's object, or a number). */
export function fenceStatus(target: FdLike): FenceStatus {
  return decodeStatus(binding.status(fdOf(target, 'fence')));
}

/** info() of any sync_file fd. */
export function fenceInfo(target: FdLike): SyncFileInfo {
  const raw = binding.info(fdOf(target, 'fence'));
  return {
    name: raw.name,
    status: decodeStatus(raw.status),
    fences: raw.fences.map((f) => ({ ...f, status: decodeStatus(f.status) })),
  };
}

/** When a sync_file signalled (its last fence's timestamp), or undefined while it is active. */
export function signaledAtNs(target: FdLike): bigint | undefined {
  const info = fenceInfo(target);
  if (info.status.state === 'active') return undefined;
  let last = 0n;
  for (const f of info.fences) if (f.timestampNs > last) last = f.timestampNs;
  return last;
}

/**
 * Resolves with the final status once `target` signals: at once (no poller) when it already has.
 * A SyncFile target settles with ClosedError if it is closed meanwhile.
 */
export async function waitFence(
  target: FdLike,
  options?: WaitOptions,
  what = 'sync_file wait',
): Promise<SettledStatus> {
  const { signal } = checkWaitOptions(options);
  if (signal?.aborted) throw abortReason(signal);
  for (;;) {
    const status = fenceStatus(target);
    if (status.state !== 'active') return status;
    await waitFd(target, PollEvents.READABLE, options, what);
  }
}

// SYNC_IOC_FILE_INFO answers only on a sync_file (ENOTTY elsewhere).
function checkSyncFile(fd: number): void {
  checkFdKind(fd, 'a sync_file', () => binding.status(fd));
}

let construct!: (fd: number, options: FdObjectOptions) => SyncFile;

export class SyncFile extends FdObject {
  static {
    construct = (fd, options) => new SyncFile(fd, options);
  }

  private constructor(fd: number, options: FdObjectOptions) {
    super(fd, options);
  }

  /**
   * Take ownership of a sync_file fd from elsewhere (a driver, SCM_RIGHTS, a parent process). WrongFdError
   * (its cause the kernel's ENOTTY) for an fd that is not a sync_file, before taking it over.
   */
  static adopt(fd: number): SyncFile {
    const n = fdOf(fd);
    checkSyncFile(n);
    return construct(core.adopt(n), { owned: true });
  }

  /** Use a sync_file fd that someone else owns and will close. */
  static borrow(target: FdLike): SyncFile {
    const n = fdOf(target);
    checkSyncFile(n);
    return construct(n, { owned: false });
  }

  /** An owned duplicate of any sync_file fd (the same fences). */
  static dup(target: FdLike): SyncFile {
    const n = fdOf(target);
    checkSyncFile(n);
    return ownNewSyncFile(core.dup(n));
  }

  /** active, signaled, or error (signalled with an errno). */
  get status(): FenceStatus {
    return fenceStatus(this);
  }

  /** The sync_file's name and status, and every fence in it with its timeline, driver, status and timestamp. */
  info(): SyncFileInfo {
    return fenceInfo(this);
  }

  /** CLOCK_MONOTONIC ns at which the last of its fences signalled; undefined while active. */
  get signaledAtNs(): bigint | undefined {
    return signaledAtNs(this);
  }

  /**
   * A new SyncFile that signals once both this and `other` have (SYNC_IOC_MERGE). Fences already signalled are
   * dropped and, per timeline, only the latest point is kept. `other` is any sync_file fd; this one stays open.
   */
  merge(other: FdLike, name = ''): SyncFile {
    checkFenceName(name);
    return ownNewSyncFile(binding.merge(this.fd, fdOf(other, 'other'), name));
  }

  /**
   * Resolves with the final status once every fence has signalled ({ state: 'error' } when one failed);
   * rejects with TimeoutError, the AbortSignal's reason, or ClosedError when this SyncFile is closed.
   */
  wait(options?: WaitOptions): Promise<SettledStatus> {
    return waitFence(this, options, 'SyncFile.wait');
  }

  /** For scripts only: blocks the whole thread (timers, I/O, everything) until signalled or timed out. */
  waitSync(options: { timeoutMs?: number } = {}): SettledStatus {
    const { timeoutMs, signal } = checkWaitOptions(options);
    if (signal) throw new TypeError('waitSync cannot be aborted: use wait() for an AbortSignal');
    const { POLLIN, POLLERR, POLLNVAL } = binding.constants;
    for (;;) {
      const status = this.status;
      if (status.state !== 'active') return status;
      const revents = binding.poll(this.fd, POLLIN, timeoutMs ?? -1);
      if (revents === 0) throw new TimeoutError('SyncFile.waitSync', timeoutMs ?? 0);
      if (revents & POLLNVAL) throw new KernelError({ errno: errnoNumber('EBADF'), syscall: 'poll' });
      if (revents & POLLERR) throw new KernelError({ errno: errnoNumber('EIO'), syscall: 'poll' });
    }
  }
}

/**
 * An owned SyncFile for an fd an ioctl has just returned (merge, export, createFence, an atomic commit's out-fence):
 * no probe, the ioctl vouches. It does not close the fd if it throws: the adopter for adoptOrClose/adoptAllOrClose.
 */
export function syncFileOfNewFd(fd: number): SyncFile {
  return construct(core.own(fd), { owned: true });
}

/** syncFileOfNewFd, closing the fd if that fails. */
export function ownNewSyncFile(fd: number): SyncFile {
  return adoptOrClose(fd, syncFileOfNewFd);
}
