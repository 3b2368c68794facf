export { type CpuAccess, CpuAccessScope } from './cpu-access.js';
export {
  checkDmaBufName,
  DMA_BUF_NAME_MAX,
  DmaBuf,
  type DmaBufMapOptions,
  PAGE_SIZE,
  type SeekWhence,
} from './dma-buf.js';
export type { DmaBufInfo } from './fdinfo.js';
