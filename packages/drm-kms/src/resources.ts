// The display pipeline as plain objects: connectors (with modes), encoders, CRTCs and planes, ids cross-linked.
import { ZcopyError } from '@zcopy/core';
import { registerHints } from '@zcopy/core/internal';
import type { DrmMode } from './modes.js';
import { binding, type RawResources } from './native.js';
import type { PropertyCache } from './properties.js';

registerHints('DRM_IOCTL_MODE_GETRESOURCES', {
  EOPNOTSUPP: 'this driver has no modesetting (a render-only driver such as vgem): open a KMS card',
});
registerHints('DRM_IOCTL_MODE_GETCONNECTOR', { ENOENT: 'no connector with this id on this device' });
registerHints('DRM_IOCTL_MODE_GETENCODER', { ENOENT: 'no encoder with this id on this device' });
registerHints('DRM_IOCTL_MODE_GETCRTC', { ENOENT: 'no CRTC with this id on this device' });
registerHints('DRM_IOCTL_MODE_GETPLANE', { ENOENT: 'no plane with this id on this device' });
registerHints('DRM_IOCTL_SET_MASTER', {
  EBUSY: 'another fd (this or another process) is the DRM master of this device',
  EACCES: 'becoming DRM master needs CAP_SYS_ADMIN, or being the fd that was master before',
  EINVAL: 'this fd is already the DRM master',
});
registerHints('DRM_IOCTL_DROP_MASTER', { EINVAL: 'this fd is not the DRM master' });

export type ConnectionStatus = 'connected' | 'disconnected' | 'unknown';
export type PlaneType = 'primary' | 'overlay' | 'cursor';

export interface Connector {
  id: number;
  /** DRM_MODE_CONNECTOR_* number. */
  type: number;
  /** The kernel's name of the type: 'Virtual', 'Writeback', 'HDMI-A', 'DP', … */
  typeName: string;
  /** The kernel's connector name: typeName-typeId, e.g. 'Virtual-1'. */
  name: string;
  status: ConnectionStatus;
  /** A writeback connector (captures what a CRTC composes into a framebuffer). */
  writeback: boolean;
  /** The modes it offers, the preferred one flagged in `type` (see preferredMode). */
  modes: DrmMode[];
  /** Encoders that can drive it. */
  encoders: number[];
  /** The encoder driving it now (0: none). */
  encoderId: number;
  /** CRTCs that can feed it (through any of its encoders). */
  possibleCrtcs: number[];
  mmWidth: number;
  mmHeight: number;
}

export interface Encoder {
  id: number;
  type: number;
  typeName: string;
  /** The CRTC feeding it now (0: none). */
  crtcId: number;
  possibleCrtcs: number[];
  /** Encoders that may share a CRTC with it (itself included); connectors whose encoders are not clones cannot. */
  possibleClones: number[];
}

export interface Crtc {
  id: number;
  /** Position in the device's CRTC list (the bit of possible_crtcs masks). */
  index: number;
  /** The framebuffer of its primary plane now (0: none). */
  fbId: number;
  /** The mode it scans out now; null while off. */
  mode: DrmMode | null;
  gammaSize: number;
}

export interface Plane {
  id: number;
  /** From the plane's immutable "type" property. */
  type: PlaneType;
  /** Pixel formats it scans out (fourcc numbers; see fourccName). */
  formats: number[];
  possibleCrtcs: number[];
  /** Where it is attached now (0: nowhere). */
  crtcId: number;
  fbId: number;
}

export interface KmsResources {
  crtcs: Crtc[];
  connectors: Connector[];
  encoders: Encoder[];
  planes: Plane[];
  /** Framebuffers this fd created and still holds (GETRESOURCES lists only the caller's own). */
  fbs: number[];
  minWidth: number;
  maxWidth: number;
  minHeight: number;
  maxHeight: number;
}

const connectorTypeNames = new Map(Object.entries(binding.connectorTypes).map(([k, v]) => [v, k]));
const encoderTypeNames = new Map(Object.entries(binding.encoderTypes).map(([k, v]) => [v, k]));
const statusNames = new Map(Object.entries(binding.connection).map(([k, v]) => [v, k as ConnectionStatus]));

