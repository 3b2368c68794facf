import { native } from './native.js';

export {
  activePollers,
  type BlockingOptions,
  checkWaitOptions,
  PollEvents,
  PollFlags,
  runBlocking,
  type WaitOptions,
  waitFd,
  waitFdBlocking,
  waitReadable,
  waitWritable,
} from './async.js';
export { loadBinding } from './binding.js';
export {
  abortReason,
  ClosedError,
  errnoName,
  errnoNumber,
  KernelError,
  type KernelErrorInfo,
  registerHints,
  TimeoutError,
} from './errors.js';
export { Fd, type FdLike, FdObject, type FdObjectOptions, fdOf } from './fd.js';
export { EventFd, type EventFdOptions, Memfd, type MemfdOptions, type Seal } from './memfd.js';
export { liveMappings, type MapAccess, type MapOptions, Mapping } from './memory.js';
export { type BlockingHandle, type CoreBinding, native } from './native.js';

/** Fds opened or adopted through the core and not yet closed (for leak tests). */
export function openFdCount(): number {
  return native.trackedFds().length;
}
