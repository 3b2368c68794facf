// @zcopy/drm-kms: just enough KMS for a display backend — connectors, CRTCs, planes and modes; properties and
// blobs; framebuffers from GEM handles; atomic commits; page flips as Promises; writeback capture.
export {
  AtomicRequest,
  type CommitOptions,
  type CommitResult,
  type KmsObjectRef,
  objectId,
  type PropertyInput,
  propertyValue,
} from './atomic.js';
export { type FlipOptions, KmsDevice, type Output, type SetModeOptions, setPlane } from './device.js';
export { type FlipEvent, FlipEvents } from './events.js';
export {
  FORMAT_MOD_LINEAR,
  Format,
  type FormatLayout,
  type FormatName,
  formatLayout,
  formatNames,
  formatNumber,
  fourcc,
  fourccName,
} from './formats.js';
export {
  addFbRuleBroken,
  checkFramebufferOptions,
  DumbFramebuffer,
  Framebuffer,
  type FramebufferOptions,
  type FramebufferPlane,
  type ScanoutLimits,
} from './framebuffer.js';
export {
  type CustomModeOptions,
  checkMode,
  customMode,
  type DrmMode,
  preferredMode,
  refreshRate,
} from './modes.js';
export type { KmsBinding, RawMode } from './native.js';
export { KmsObject } from './owned.js';
export { PropertyBlob, type PropertyInfo, type PropertyKind, type PropertyValue } from './properties.js';
export {
  type ConnectionStatus,
  type Connector,
  type Crtc,
  connectorTypeName,
  crtcsOfMask,
  type Encoder,
  type KmsResources,
  type Plane,
  type PlaneType,
} from './resources.js';
export {
  type CapturedFrame,
  type CaptureOptions,
  WritebackCapture,
  type WritebackHost,
  type WritebackOptions,
} from './writeback.js';
