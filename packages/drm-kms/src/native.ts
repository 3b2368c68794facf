// Typed view of the drm-kms addon (raw: fd and object ids in, plain values out; validation and policy live in TS).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BlockingHandle, loadBinding } from '@zcopy/core/internal';

/** struct drm_mode_modeinfo, field by field (camelCase). */
export interface RawMode {
  clock: number;
  hdisplay: number;
  hsyncStart: number;
  hsyncEnd: number;
  htotal: number;
  hskew: number;
  vdisplay: number;
  vsyncStart: number;
  vsyncEnd: number;
  vtotal: number;
  vscan: number;
  vrefresh: number;
  flags: number;
  type: number;
  name: string;
}

export interface RawResources {
  fbs: number[];
  crtcs: number[];
  connectors: number[];
  encoders: number[];
  minWidth: number;
  maxWidth: number;
  minHeight: number;
  maxHeight: number;
}

export interface RawConnector {
  id: number;
  type: number;
  typeId: number;
  connection: number;
  encoderId: number;
  mmWidth: number;
  mmHeight: number;
  subpixel: number;
  encoders: number[];
  modes: RawMode[];
}

export interface RawEncoder {
  id: number;
  type: number;
  crtcId: number;
  possibleCrtcs: number;
  possibleClones: number;
}

export interface RawCrtc {
  id: number;
  fbId: number;
  x: number;
  y: number;
  gammaSize: number;
  mode: RawMode | null;
}

export interface RawPlane {
  id: number;
  crtcId: number;
  fbId: number;
  possibleCrtcs: number;
  gammaSize: number;
  formats: number[];
}

export interface RawProperty {
  id: number;
  name: string;
  flags: number;
  values: bigint[];
  enums: { value: bigint; name: string }[];
}

export interface RawEvent {
  type: number;
  userData?: number | bigint;
  tvSec?: number;
  tvUsec?: number;
  sequence?: number | bigint;
  crtcId?: number;
  timeNs?: bigint;
}

export interface KmsBinding {
  getResources(fd: number): RawResources;
  getConnector(fd: number, id: number): RawConnector;
  getEncoder(fd: number, id: number): RawEncoder;
  getCrtc(fd: number, id: number): RawCrtc;
  getPlaneResources(fd: number): number[];
  getPlane(fd: number, id: number): RawPlane;
  setMaster(fd: number): void;
  dropMaster(fd: number): void;

  objGetProperties(fd: number, objId: number, objType: number): { ids: number[]; values: bigint[] };
  getProperty(fd: number, propId: number): RawProperty;
  getPropBlob(fd: number, blobId: number): Buffer;
  getModeBlob(fd: number, blobId: number): RawMode;
  createPropBlob(fd: number, data: Uint8Array): number;
  createModeBlob(fd: number, mode: RawMode): number;
  destroyPropBlob(fd: number, blobId: number): void;

  addFb2(
    fd: number,
    width: number,
    height: number,
    format: number,
    flags: number,
    handles: Uint32Array,
    pitches: Uint32Array,
    offsets: Uint32Array,
    modifiers: BigUint64Array,
  ): number;
  rmFb(fd: number, fbId: number): void;

  /** Returns one fd per fence slot (-1 where the kernel made none). */
  atomicCommit(
    fd: number,
    flags: number,
    objs: Uint32Array,
    counts: Uint32Array,
    props: Uint32Array,
    values: BigUint64Array,
    fenceSlots: Uint32Array,
    userData: number,
  ): number[];
  atomicCommitBlocking(
    fd: number,
    flags: number,
    objs: Uint32Array,
    counts: Uint32Array,
    props: Uint32Array,
    values: BigUint64Array,
    fenceSlots: Uint32Array,
    userData: number,
  ): BlockingHandle<number[]>;

  /** Whole events waiting on the fd (empty when none: never blocks). */
  readEvents(fd: number): RawEvent[];

  objectTypes: Record<
    'CRTC' | 'CONNECTOR' | 'ENCODER' | 'MODE' | 'PROPERTY' | 'FB' | 'BLOB' | 'PLANE' | 'ANY',
    number
  >;
  connectorTypes: Record<string, number>;
  encoderTypes: Record<string, number>;
  propFlags: Record<
    | 'PENDING'
    | 'RANGE'
    | 'IMMUTABLE'
    | 'ENUM'
    | 'BLOB'
    | 'BITMASK'
    | 'LEGACY_TYPE'
    | 'EXTENDED_TYPE'
    | 'OBJECT'
    | 'SIGNED_RANGE'
    | 'ATOMIC',
    number
  >;
  atomicFlags: Record<
    'PAGE_FLIP_EVENT' | 'ATOMIC_TEST_ONLY' | 'ATOMIC_NONBLOCK' | 'ATOMIC_ALLOW_MODESET',
    number
  >;
  eventTypes: Record<'VBLANK' | 'FLIP_COMPLETE' | 'CRTC_SEQUENCE', number>;
  modeTypes: Record<'PREFERRED' | 'USERDEF' | 'DRIVER', number>;
  connection: Record<'connected' | 'disconnected' | 'unknown', number>;
  formats: Record<string, number>;
  FORMAT_MOD_LINEAR: bigint;
  FB_MODIFIERS: number;
  DISPLAY_MODE_LEN: number;
}

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const binding: KmsBinding = loadBinding<KmsBinding>(packageDir, 'zcopy_drm_kms');
