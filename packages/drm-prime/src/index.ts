// @zcopy/drm-prime: DRM devices (open, discovery, driver version, caps), dumb buffers, PRIME import/export with
// GEM handles reference counted per device fd, and vgem fences for implicit-fence tests.

export {
  clientCapValue,
  DrmCap,
  type DrmCapName,
  type DrmCaps,
  DrmClientCap,
  type DrmClientCapName,
  decodePrimeCaps,
  drmCapNames,
  drmCapNumber,
  drmClientCapNames,
  drmClientCapNumber,
  type PrimeCaps,
  renderOnlyCaps,
} from './caps.js';
export { DrmDevice, type DrmVersion } from './device.js';
export { type DrmNodeInfo, type ListOptions, listDrmNodes } from './discovery.js';
export { checkDumbOptions, DumbBuffer, type DumbBufferOptions, type DumbMapOptions } from './dumb.js';
export { GemHandle } from './handles.js';
export type { DrmBinding, RawDumb, RawVersion } from './native.js';
export {
  charDeviceNumber,
  type DrmBus,
  type DrmNode,
  type DrmNodeType,
  type DrmPciInfo,
  describeNode,
  type SysfsOptions,
} from './node.js';
export type { PrimeExportOptions } from './prime.js';
export { VgemFence, type VgemFenceAccess } from './vgem.js';
