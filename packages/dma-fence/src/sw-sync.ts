// sw_sync: software timelines from debugfs. FOR TESTS AND DEBUGGING ONLY: the kernel warns that misuse can
// deadlock drivers waiting on these fences, and the interface is not UAPI (it needs debugfs and root).
import { constants } from 'node:fs';
import { type FdLike, FdObject, type FdObjectOptions, fdOf } from '@zcopy/core';
import { adoptOrClose, checkFdKind, native as core, withErrorContext } from '@zcopy/core/internal';
import './hints.js';
import { binding } from './native.js';
import { checkFenceName, ownNewSyncFile, type SyncFile } from './sync-file.js';

export const SW_SYNC_PATH = '/sys/kernel/debug/sync/sw_sync';

// SW_SYNC_IOC_INC by 0 is a no-op on a timeline and ENOTTY on any other file: the check that an fd is one.
function checkTimeline(fd: number): void {
  checkFdKind(fd, 'a sw_sync timeline', () => binding.swSyncInc(fd, 0));
}

/**
 * A 32-bit counter, starting at 0, with fences on it: the fence for value v signals once the counter
 * reaches v. Each open() is a new timeline; close() signals its pending fences with ENOENT.
 */
export class SwSyncTimeline extends FdObject {
  private constructor(fd: number, options: FdObjectOptions) {
    super(fd, options);
  }

  /**
   * A new timeline (each open of sw_sync is one). The file opened is checked at once: a path that is not
   * sw_sync (e.g. /dev/null) is a WrongFdError naming what it is, and is closed again.
   */
  static open(path: string = SW_SYNC_PATH): SwSyncTimeline {
    if (typeof path !== 'string') throw new TypeError('path must be a string');
    // ENOENT, EACCES, EPERM: the hint says where sw_sync lives (hints.ts).
    const fd = withErrorContext({ swSync: true }, () => core.open(path, constants.O_RDWR));
    return adoptOrClose(fd, (n) => {
      checkTimeline(n);
      return new SwSyncTimeline(n, { owned: true });
    });
  }

  /**
   * Take ownership of a timeline fd from elsewhere (a parent process, SCM_RIGHTS). Checked first (WrongFdError
   * if it is not a sw_sync timeline; the fd then stays the caller's).
   */
  static adopt(fd: number): SwSyncTimeline {
    const n = fdOf(fd);
    checkTimeline(n);
    return new SwSyncTimeline(core.adopt(n), { owned: true });
  }

  /** Use a timeline fd someone else owns and will close. */
  static borrow(target: FdLike): SwSyncTimeline {
    const n = fdOf(target);
    checkTimeline(n);
    return new SwSyncTimeline(n, { owned: false });
  }

  /** An owned duplicate fd of the same timeline: the timeline lives on until every fd of it is closed. */
  static dup(target: FdLike): SwSyncTimeline {
    const n = fdOf(target);
    checkTimeline(n);
    return adoptOrClose(core.dup(n), (d) => new SwSyncTimeline(d, { owned: true }));
  }

  /**
   * A fence that signals when the timeline reaches `value` (at once if it already has).
   * Linux 6.1's sw_sync ignores the name it is given, so a `name` is set the way the sync_file ABI allows:
   * the fence is merged with itself into a sync_file of that name (same single fence).
   */
  createFence(value: number, name?: string): SyncFile {
    if (!Number.isInteger(value)) throw new TypeError(`value must be an integer, got ${value}`);
    if (value < 0 || value > 0xffffffff) throw new RangeError(`value must be within 0..2^32-1, got ${value}`);
    if (name !== undefined) checkFenceName(name);
    const fence = ownNewSyncFile(binding.swSyncCreateFence(this.fd, value, name ?? ''));
    if (!name) return fence;
    try {
      return fence.merge(fence, name);
    } finally {
      fence.close();
    }
  }

  /** Advances the counter by n (default 1), signalling every fence it reaches. */
  inc(n = 1): void {
    if (!Number.isInteger(n)) throw new TypeError(`n must be an integer, got ${n}`);
    if (n < 0 || n > 0xffffffff) throw new RangeError(`n must be within 0..2^32-1, got ${n}`);
    binding.swSyncInc(this.fd, n);
  }
}
