export { DMA_BACKINGS, type DmaBacking, type DmaFlagValues, dmaBackingFlags } from './backing.js';
export { BALLOON_SYSFS, type BalloonState, balloonState } from './balloon.js';
export {
  type ConfigState,
  configOption,
  type DmaBackingSupport,
  dmaBackingSupport,
  readKernelConfig,
} from './support.js';
