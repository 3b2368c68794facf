export { type DmaBacking, dmaBackingSupport } from '@zcopy/balloon-dma';
export {
  CPU_ACCESS_PARAM,
  cpuAccessHint,
  type ExportCpuAccess,
  exportCpuAccess,
  GrantDmaBuf,
  setExportCpuAccess,
} from './cpu-access.js';
export { EXPORT_EINVAL_TRANSLATED, GUEST_TYPE_PATH, guestType, NOT_AUTO_TRANSLATED } from './errors.js';
export {
  type ExportOptions,
  GNTDEV_PATH,
  GntdevDmabuf,
  ImportedRefs,
  PAGE_SIZE,
  type ReleaseResult,
} from './gntdev-dmabuf.js';
