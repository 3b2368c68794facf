// Typed view of the pv-display addon: the displif pages read and written with the header's structs
// (native/rings.cc). Raw: pages and indexes in, decoded objects and new indexes out; no policy here.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBinding } from '@zcopy/core/internal';

/** A request as the native side decoded it from a private copy of its ring slot. */
export interface RawRequest {
  id: number;
  operation: number;
  dbufCookie?: bigint;
  fbCookie?: bigint;
  width?: number;
  height?: number;
  bpp?: number;
  bufferSize?: number;
  flags?: number;
  grefDirectory?: number;
  dataOffset?: number;
  pixelFormat?: number;
  x?: number;
  y?: number;
}

export interface RawResponse {
  id: number;
  operation: number;
  status: number;
  edidSize?: number;
}

export interface RawEvent {
  id: number;
  type: number;
  fbCookie: bigint;
}

export type PvDisplayConstants = Record<
  | 'RING_SIZE'
  | 'IN_RING_LEN'
  | 'GREFS_PER_DIR_PAGE'
  | 'PAGE_SIZE'
  | 'OP_DBUF_CREATE'
  | 'OP_DBUF_DESTROY'
  | 'OP_FB_ATTACH'
  | 'OP_FB_DETACH'
  | 'OP_SET_CONFIG'
  | 'OP_PG_FLIP'
  | 'OP_GET_EDID'
  | 'EVT_PG_FLIP'
  | 'DBUF_FLG_REQ_ALLOC'
  | 'EDID_MAX_SIZE'
  | 'PROTOCOL_VERSION'
  | 'XEN_EPERM'
  | 'XEN_ENOENT'
  | 'XEN_EIO'
  | 'XEN_E2BIG'
  | 'XEN_ENOMEM'
  | 'XEN_EFAULT'
  | 'XEN_EBUSY'
  | 'XEN_EEXIST'
  | 'XEN_EINVAL'
  | 'XEN_ENOSPC'
  | 'XEN_ERANGE'
  | 'XEN_ENOSYS'
  | 'XEN_EOPNOTSUPP'
  | 'XEN_EOVERFLOW',
  number
>;

export interface PvDisplayBinding {
  reqConsume(
    page: Uint8Array,
    reqCons: number,
    max: number,
  ): { reqProd: number; reqCons: number; requests: RawRequest[]; overrun: boolean };
  finalCheckRequests(page: Uint8Array, reqCons: number): boolean;
  respond(
    page: Uint8Array,
    rspProdPvt: number,
    id: number,
    operation: number,
    status: number,
    edidSize: number,
  ): boolean;
  evtPush(page: Uint8Array, inProd: number, id: number, type: number, fbCookie: bigint): 'ok' | 'full';
  dirRead(page: Uint8Array): { next: number; refs: Uint32Array };
  dirWrite(page: Uint8Array, refs: Uint32Array): void;
  dirInit(page: Uint8Array, next: number, refs: Uint32Array): void;
  /** SHARED_RING_INIT of a request ring page (never an event page: see frontEventsInit). */
  frontInit(page: Uint8Array): void;
  /** An event page as the Linux frontend starts it: zeroed. */
  frontEventsInit(page: Uint8Array): void;
  frontPush(
    page: Uint8Array,
    reqProdPvt: number,
    request: RawRequest | Uint8Array,
  ): { reqProdPvt: number; notify: boolean };
  frontSetReqProd(page: Uint8Array, reqProd: number): void;
  frontResponses(page: Uint8Array, rspCons: number): { rspCons: number; responses: RawResponse[] };
  frontEvents(page: Uint8Array): RawEvent[];
  constants: PvDisplayConstants;
}

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const binding: PvDisplayBinding = loadBinding<PvDisplayBinding>(packageDir, 'zcopy_pv_display');
export const C: PvDisplayConstants = binding.constants;