export function connectorTypeName(type: number): string {
  return connectorTypeNames.get(type) ?? `Type${type}`;
}

/** The ids a possible_crtcs (or possible_clones) mask names (bit i: the i-th id of GETRESOURCES's list). */
export function crtcsOfMask(mask: number, crtcIds: readonly number[]): number[] {
  return crtcIds.filter((_, i) => i < 32 && (mask >>> i) & 1);
}

export function readEncoder(
  fd: number,
  id: number,
  crtcIds: readonly number[],
  encoderIds: readonly number[],
): Encoder {
  const e = binding.getEncoder(fd, id);
  return {
    id: e.id,
    type: e.type,
    typeName: encoderTypeNames.get(e.type) ?? `Type${e.type}`,
    crtcId: e.crtcId,
    possibleCrtcs: crtcsOfMask(e.possibleCrtcs, crtcIds),
    // possible_clones is a mask of encoder indices, as possible_crtcs is of CRTC indices
    possibleClones: crtcsOfMask(e.possibleClones, encoderIds),
  };
}

export function readConnector(
  fd: number,
  id: number,
  crtcIds: readonly number[],
  encoderIds: readonly number[],
  encoders?: Encoder[],
): Connector {
  const c = binding.getConnector(fd, id);
  const typeName = connectorTypeName(c.type);
  const possible = new Set<number>();
  for (const eid of c.encoders) {
    const enc = encoders?.find((e) => e.id === eid) ?? readEncoder(fd, eid, crtcIds, encoderIds);
    for (const crtc of enc.possibleCrtcs) possible.add(crtc);
  }
  return {
    id: c.id,
    type: c.type,
    typeName,
    name: `${typeName}-${c.typeId}`,
    status: statusNames.get(c.connection) ?? 'unknown',
    writeback: c.type === binding.connectorTypes['Writeback'],
    modes: c.modes,
    encoders: c.encoders,
    encoderId: c.encoderId,
    possibleCrtcs: crtcIds.filter((x) => possible.has(x)),
    mmWidth: c.mmWidth,
    mmHeight: c.mmHeight,
  };
}

export function readCrtc(fd: number, id: number, crtcIds: readonly number[]): Crtc {
  const c = binding.getCrtc(fd, id);
  return { id: c.id, index: crtcIds.indexOf(c.id), fbId: c.fbId, mode: c.mode, gammaSize: c.gammaSize };
}

export function readPlane(fd: number, id: number, crtcIds: readonly number[], props: PropertyCache): Plane {
  const p = binding.getPlane(fd, id);
  const type = props.read(fd, id, binding.objectTypes.PLANE).get('type')?.enumName?.toLowerCase();
  if (type !== 'primary' && type !== 'overlay' && type !== 'cursor')
    throw new ZcopyError(
      'ERR_ZCOPY_NO_PROPERTY',
      `plane ${id} has no "type" property (is DRM_CLIENT_CAP_UNIVERSAL_PLANES set?)`,
    );
  return {
    id: p.id,
    type,
    formats: p.formats,
    possibleCrtcs: crtcsOfMask(p.possibleCrtcs, crtcIds),
    crtcId: p.crtcId,
    fbId: p.fbId,
  };
}

export function readResources(fd: number, props: PropertyCache): KmsResources {
  const r: RawResources = binding.getResources(fd);
  const encoders = r.encoders.map((id) => readEncoder(fd, id, r.crtcs, r.encoders));
  return {
    crtcs: r.crtcs.map((id) => readCrtc(fd, id, r.crtcs)),
    connectors: r.connectors.map((id) => readConnector(fd, id, r.crtcs, r.encoders, encoders)),
    encoders,
    planes: binding.getPlaneResources(fd).map((id) => readPlane(fd, id, r.crtcs, props)),
    fbs: r.fbs,
    minWidth: r.minWidth,
    maxWidth: r.maxWidth,
    minHeight: r.minHeight,
    maxHeight: r.maxHeight,
  };
}
