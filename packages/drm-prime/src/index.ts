// @zcopy/drm-prime: DRM devices (open, discovery, driver version, caps). Dumb buffers and PRIME
// import/export build on DrmDevice in files of their own.
export type { DrmBinding, RawVersion } from './binding.js';
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
  isKernelError,
  type PrimeCaps,
  renderOnlyCaps,
} from './caps.js';
export { DrmDevice, type DrmVersion } from './device.js';
export { type DrmNodeInfo, type ListOptions, listDrmNodes } from './discovery.js';
export {
  charDeviceNumber,
  type DrmBus,
  type DrmNode,
  type DrmNodeType,
  type DrmPciInfo,
  describeNode,
  type SysfsOptions,
} from './node.js';
