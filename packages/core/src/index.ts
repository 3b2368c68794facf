// @zcopy/core, the public API: owned fds, typed kernel errors, waits, mappings. What addon authors need on top
// (the raw addon, the binary loader, pinning, the waiter and pump primitives, hint registration) is in
// @zcopy/core/internal.
import { native } from './native.js';

export {
  activePollers,
  type BlockingOptions,
  PollEvents,
  PollFlags,
  type WaitOptions,
  waitFd,
  waitFdBlocking,
  waitReadable,
  waitWritable,
} from './async.js';
export {
  ClosedError,
  errnoName,
  errnoNumber,
  KernelError,
  type KernelErrorInfo,
  TimeoutError,
  WrongFdError,
  ZcopyError,
} from './errors.js';
export { Fd, type FdLike, FdObject, type FdObjectOptions, fdOf } from './fd.js';
export { type CharDevice, charDeviceOf, describeFd } from './fd-kind.js';
export {
  EventFd,
  type EventFdOptions,
  type HugePageSize,
  Memfd,
  type MemfdOptions,
  type Seal,
} from './memfd.js';
export { liveMappings, type MapAccess, type MapOptions, Mapping } from './memory.js';
export {
  type FdKind,
  MAX_FDS_PER_MESSAGE,
  type Received,
  type ReceiveOptions,
  receiveFds,
  type SendOptions,
  sendFds,
  UnixServer,
  UnixSocket,
  type UnixSocketType,
} from './socket.js';

/** Fds opened or adopted through the core and not yet closed (for leak tests). */
export function openFdCount(): number {
  return native.trackedFds().length;
}
