// @zcopy/dma-fence: sync_file fences, sw_sync timelines and implicit dma-buf fences, with waits that are
// Promises resolved by the event loop (uv_poll), never a blocked thread.
export { type DmaBufAccess, exportSyncFile, importSyncFile, isIdle, waitIdle } from './implicit.js';
export type { FenceStatus, SettledStatus } from './status.js';
export { SW_SYNC_PATH, SwSyncTimeline } from './sw-sync.js';
export {
  FENCE_NAME_MAX,
  type FenceInfo,
  fenceInfo,
  fenceStatus,
  SyncFile,
  type SyncFileInfo,
  signaledAtNs,
  waitFence,
} from './sync-file.js';
export { type WaitAnyResult, waitAll, waitAny } from './wait.js';
