// @zcopy/dma-fence/internal: for the authors of zcopy addon packages whose ioctls return sync_files (not for
// their users).
export { ownNewSyncFile, syncFileOfNewFd } from './sync-file.js';
