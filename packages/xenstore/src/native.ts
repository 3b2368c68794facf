// Typed view of the xenstore addon: wire constants from xs_wire.h and raw socket/fd I/O.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBinding } from '@zcopy/core/internal';

export type XsType =
  | 'XS_CONTROL'
  | 'XS_DIRECTORY'
  | 'XS_READ'
  | 'XS_GET_PERMS'
  | 'XS_WATCH'
  | 'XS_UNWATCH'
  | 'XS_TRANSACTION_START'
  | 'XS_TRANSACTION_END'
  | 'XS_INTRODUCE'
  | 'XS_RELEASE'
  | 'XS_GET_DOMAIN_PATH'
  | 'XS_WRITE'
  | 'XS_MKDIR'
  | 'XS_RM'
  | 'XS_SET_PERMS'
  | 'XS_WATCH_EVENT'
  | 'XS_ERROR'
  | 'XS_IS_DOMAIN_INTRODUCED'
  | 'XS_RESUME'
  | 'XS_SET_TARGET'
  | 'XS_RESET_WATCHES'
  | 'XS_DIRECTORY_PART';

export interface XenstoreBinding {
  connectUnix(path: string): number;
  /** Bytes read, 0 at end of stream, -EAGAIN when nothing is ready. */
  readSome(fd: number, buffer: Uint8Array): number;
  /** Bytes written, -EAGAIN when the socket is full. */
  writeSome(fd: number, buffer: Uint8Array): number;
  types: Record<XsType, number>;
  constants: Record<
    | 'HEADER_SIZE'
    | 'XENSTORE_PAYLOAD_MAX'
    | 'XENSTORE_ABS_PATH_MAX'
    | 'XENSTORE_REL_PATH_MAX'
    | 'XS_WATCH_PATH'
    | 'XS_WATCH_TOKEN',
    number
  >;
  /** xsd_errors: the error names xenstored sends, with this system's errno. */
  errors: Record<string, number>;
}

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const binding: XenstoreBinding = loadBinding<XenstoreBinding>(packageDir, 'zcopy_xenstore');
